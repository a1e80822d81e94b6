package concurrentlm

import "github.com/licensegw/licensegw/sdk"

// counters are the plugin's own metrics, reported on the gateway's /metrics
// as licensegw_plugin_<name>{plugin=...,protocol="concurrent-lm"}.
type counters struct {
	conns        *sdk.Counter // connections admitted
	connsOpen    *sdk.Gauge
	refusedTotal *sdk.Counter // refused by the connection limits
	refusedPerIP *sdk.Counter
	malformedTCP *sdk.Counter
	malformedUDP *sdk.Counter
	limitedTCP   *sdk.Counter // answered too-many-requests by the rate limit
	limitedUDP   *sdk.Counter
	datagrams    *sdk.Counter
	cacheHits    *sdk.Counter // retransmissions answered from the UDP cache
	udpDropped   *sdk.Counter // datagrams left unanswered (a copy still being answered)
}

func newCounters(m *sdk.Metrics) *counters {
	return &counters{
		conns:        m.Counter("connections_total", "TCP connections admitted."),
		connsOpen:    m.Gauge("connections_open", "TCP connections open now."),
		refusedTotal: m.Counter("connections_refused_total", "TCP connections refused by a connection limit.", "limit", "max_conns"),
		refusedPerIP: m.Counter("connections_refused_total", "TCP connections refused by a connection limit.", "limit", "max_conns_per_ip"),
		malformedTCP: m.Counter("requests_malformed_total", "Requests that did not parse: answered with the protocol's bad-request error, or dropped unanswered where the protocol does not answer them (Sentinel UDP).", "transport", "tcp"),
		malformedUDP: m.Counter("requests_malformed_total", "Requests that did not parse: answered with the protocol's bad-request error, or dropped unanswered where the protocol does not answer them (Sentinel UDP).", "transport", "udp"),
		limitedTCP:   m.Counter("requests_rate_limited_total", "Requests refused by the per-address rate limit: answered too-many-requests, or dropped unanswered where the protocol does not answer them (Sentinel UDP).", "transport", "tcp"),
		limitedUDP:   m.Counter("requests_rate_limited_total", "Requests refused by the per-address rate limit: answered too-many-requests, or dropped unanswered where the protocol does not answer them (Sentinel UDP).", "transport", "udp"),
		datagrams:    m.Counter("udp_datagrams_total", "UDP datagrams received."),
		cacheHits:    m.Counter("udp_cache_hits_total", "UDP retransmissions answered from the answer cache."),
		udpDropped:   m.Counter("udp_dropped_total", "UDP datagrams left unanswered, by reason: in_flight (a retransmission of a request still being answered), busy (no worker or cache room free), cache_share (the sender's IP holds its share of the answer cache).", "reason", "in_flight"),
	}
}
