// Package cluster makes one gateway of several the leader, on NATS itself
// (DESIGN decision 3; no second coordination system).
//
// Election is for liveness, the journal's fence is for safety. Candidates
// race to create the key "leader" in a replicated KV bucket whose entries
// live for a short TTL; the winner renews it with a compare-and-set on its
// revision and leads while its renewals succeed. A leader that cannot renew
// for longer than StopAfter (measured from when the last successful renewal
// began, on the monotonic clock) stops leading before its key can expire,
// so two nodes never both believe they lead for long; and if one does (a
// paused process), the journal's Nats-Expected-Last-Sequence fence refuses
// its appends once the new leader's term event is stored, so it answers no
// client from then on.
//
// The revision of the winning Create is the election's term: it grows with
// every change of leader, and the lease value names the leader and its
// addresses so that other nodes can point clients and operators at it.
package cluster
