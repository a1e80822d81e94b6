package relay

import (
	"net"
	"net/http"
	"strconv"

	"github.com/licensegw/licensegw/sdk"
)

// answerStatuses are the statuses the plugin answers; each has its own
// series of answers_total, made before serving so that counting an answer
// is one atomic add.
var answerStatuses = []int{
	http.StatusOK, http.StatusCreated, http.StatusAccepted, http.StatusNoContent,
	http.StatusBadRequest, http.StatusForbidden, http.StatusNotFound, http.StatusMethodNotAllowed,
	http.StatusConflict, http.StatusGone, http.StatusTooManyRequests, http.StatusRequestHeaderFieldsTooLarge,
	http.StatusInternalServerError, http.StatusServiceUnavailable,
}

// meters are the plugin's metrics (licensegw_plugin_* on the gateway's
// /metrics).
type meters struct {
	m       *sdk.Metrics
	answers map[int]*sdk.Counter
	nodes   *sdk.Gauge
	// Named as the other plugins' where they mean the same, so that one
	// query covers every plugin (the gateway drops a sample whose name
	// another plugin uses with other label names).
	conns, limited *sdk.Counter
	connsOpen      *sdk.Gauge
}

func newMeters(m *sdk.Metrics) *meters {
	ms := &meters{m: m, answers: make(map[int]*sdk.Counter, len(answerStatuses))}
	for _, st := range answerStatuses {
		ms.answers[st] = m.Counter("answers_total", "Answers by HTTP status: 201 claims, 202 heartbeats, 204 releases, 410 no licence free, 4xx bad requests.", "status", strconv.Itoa(st))
	}
	ms.nodes = m.Gauge("nodes", "Nodes holding a lease, as of the last cull.")
	ms.conns = m.Counter("connections_total", "TCP connections admitted.")
	ms.connsOpen = m.Gauge("connections_open", "TCP connections open now.")
	ms.limited = m.Counter("requests_rate_limited_total", "Requests refused by the per-address rate limit: answered too-many-requests, or dropped unanswered where the protocol does not answer them (Sentinel UDP).", "transport", "http")
	return ms
}

// connState counts connections as the HTTP server sees them open and
// close (http.Server.ConnState). Hijacked connections are not used.
func (ms *meters) connState(_ net.Conn, st http.ConnState) {
	switch st {
	case http.StateNew:
		ms.conns.Inc()
		ms.connsOpen.Add(1)
	case http.StateClosed, http.StateHijacked:
		ms.connsOpen.Add(-1)
	}
}

func (ms *meters) answered(status int) {
	if c := ms.answers[status]; c != nil {
		c.Inc()
	}
}

func (ms *meters) count(status int) int64 {
	if c := ms.answers[status]; c != nil {
		return int64(c.Value())
	}
	return 0
}

// files sets the licence-file gauges of pool.
func (ms *meters) files(pool string, free, held, aside int) {
	const help = "Licence files by state: free, held by a node, or set aside (expired, or gone from the directory)."
	ms.m.Gauge("licence_files", help, "pool", pool, "state", "free").Set(float64(free))
	ms.m.Gauge("licence_files", help, "pool", pool, "state", "held").Set(float64(held))
	ms.m.Gauge("licence_files", help, "pool", pool, "state", "aside").Set(float64(aside))
}
