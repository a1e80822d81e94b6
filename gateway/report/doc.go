// Package report turns the event stream into the answers licence managers
// buy monitoring tools for: how much of each feature was used (peak and
// when, average, seat-hours, utilisation), who was denied (true denials
// against retries that got a seat soon after), how long queues made people
// wait, and the daily peaks.
//
// A Report is fed events in stream order (Add) and asked for its tables at
// the end; it does no I/O, so the admin API can run it over the journal and
// tests and benchmarks over anything. The whole stream is read, not only the
// requested range: a lease granted before the range still counts while it
// is held inside it, and its holder is only known from its checkout.
//
// Add is the hot path (the stream is read at hundreds of thousands of
// events a second): keys are structs of strings, so no key is built per
// event, and per-lease state is one small map entry.
package report
