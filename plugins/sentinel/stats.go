package sentinel

import "github.com/licensegw/licensegw/sdk"

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

// counters are the live Stats, kept as the plugin's own metrics
// (licensegw_plugin_<name>{plugin=...,protocol="sentinel"} on the
// gateway's /metrics). Names and label names are the concurrent-lm
// plugin's where they mean the same, so that one query covers both.
type counters struct {
	received, answered, malformed, rateLimited *sdk.Counter
	cacheHits, inFlight, busy, overShare       *sdk.Counter
	silent                                     *sdk.Counter
}

// newCounters makes the counters in m; nil m gives working counters that
// nobody reports (a plugin run by hand in a test).
func newCounters(m *sdk.Metrics) *counters {
	const dropped = "UDP datagrams left unanswered, by reason: in_flight (a retransmission of a request still being answered), busy (no worker or cache room free), cache_share (the sender's IP holds its share of the answer cache)."
	return &counters{
		received:    m.Counter("udp_datagrams_total", "UDP datagrams received."),
		answered:    m.Counter("udp_answers_total", "UDP answers sent, those repeated from the answer cache included."),
		malformed:   m.Counter("requests_malformed_total", "Requests that did not parse: answered with the protocol's bad-request error, or dropped unanswered where the protocol does not answer them (Sentinel UDP).", "transport", "udp"),
		rateLimited: m.Counter("requests_rate_limited_total", "Requests refused by the per-address rate limit: answered too-many-requests, or dropped unanswered where the protocol does not answer them (Sentinel UDP).", "transport", "udp"),
		cacheHits:   m.Counter("udp_cache_hits_total", "UDP retransmissions answered from the answer cache."),
		inFlight:    m.Counter("udp_dropped_total", dropped, "reason", "in_flight"),
		busy:        m.Counter("udp_dropped_total", dropped, "reason", "busy"),
		overShare:   m.Counter("udp_dropped_total", dropped, "reason", "cache_share"),
		silent:      m.Counter("discoveries_unanswered_total", "Discoveries of a feature this server does not serve, left unanswered so that another server answers."),
	}
}

func (c *counters) snapshot() Stats {
	n := func(c *sdk.Counter) uint64 { return uint64(c.Value()) }
	return Stats{
		Received:    n(c.received),
		Answered:    n(c.answered),
		Malformed:   n(c.malformed),
		RateLimited: n(c.rateLimited),
		Retransmits: n(c.cacheHits) + n(c.inFlight),
		Busy:        n(c.busy),
		OverShare:   n(c.overShare),
		Silent:      n(c.silent),
	}
}

// logArgs makes Stats hclog key/value pairs.
func (s Stats) logArgs() []any {
	return []any{
		"received", s.Received, "answered", s.Answered, "malformed", s.Malformed,
		"rate_limited", s.RateLimited, "retransmits", s.Retransmits, "busy", s.Busy, "over_share", s.OverShare, "silent", s.Silent,
	}
}
