// Package client is the Go client library of licensegw's Sentinel-style
// UDP protocol (docs/sentinel.md): token checkout, refresh, release,
// commuter tokens, queueing, server discovery and the lsmon queries.
//
// Every call sends one request datagram and retransmits it, with the same
// request id, with exponential backoff until an answer comes or ctx ends;
// the server answers a retransmit from its cache, so a call whose answers
// were lost never takes a second token. A Client makes one call at a time.
package client
