// Package ledger is the gateway's accounting service: it serializes requests
// to the accounting engine (gateway/seats), journals the events each request
// produced, and answers only once the journal has acknowledged them.
//
// The engine decides under one mutex; the journal batches the events of
// concurrent requests into group commits outside it, so the lock is held for
// microseconds while a request waits milliseconds for its commit. Heartbeats
// change no journaled state and never wait for the journal.
//
// At start the ledger rebuilds the engine from the latest snapshot plus the
// events journaled after it; leases come back with a fresh TTL and queue
// tickets, whose waiters are gone, are dequeued.
//
// Ledger.Seats adapts the ledger to sdk.Seats for one plugin instance, which
// is what the plugin host serves to plugins.
package ledger
