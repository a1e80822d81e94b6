package sentinel

import "sync/atomic"

// Stats counts what the server did with the datagrams it received.
type Stats struct {
	Received    uint64 // datagrams read
	Answered    uint64 // answers sent, retransmitted ones included
	Malformed   uint64 // dropped: not a request of the protocol
	RateLimited uint64 // dropped: over the sender's rate limit
	Retransmits uint64 // state-changing requests seen again: answered from the cache, or dropped while in flight
	Busy        uint64 // dropped: no worker or cache room free
	OverShare   uint64 // dropped: the sender's IP holds its share of the cache (cache_entries_per_ip)
	Silent      uint64 // discoveries of a feature not served here, left unanswered
}

// counters are the live, atomically updated Stats.
type counters struct {
	received, answered, malformed, rateLimited, retransmits, busy, overShare, silent atomic.Uint64
}

func (c *counters) snapshot() Stats {
	return Stats{
		Received:    c.received.Load(),
		Answered:    c.answered.Load(),
		Malformed:   c.malformed.Load(),
		RateLimited: c.rateLimited.Load(),
		Retransmits: c.retransmits.Load(),
		Busy:        c.busy.Load(),
		OverShare:   c.overShare.Load(),
		Silent:      c.silent.Load(),
	}
}

// logArgs makes Stats hclog key/value pairs.
func (s Stats) logArgs() []any {
	return []any{
		"received", s.Received, "answered", s.Answered, "malformed", s.Malformed,
		"rate_limited", s.RateLimited, "retransmits", s.Retransmits, "busy", s.Busy, "over_share", s.OverShare, "silent", s.Silent,
	}
}
