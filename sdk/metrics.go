package sdk

import (
	"fmt"
	"maps"
	"math"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// A plugin's own metrics: the gateway asks for them over the plugin protocol
// whenever its /metrics endpoint is scraped and exposes each as
// licensegw_plugin_<name>{plugin="...",protocol="...",<labels>}. A plugin
// makes them once from Env.Metrics and updates them as it serves:
//
//	conns := env.Metrics.Counter("connections_total", "TCP connections accepted")
//	...
//	conns.Inc()
//
// Updates are a single atomic operation, cheap enough for every request.

// MetricType is the Prometheus type of a plugin metric.
type MetricType string

// The metric types a plugin may report.
const (
	CounterType MetricType = "counter"
	GaugeType   MetricType = "gauge"
)

// Metric is one sample of a plugin's metric, as the gateway receives it.
type Metric struct {
	Name   string // without the licensegw_plugin_ prefix
	Help   string
	Type   MetricType
	Value  float64
	Labels map[string]string
}

var metricName = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

// reservedLabels are added by the gateway to every plugin sample.
var reservedLabels = []string{"plugin", "protocol"}

// Metrics is a plugin's set of metrics. Its methods are safe for concurrent
// use. The zero value is not usable; the SDK gives every plugin one in
// Env.Metrics (and NewMetrics makes one for tests). A nil *Metrics (an Env
// built by hand in a test) hands out working counters that nobody reports.
type Metrics struct {
	mu     sync.Mutex
	series map[string]*series // by name and labels
	kinds  map[string]family  // by name: type, help and label names must agree
}

type family struct {
	typ    MetricType
	help   string
	labels string // sorted label names, comma-joined
}

type series struct {
	name   string
	labels map[string]string
	bits   atomic.Uint64 // float64 bits
}

// NewMetrics returns an empty set.
func NewMetrics() *Metrics {
	return &Metrics{series: map[string]*series{}, kinds: map[string]family{}}
}

// Counter returns the counter name with the given label pairs (name, value,
// name, value, ...), making it on first use. Asking again with the same name
// and labels returns the same counter. It panics on a malformed name, an odd
// number of label strings, a counter name not ending in _total, or a name
// already used with another type, help or label names: those are
// programming errors, found by the plugin's first test.
func (m *Metrics) Counter(name, help string, labelPairs ...string) *Counter {
	if !strings.HasSuffix(name, "_total") {
		panic(fmt.Sprintf("sdk: counter %q: a counter's name ends in _total", name))
	}
	return &Counter{m.get(CounterType, name, help, labelPairs)}
}

// Gauge returns the gauge name with the given label pairs, like Counter.
func (m *Metrics) Gauge(name, help string, labelPairs ...string) *Gauge {
	return &Gauge{m.get(GaugeType, name, help, labelPairs)}
}

func (m *Metrics) get(typ MetricType, name, help string, pairs []string) *series {
	if !metricName.MatchString(name) {
		panic(fmt.Sprintf("sdk: metric name %q is not [a-z_][a-z0-9_]*", name))
	}
	if len(pairs)%2 != 0 {
		panic(fmt.Sprintf("sdk: metric %q: label pairs are name, value, ...", name))
	}
	labels := make(map[string]string, len(pairs)/2)
	for i := 0; i < len(pairs); i += 2 {
		if !metricName.MatchString(pairs[i]) || slices.Contains(reservedLabels, pairs[i]) {
			panic(fmt.Sprintf("sdk: metric %q: label name %q is malformed or reserved", name, pairs[i]))
		}
		labels[pairs[i]] = pairs[i+1]
	}
	names := slices.Sorted(maps.Keys(labels))
	fam := family{typ: typ, help: help, labels: strings.Join(names, ",")}
	var key strings.Builder
	key.WriteString(name)
	for _, n := range names {
		key.WriteString("\x00" + n + "\x00" + labels[n])
	}

	if m == nil {
		return &series{name: name, labels: labels}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if f, ok := m.kinds[name]; ok && f != fam {
		panic(fmt.Sprintf("sdk: metric %q redeclared with another type, help or label names", name))
	}
	m.kinds[name] = fam
	s, ok := m.series[key.String()]
	if !ok {
		s = &series{name: name, labels: labels}
		m.series[key.String()] = s
	}
	return s
}

// Snapshot returns every sample, sorted by name then labels.
func (m *Metrics) Snapshot() []Metric {
	if m == nil {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	keys := slices.Sorted(maps.Keys(m.series))
	out := make([]Metric, 0, len(keys))
	for _, k := range keys {
		s := m.series[k]
		f := m.kinds[s.name]
		out = append(out, Metric{
			Name: s.name, Help: f.help, Type: f.typ,
			Value: math.Float64frombits(s.bits.Load()), Labels: maps.Clone(s.labels),
		})
	}
	return out
}

// Counter is a value that only goes up.
type Counter struct{ s *series }

// Inc adds one.
func (c *Counter) Inc() { c.Add(1) }

// Add adds n; negative n is ignored (a counter never goes down).
func (c *Counter) Add(n float64) {
	if n > 0 {
		add(&c.s.bits, n)
	}
}

// Value is the counter's current value.
func (c *Counter) Value() float64 { return math.Float64frombits(c.s.bits.Load()) }

// Gauge is a value that goes up and down.
type Gauge struct{ s *series }

// Set sets the gauge.
func (g *Gauge) Set(v float64) { g.s.bits.Store(math.Float64bits(v)) }

// Add adds n (which may be negative).
func (g *Gauge) Add(n float64) { add(&g.s.bits, n) }

// Value is the gauge's current value.
func (g *Gauge) Value() float64 { return math.Float64frombits(g.s.bits.Load()) }

func add(bits *atomic.Uint64, n float64) {
	for {
		old := bits.Load()
		if bits.CompareAndSwap(old, math.Float64bits(math.Float64frombits(old)+n)) {
			return
		}
	}
}
