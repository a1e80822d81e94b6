// Package journal publishes the gateway's events to JetStream and reads them
// back: the events are the journal (DESIGN decision 2).
//
// The accounting engine calls Append while it holds its lock; Append only
// stamps the events (schema, id, gateway) and queues them, so it never waits
// on the network. The caller then releases the lock and waits on the returned
// Commit, answering its client only once the stream has acknowledged every
// event of that Append.
//
// One publisher goroutine drains the queue in bursts: everything pending goes
// out as pipelined publishes on one connection, and the acks of a whole burst
// arrive in one round trip (group commit). A few bursts are in flight at
// once, so the server is never idle while commits complete.
//
// The stream's order must equal the Append order: Replay rebuilds the
// engine's state from it. One publisher on one connection sends in order;
// in addition, every event sent while earlier ones are unacknowledged
// carries Nats-Expected-Last-Msg-Id (its predecessor's id), so if one publish
// is rejected (no responders during a restart or a leader change), the ones
// after it are rejected too instead of being stored ahead of it. A failed
// publish is retried, from the first failure on and in order, with the same
// Nats-Msg-Id, so the stream's duplicate window stores each event once
// however often it is sent.
//
// Encoding and decoding use fast paths that give byte for byte the results
// of encoding/json (codec.go, fuzzed against it): reflection was the largest
// cost on both paths.
package journal
