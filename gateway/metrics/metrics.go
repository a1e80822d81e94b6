package metrics

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/licensegw/licensegw/gateway/events"
	"github.com/licensegw/licensegw/gateway/pluginhost"
	"github.com/licensegw/licensegw/gateway/seats"
)

// DefaultExpiryWarning is how close to its expiry a feature counts as
// expiring when the configuration says nothing.
const DefaultExpiryWarning = 30 * 24 * time.Hour

// pluginTimeout bounds the wait for plugins' own metrics during a scrape.
const pluginTimeout = 2 * time.Second

// Sources is where the scrape-time figures come from. Nil functions are
// skipped.
type Sources struct {
	// Pools is every pool with its holders (ledger.Status).
	Pools func() []seats.PoolStatus
	// Plugins is every plugin instance's state.
	Plugins func() []pluginhost.PluginStatus
	// PluginMetrics asks the running plugins for their own metrics.
	PluginMetrics func(ctx context.Context) []pluginhost.PluginMetrics
	// ExpiryWarning is how close to its expiry a pool counts as expiring
	// (0: never); nil means DefaultExpiryWarning.
	ExpiryWarning func() time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Metrics holds the gateway's metrics. Make it with New.
type Metrics struct {
	reg *prometheus.Registry
	src Sources

	checkouts, checkins, expiries, removals *prometheus.CounterVec
	denials, queued, dequeued               *prometheus.CounterVec
	borrows, returns                        *prometheus.CounterVec
	holdTime, queueWait                     *prometheus.HistogramVec
	appendLatency                           prometheus.Histogram
	appendFailures                          prometheus.Counter
	pending                                 prometheus.Gauge

	mu      sync.Mutex
	tickets map[string]time.Time // waiting ticket -> when it was queued
}

// holdBuckets run from a minute to a week: licences are held for minutes
// to days.
var holdBuckets = []float64{60, 300, 900, 1800, 3600, 2 * 3600, 4 * 3600, 8 * 3600, 24 * 3600, 3 * 24 * 3600, 7 * 24 * 3600}

// waitBuckets run from a second to a few hours.
var waitBuckets = []float64{1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 4 * 3600}

// New makes the metrics and registers them, with the Go runtime and
// process collectors, in a registry of their own.
func New(src Sources) *Metrics {
	if src.Now == nil {
		src.Now = time.Now
	}
	poolLabels := []string{"vendor", "feature"}
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: "licensegw_" + name, Help: help}, append(poolLabels, labels...))
	}
	m := &Metrics{
		reg:       prometheus.NewRegistry(),
		src:       src,
		tickets:   map[string]time.Time{},
		checkouts: counter("checkouts_total", "Leases granted (directly or from a queue), by the protocol they were asked over.", "protocol"),
		checkins:  counter("checkins_total", "Leases given back by their holders."),
		expiries:  counter("expiries_total", "Leases that ended because their heartbeats stopped."),
		removals:  counter("removals_total", "Leases released by an administrator."),
		denials:   counter("denials_total", "Checkouts refused, by reason (the concurrent-lm denial reasons).", "reason"),
		queued:    counter("queued_total", "Checkouts that went into a queue."),
		dequeued:  counter("dequeued_total", "Queue tickets that ended without a grant, by reason.", "reason"),
		borrows:   counter("borrows_total", "Leases taken offline (borrowed)."),
		returns:   counter("returns_total", "Borrowed leases that came back or whose borrow ended."),
		holdTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "licensegw_lease_hold_seconds", Help: "How long ended leases were held.", Buckets: holdBuckets,
		}, poolLabels),
		queueWait: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "licensegw_queue_wait_seconds", Help: "How long queue tickets waited, by how they ended (granted or dequeued).", Buckets: waitBuckets,
		}, append(poolLabels, "outcome")),
		appendLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "licensegw_journal_append_seconds", Help: "Time from handing a batch of events to the journal to its acknowledgement by the stream.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16), // 100µs .. 3.3s
		}),
		appendFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "licensegw_journal_append_failures_total", Help: "Batches of events not acknowledged in time (the journal keeps retrying them).",
		}),
		pending: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "licensegw_journal_pending_events", Help: "Events handed to the journal and not yet acknowledged by the stream (the stream's lag behind the engine).",
		}),
	}
	m.reg.MustRegister(
		m.checkouts, m.checkins, m.expiries, m.removals, m.denials, m.queued, m.dequeued, m.borrows, m.returns,
		m.holdTime, m.queueWait, m.appendLatency, m.appendFailures, m.pending,
		stateCollector{m},
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// Registry is the registry every metric is in (for tests and embedding).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in the Prometheus text (or OpenMetrics)
// format. A plugin that fails to answer does not fail the scrape.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// Committed counts a batch of events the ledger handed to the journal.
func (m *Metrics) Committed(evs []events.Event) {
	m.pending.Add(float64(len(evs)))
	for i := range evs {
		m.event(&evs[i])
	}
}

// Acknowledged records a batch's wait for the journal: n events, how long
// it took from the append, and whether the stream acknowledged it in time.
func (m *Metrics) Acknowledged(n int, latency time.Duration, err error) {
	m.pending.Sub(float64(n))
	if err != nil {
		m.appendFailures.Inc()
		return
	}
	m.appendLatency.Observe(latency.Seconds())
}

func (m *Metrics) event(ev *events.Event) {
	vendor, feature := ev.Vendor, ev.Feature
	if vendor == "" {
		vendor = events.DefaultVendor
	}
	switch ev.Kind {
	case events.Checkout:
		m.checkouts.WithLabelValues(vendor, feature, ev.Protocol).Inc()
		if ev.Ticket != "" {
			m.ticketEnded(ev, "granted")
		}
	case events.Borrowed:
		m.borrows.WithLabelValues(vendor, feature).Inc()
		if ev.Ticket != "" {
			m.ticketEnded(ev, "granted")
		}
	case events.Checkin:
		m.checkins.WithLabelValues(vendor, feature).Inc()
		m.held(ev)
	case events.Expired:
		m.expiries.WithLabelValues(vendor, feature).Inc()
		m.held(ev)
	case events.Removed:
		m.removals.WithLabelValues(vendor, feature).Inc()
		m.held(ev)
	case events.Returned:
		m.returns.WithLabelValues(vendor, feature).Inc()
		m.held(ev)
	case events.Denied:
		m.denials.WithLabelValues(vendor, feature, ev.Reason).Inc()
	case events.Queued:
		m.queued.WithLabelValues(vendor, feature).Inc()
		m.mu.Lock()
		m.tickets[ev.Ticket] = ev.Time
		m.mu.Unlock()
	case events.Dequeued:
		m.dequeued.WithLabelValues(vendor, feature, ev.Reason).Inc()
		m.ticketEnded(ev, "dequeued")
	}
}

func (m *Metrics) held(ev *events.Event) {
	if ev.HeldMS != nil {
		m.holdTime.WithLabelValues(vendorOf(ev.Vendor), ev.Feature).Observe(float64(*ev.HeldMS) / 1000)
	}
}

// ticketEnded observes a ticket's wait, if its queueing was seen (a
// ticket from before the gateway started was not).
func (m *Metrics) ticketEnded(ev *events.Event, outcome string) {
	m.mu.Lock()
	queued, ok := m.tickets[ev.Ticket]
	delete(m.tickets, ev.Ticket)
	m.mu.Unlock()
	if ok {
		m.queueWait.WithLabelValues(vendorOf(ev.Vendor), ev.Feature, outcome).Observe(ev.Time.Sub(queued).Seconds())
	}
}

func vendorOf(v string) string {
	if v == "" {
		return events.DefaultVendor
	}
	return v
}
