// Package concurrentlm is the concurrent-lm (CLM/1) protocol plugin: the
// line protocol on TCP and UDP port 1648 that applications use to check
// floating licences out of the gateway.
//
// New returns the sdk.Protocol; cmd/licensegw-concurrentlm serves it under
// go-plugin. The plugin parses and validates lines (package wire), enforces
// per-client limits, and translates each verb into one sdk.Seats call: the
// gateway's core decides who gets a seat. docs/concurrent-lm.md is the
// protocol document, including every choice the contract left open.
//
// Per TCP connection one goroutine reads, parses and runs requests one after
// the other, so pipelined requests take effect in the order they were sent
// (a CHECKIN then a CHECKOUT finds the seat free); asynchronous EVENT lines
// are queued between answers, and the output is flushed only when the reader
// is about to wait for input, so a pipelining client gets its answers in few
// writes. Connections run concurrently with each other.
package concurrentlm
