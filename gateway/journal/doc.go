// Package journal publishes the gateway's events to JetStream and reads them
// back: the events are the journal (DESIGN decision 2).
//
// The accounting engine calls Append while it holds its lock; Append only
// stamps the events (schema, id, gateway) and queues them, so it never waits
// on the network. The caller then releases the lock and waits on the returned
// Commit, answering its client only once the stream has acknowledged every
// event of that Append.
//
// One publisher goroutine drains the queue: everything pending goes out as
// one pipelined burst of publishes on a single connection, and one round trip
// acknowledges the whole burst (group commit). A single connection and a
// single publisher keep the stream's order equal to the Append order, which
// Replay relies on to rebuild the engine's state. A publish that fails is
// retried with the same Nats-Msg-Id, so the stream's duplicate window stores
// it once however often it is sent.
package journal
