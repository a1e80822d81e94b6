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
// Per TCP connection one goroutine reads and parses lines. A request that
// needs the gateway runs inline when no further complete line is buffered
// (the usual request/response case) and on its own goroutine when the client
// has pipelined more, so pipelined requests overlap; answers are written in
// request order by whichever goroutine completes the head of the queue, and
// the output is flushed only when the reader is about to wait for input.
package concurrentlm
