// Package events defines the gateway's event: the JSON payload and the NATS
// subjects fixed by the event contract (docs/events.md).
//
// An event is both what audit consumers read and the gateway's journal: the
// accounting engine emits events, the journal publishes them to JetStream, and
// replaying them rebuilds the engine's state after a restart. Keeping the type
// in its own small package lets the engine, the journal, the admin API and
// consumers share it without importing each other.
package events
