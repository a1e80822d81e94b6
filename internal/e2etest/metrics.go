package e2etest

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Metrics scrapes the gateway's /metrics with the admin token, as
// Prometheus does, and parses it; the test fails when it cannot.
func (g *Gateway) Metrics() Metrics {
	g.t.Helper()
	resp, err := g.AdminGet("/metrics")
	if err != nil {
		g.t.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		g.t.Fatalf("GET /metrics: %d %v\n%s", resp.StatusCode, err, body)
	}
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		g.t.Fatalf("parse /metrics: %v\n%s", err, body)
	}
	return fams
}

// Metrics are metric families by name, as scraped.
type Metrics map[string]*dto.MetricFamily

// Value is the value of the one counter or gauge sample of family name
// whose labels include labels; an error when there is no such family or
// not exactly one such sample.
func (ms Metrics) Value(name string, labels map[string]string) (float64, error) {
	f, ok := ms[name]
	if !ok {
		return 0, fmt.Errorf("no metric %s", name)
	}
	var found []*dto.Metric
	for _, m := range f.GetMetric() {
		if hasLabels(m, labels) {
			found = append(found, m)
		}
	}
	if len(found) != 1 {
		return 0, fmt.Errorf("%s%v: %d samples match, want 1", name, labels, len(found))
	}
	switch m := found[0]; {
	case m.Counter != nil:
		return m.GetCounter().GetValue(), nil
	case m.Gauge != nil:
		return m.GetGauge().GetValue(), nil
	}
	return 0, fmt.Errorf("%s is neither a counter nor a gauge", name)
}

// Names lists the families whose name starts with prefix, sorted.
func (ms Metrics) Names(prefix string) []string {
	var out []string
	for n := range ms {
		if strings.HasPrefix(n, prefix) {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

func hasLabels(m *dto.Metric, want map[string]string) bool {
	have := map[string]string{}
	for _, l := range m.GetLabel() {
		have[l.GetName()] = l.GetValue()
	}
	for k, v := range want {
		if have[k] != v {
			return false
		}
	}
	return true
}
