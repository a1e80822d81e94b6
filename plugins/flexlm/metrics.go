package flexlm

import "github.com/licensegw/licensegw/sdk"

// counters are the plugin's own metrics, reported on the gateway's /metrics
// as licensegw_plugin_<name>{plugin=...,protocol="flexlm"}. Names and
// label names are those of the concurrent-lm plugin where they mean the
// same, so that one query covers both (the gateway drops a sample whose
// name another plugin uses with other label names).
type counters struct {
	conns        *sdk.Counter // connections admitted, both listeners
	connsOpen    *sdk.Gauge
	refusedTotal *sdk.Counter // refused by the connection limits
	refusedPerIP *sdk.Counter
	refusedDown  *sdk.Counter // vendor connections refused while lmdown holds the daemon down
	malformed    *sdk.Counter // frames answered ERROR -4
	idleClosed   *sdk.Counter
}

func newCounters(m *sdk.Metrics) *counters {
	const refused = "TCP connections refused by a connection limit."
	return &counters{
		conns:        m.Counter("connections_total", "TCP connections admitted."),
		connsOpen:    m.Gauge("connections_open", "TCP connections open now."),
		refusedTotal: m.Counter("connections_refused_total", refused, "limit", "max_connections"),
		refusedPerIP: m.Counter("connections_refused_total", refused, "limit", "max_connections_per_ip"),
		refusedDown:  m.Counter("connections_refused_down_total", "Vendor daemon connections refused because lmdown stopped it."),
		malformed:    m.Counter("requests_malformed_total", "Requests that did not parse: answered with the protocol's bad-request error, or dropped unanswered where the protocol does not answer them (Sentinel UDP).", "transport", "tcp"),
		idleClosed:   m.Counter("connections_idle_closed_total", "Connections closed after idle_timeout without a request (what they held was checked in)."),
	}
}
