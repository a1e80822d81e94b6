// Package seats is the accounting engine: a deterministic state machine that
// decides who gets a seat.
//
// Inputs are requests (checkout, heartbeat, checkin, cancel, remove, reload)
// and clock ticks; outputs are decisions and events. The clock is the time
// each call is given and identifiers come from an injected generator, so the
// engine does no I/O and the same inputs always give the same outputs. That is
// what makes it testable with property-based tests and what lets the journal
// rebuild it by replaying its events (Apply).
//
// The engine is not safe for concurrent use: the ledger serializes access.
package seats
