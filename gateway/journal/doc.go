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
// engine's state from it. One publisher on one connection sends in order,
// and every event is fenced (events v2): it carries
// Nats-Expected-Last-Sequence, the sequence its predecessor in this
// writer's history gets, so if one publish is rejected the ones after it
// are rejected too instead of being stored ahead of it, and if another
// writer appends, this one is refused and stops (ErrDeposed). A failed
// publish is retried, from the first failure on and in order, with the same
// Nats-Msg-Id and fence. Each writer's history opens with a term event;
// Replay applies the read rule (readRule) so a deposed writer's stray
// appends are ignored.
//
// Scan (scan.go) reads the same events as Replay in bulk for reports and
// charts: batched direct gets of payloads only, no consumer, about 1.5
// times Replay's events per CPU second.
//
// The journal is a hash chain (events v2): the publisher stamps every event
// with prev, the SHA-256 of the stored payload before it, as it encodes
// events in stream order, and a seal (signed with Config.Signer) follows
// the events at most every Config.SealEvery and at Close. Open verifies the
// stream from its last seal to its end, Replay verifies what it replays
// and applies an event only once the next one confirms it, and Verify and
// Repair walk a whole stream for the CLI (chain.go, seal.go, verify.go).
//
// Encoding and decoding use fast paths that give byte for byte the results
// of encoding/json (codec.go, fuzzed against it): reflection was the largest
// cost on both paths.
package journal
