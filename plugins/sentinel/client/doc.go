// Package client is the Go client library of licensegw's Sentinel-style
// UDP protocol (docs/sentinel.md): token checkout, refresh, release,
// commuter tokens, queueing, server discovery and the lsmon queries.
//
// Every call sends one request datagram and retransmits it, with the same
// request id, with exponential backoff until an answer comes or ctx ends;
// the server answers a retransmit from its cache, so a call whose answers
// were lost never takes a second token. A Client makes one call at a time.
//
// Dial takes a server list too ("gw-01,gw-02,gw-03", or LSHOST's
// "gw-01~gw-02"; ServersFromEnv reads LSFORCEHOST and LSHOST): a
// retransmission that follows a silence goes to the next server of the
// list, and an "unavailable" answer sends the request to the next server
// at once. Every send of a call carries the same id from the same socket,
// so the gateway grants a checkout sent to two nodes once.
package client
