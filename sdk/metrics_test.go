package sdk_test

import (
	"testing"

	"github.com/licensegw/licensegw/sdk"
)

func TestMetrics(t *testing.T) {
	m := sdk.NewMetrics()
	conns := m.Counter("connections_total", "connections")
	conns.Inc()
	conns.Add(2)
	conns.Add(-5) // ignored: counters never go down
	if again := m.Counter("connections_total", "connections"); again.Value() != 3 {
		t.Errorf("the same counter asked again reads %v, want 3", again.Value())
	}
	tcp := m.Counter("malformed_total", "bad lines", "transport", "tcp")
	udp := m.Counter("malformed_total", "bad lines", "transport", "udp")
	tcp.Inc()
	udp.Add(4)
	open := m.Gauge("open", "open now")
	open.Add(3)
	open.Add(-1)

	got := m.Snapshot()
	want := []sdk.Metric{
		{Name: "connections_total", Help: "connections", Type: sdk.CounterType, Value: 3, Labels: map[string]string{}},
		{Name: "malformed_total", Help: "bad lines", Type: sdk.CounterType, Value: 1, Labels: map[string]string{"transport": "tcp"}},
		{Name: "malformed_total", Help: "bad lines", Type: sdk.CounterType, Value: 4, Labels: map[string]string{"transport": "udp"}},
		{Name: "open", Help: "open now", Type: sdk.GaugeType, Value: 2, Labels: map[string]string{}},
	}
	if len(got) != len(want) {
		t.Fatalf("snapshot has %d samples, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Name != w.Name || g.Help != w.Help || g.Type != w.Type || g.Value != w.Value || len(g.Labels) != len(w.Labels) || g.Labels["transport"] != w.Labels["transport"] {
			t.Errorf("sample %d = %+v, want %+v", i, g, w)
		}
	}
}

func TestMetricsMisuse(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    func(m *sdk.Metrics)
	}{
		{"counter without _total", func(m *sdk.Metrics) { m.Counter("conns", "") }},
		{"bad name", func(m *sdk.Metrics) { m.Gauge("Open-Conns", "") }},
		{"odd labels", func(m *sdk.Metrics) { m.Gauge("open", "", "transport") }},
		{"reserved label", func(m *sdk.Metrics) { m.Gauge("open", "", "plugin", "x") }},
		{"type changed", func(m *sdk.Metrics) { m.Gauge("x_total", ""); m.Counter("x_total", "") }},
		{"label names changed", func(m *sdk.Metrics) { m.Gauge("x", "", "a", "1"); m.Gauge("x", "", "b", "1") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			tc.f(sdk.NewMetrics())
		})
	}
}

func TestNilMetricsHandsOutWorkingCounters(t *testing.T) {
	var m *sdk.Metrics // an Env built by hand in a test
	c := m.Counter("x_total", "")
	c.Inc()
	if c.Value() != 1 || m.Snapshot() != nil {
		t.Errorf("value %v, snapshot %v", c.Value(), m.Snapshot())
	}
}
