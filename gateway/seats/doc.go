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
//
// # Pools and versions
//
// A pool is one Feature: vendor, name and version (a feature without vendor
// belongs to events.DefaultVendor). A request names a feature, optionally a
// vendor (none: any vendor) and a minimum version. As in FlexLM, every pool
// of that name at that version or newer is a candidate, and the lowest
// version that can grant does; when several versions could, the lowest one
// is used, keeping newer seats for clients that need them.
//
// # Checks
//
// Each candidate is checked in this order: not-started (now < Start),
// expired (now >= Expiry), excluded (an Exclude subject matches, or Include
// is not empty and none matches), count (more seats asked than the pool
// has), borrow (borrowing not allowed, or longer than MaxBorrow, by default
// DefaultMaxBorrow), limit (a Max policy's subjects would hold more than its
// seats), then seats. When no candidate grants, the denial is that of the
// candidate that passed the most checks, so that a request for which a
// pool exists but is full hears no-seats rather than an older pool's
// expired. No pool of the name: unknown-feature; none new enough: version.
//
// # Reservations
//
// A reservation keeps seats for its subjects: nobody else gets them. There
// are Seats minus all reservations unreserved seats. The seats held by
// clients that match reservations are assigned to those reservations by a
// maximum flow (reserve.go), so a client matching several reservations
// never strands a seat another holder needs, whatever the order of grants;
// what the reservations cannot cover counts against the unreserved seats. A
// request is granted when there are enough free seats and the part of it
// its reservations cannot cover fits in the free unreserved seats. Refused
// only because the free seats are reserved for others, it is denied
// reserved; when there are not enough free seats at all, no-seats.
//
// Lease.Reserved is the lease's share of its signature's covered seats,
// handed out in grant order. The flow is a function of the configuration
// and the seats held, so replaying the journal under the current
// configuration reproduces every share exactly, and a release can only
// lower the unreserved use. PoolStatus.ReservedUse is the flow into each
// reservation.
//
// # Queues
//
// A checkout with a wait, on a pool that queues, that only lacks seats gets a
// ticket (deadline: now + the wait, at most MaxWait). Queues are strict FIFO:
// while tickets wait, a new request is granted only if its own reservation
// covers it entirely; otherwise it queues behind them, or is denied no-seats
// when it does not wait. Whenever seats free (checkin, expiry, removal,
// cancel, timeout, reload) the heads are granted in order while the head
// fits, stopping at the first that does not. A head that can no longer be
// served at all (the licence expired, a reload excluded it, its MAX is
// reached) is dequeued with that reason instead of blocking the queue. Limit
// denials never queue, and borrow requests never queue (a borrower wants the
// licence now, to go offline). More than MaxQueue tickets (DefaultMaxQueue):
// queue-full.
//
// # Leases
//
// A lease lives for its feature's LeaseTTL (DefaultLeaseTTL) after its grant
// or its last heartbeat, and heartbeats use the TTL in force (a reload's new
// TTL applies at the next heartbeat). A borrowed lease needs no heartbeat and
// ends at its borrow end (returned, reason "ended") or when given back
// (returned, no reason). Leases end by Tick: a lease past its expiry that
// Tick has not yet reaped is still live and a heartbeat renews it, so the
// ledger should Tick whenever NextDeadline has passed, before serving
// requests. Ends by expiry (and borrow end) and by removal are remembered
// for the TombstoneCapacity most recent leases, so that GONE carries the
// reason; a lease that was checked in is simply unknown.
//
// # Reload
//
// Reload keeps every lease. A pool the new configuration drops is retired:
// its leases stay until they end, its tickets are dequeued (removed), its
// reservations are dropped, checkouts no longer find it, and it counts zero
// seats (which is also all that replay or a snapshot can know of it). A pool whose
// seats were lowered below those in use keeps its leases and grants nothing
// until fewer seats are in use than exist. Reservation changes are reserved
// and unreserved events whose Count is the reservation's seats and whose
// Reason names its subject as kind=name (and whose User, Host, Display or
// Project is filled for a subject of that kind).
//
// # Events and replay
//
// Every decision appends events to the caller's slice. Events carry the
// pool's counts after the change; no checkout event ever has InUse above
// Seats. Apply replays journaled events into a fresh engine (no decisions,
// no events); Revive then gives every lease a fresh TTL and dequeues every
// ticket, whose waiters' connections died with the old process. State and
// Restore serialize the dynamic state for snapshots.
package seats
