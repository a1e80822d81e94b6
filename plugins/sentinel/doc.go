// Package sentinel is licensegw's Sentinel-style protocol plugin: the
// Sentinel-RMS licensing model (tokens with a lifetime, commuter tokens,
// queueing, group reservations, server discovery, lsmon) on UDP port 5093,
// over the datagram protocol of package wire (docs/sentinel.md).
//
// The plugin translates; the gateway's accounting decides. A checkout is
// Seats.Checkout, a refresh Seats.Heartbeat (the token lifetime is the
// lease TTL), a commuter checkout a checkout with Borrow, a queued checkout
// a checkout with Wait whose ticket the plugin keeps and answers polls
// about. The reservation file becomes core policies in the gateway (package
// rsv); the plugin reads it too, to name reservation groups in lsmon.
//
// UDP makes the rest of the work: a retransmitted request is answered from
// a response cache and never executed twice, answers are never larger than
// three times their request, malformed datagrams are dropped and counted,
// each address is rate-limited, and requests run on a bounded worker pool so
// that a slow gateway never blocks the read loop.
//
// Sub-packages: wire (codec), rsv (reservation files), client (Go client
// library), lsmon (the monitor command).
package sentinel
