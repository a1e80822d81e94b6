// Package loadgen loads a Sentinel-style server with CHECKOUT -> REFRESH
// -> RELEASE cycles of raw datagrams from many clients, and a UDP echo
// server with datagrams of the same sizes, for `licensegw bench`: the same
// closed loop as the concurrent-lm generator
// (plugins/concurrentlm/loadgen), whose Options and Report it shares.
//
// Each client has its own socket and one request outstanding; a request
// not answered within a retransmission timeout is sent again with the same
// id (the server answers a retransmission from its cache, never twice), as
// plugins/sentinel/client does. Every answer is decoded and checked.
package loadgen
