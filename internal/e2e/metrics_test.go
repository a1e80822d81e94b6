package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/licensegw/licensegw/gateway/token"
	"github.com/licensegw/licensegw/internal/e2etest"
)

// TestMetrics drives a known sequence of operations through the real
// concurrent-lm plugin and checks /metrics against it: names, labels and
// values of the pool gauges, the event counters, the histograms, the plugin
// state and the plugin's own counters reported over the SDK.
func TestMetrics(t *testing.T) {
	t.Parallel()
	g := StartGateway(t, `
feature "cad" {
  seats  = 2
  expiry = "`+time.Now().AddDate(0, 0, 10).Format("2006-01-02")+`"
  queue {}
}
feature "viewer" {
  seats     = 1
  lease_ttl = "5s"
}
`)
	c := g.Dial()
	_ = c.checkout("viewer", "erin", "h5") // never heartbeats: expires
	alice := c.checkout("cad", "alice", "h1")
	bob := c.checkout("cad", "bob", "h2")
	expect(t, c.Do("CHECKOUT feature=cad user=carol host=h3"), "DENIED", "reason", "no-seats")
	expect(t, c.Do("CHECKOUT feature=nosuch user=carol host=h3"), "DENIED", "reason", "unknown-feature")
	expect(t, c.Do("CHECKOUT feature=cad user=dave host=h4 wait=60"), "QUEUED")
	expect(t, c.Do("CHECKIN lease="+alice), "OK")
	if ev := c.Event(10 * time.Second); ev.Get("lease") == "" {
		t.Fatalf("dave's queued checkout: %q, want EVENT granted", ev.Line)
	}
	if err := g.Admin().RemoveLease(t.Context(), bob); err != nil {
		t.Fatal(err)
	}
	expect(t, c.Do("NOT-A-VERB"), "ERR")

	var fams map[string]*dto.MetricFamily
	e2etest.Eventually(t, 30*time.Second, "erin's lease expired", func() error {
		fams = scrape(t, g)
		v, err := value(fams, "licensegw_expiries_total", map[string]string{"feature": "viewer"})
		if err != nil || v != 1 {
			return fmt.Errorf("viewer expiries %v (%v)", v, err)
		}
		return nil
	})
	pool := map[string]string{"vendor": "local", "feature": "cad", "version": "1.0"}
	checks := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"licensegw_pool_seats", pool, 2},
		{"licensegw_pool_seats_in_use", pool, 1}, // dave
		{"licensegw_pool_seats_queued", pool, 0},
		{"licensegw_pool_seats_borrowed", pool, 0},
		{"licensegw_pool_leases", pool, 1},
		{"licensegw_pool_expiring", pool, 1}, // 10 days < 30
		{"licensegw_pool_seats_in_use", map[string]string{"feature": "viewer"}, 0},
		{"licensegw_pool_expiring", map[string]string{"feature": "viewer"}, 0},
		{"licensegw_checkouts_total", map[string]string{"feature": "cad", "protocol": "concurrent-lm"}, 3},
		{"licensegw_checkouts_total", map[string]string{"feature": "viewer"}, 1},
		{"licensegw_checkins_total", map[string]string{"feature": "cad"}, 1},
		{"licensegw_removals_total", map[string]string{"feature": "cad"}, 1},
		{"licensegw_denials_total", map[string]string{"feature": "cad", "reason": "no-seats"}, 1},
		{"licensegw_denials_total", map[string]string{"feature": "nosuch", "reason": "unknown-feature"}, 1},
		{"licensegw_queued_total", map[string]string{"feature": "cad"}, 1},
		{"licensegw_plugin_up", map[string]string{"plugin": "concurrentlm", "protocol": "concurrent-lm"}, 1},
		{"licensegw_plugin_restarts_total", map[string]string{"plugin": "concurrentlm"}, 0},
		{"licensegw_plugin_connections_total", map[string]string{"plugin": "concurrentlm", "protocol": "concurrent-lm"}, 1},
		{"licensegw_plugin_connections_open", map[string]string{"plugin": "concurrentlm"}, 1},
		{"licensegw_plugin_requests_malformed_total", map[string]string{"plugin": "concurrentlm", "transport": "tcp"}, 1},
		{"licensegw_plugin_requests_rate_limited_total", map[string]string{"transport": "tcp"}, 0},
	}
	for _, ck := range checks {
		got, err := value(fams, ck.name, ck.labels)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		if got != ck.want {
			t.Errorf("%s%v = %v, want %v", ck.name, ck.labels, got, ck.want)
		}
	}
	// Histograms: two ended cad leases (alice's checkin, bob's removal),
	// one queue wait granted.
	for _, h := range []struct {
		name   string
		labels map[string]string
		count  uint64
	}{
		{"licensegw_lease_hold_seconds", map[string]string{"feature": "cad"}, 2},
		{"licensegw_lease_hold_seconds", map[string]string{"feature": "viewer"}, 1},
		{"licensegw_queue_wait_seconds", map[string]string{"feature": "cad", "outcome": "granted"}, 1},
	} {
		m, err := find(fams, h.name, h.labels)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		if got := m.GetHistogram().GetSampleCount(); got != h.count {
			t.Errorf("%s%v count = %d, want %d", h.name, h.labels, got, h.count)
		}
	}
	// Every journal append (7 batches at least) was acknowledged and timed.
	if m, err := find(fams, "licensegw_journal_append_seconds", nil); err != nil {
		t.Error(err)
	} else if n := m.GetHistogram().GetSampleCount(); n < 7 {
		t.Errorf("journal append latency has %d samples, want >= 7", n)
	}
	if v, err := value(fams, "licensegw_journal_pending_events", nil); err != nil || v != 0 {
		t.Errorf("pending events = %v (%v), want 0 once every request was answered", v, err)
	}
	if v, err := value(fams, "licensegw_pool_expiry_seconds", pool); err != nil || v < 8*86400 || v > 11*86400 {
		t.Errorf("cad expiry seconds = %v (%v), want about 10 days", v, err)
	}
	for name, f := range fams {
		if f.GetType() == dto.MetricType_COUNTER && strings.HasPrefix(name, "licensegw_") && !strings.HasSuffix(name, "_total") {
			t.Errorf("counter %s does not end in _total", name)
		}
	}

	checkDashboard(t, fams)

	// The plugin's counters are per process: a restart is counted, and
	// the new process starts from zero.
	g.KillPlugin("concurrentlm", 30*time.Second)
	e2etest.Eventually(t, 30*time.Second, "restart counted", func() error {
		fams := scrape(t, g)
		if v, err := value(fams, "licensegw_plugin_restarts_total", map[string]string{"plugin": "concurrentlm"}); err != nil || v != 1 {
			return fmt.Errorf("restarts %v (%v)", v, err)
		}
		if v, err := value(fams, "licensegw_plugin_up", map[string]string{"plugin": "concurrentlm"}); err != nil || v != 1 {
			return fmt.Errorf("up %v (%v)", v, err)
		}
		return nil
	})
}

// checkDashboard: every licensegw_ metric the Grafana example queries is
// one the gateway exposes (histograms by their _bucket series).
func checkDashboard(t *testing.T, fams map[string]*dto.MetricFamily) {
	t.Helper()
	root, err := e2etest.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(root, "examples", "grafana", "licensegw.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(data, &dash); err != nil {
		t.Fatalf("dashboard JSON: %v", err)
	}
	names := regexp.MustCompile(`licensegw_[a-z_]+`)
	seen := 0
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			for _, n := range names.FindAllString(tg.Expr, -1) {
				seen++
				if _, ok := fams[strings.TrimSuffix(n, "_bucket")]; !ok {
					t.Errorf("dashboard panel %q queries %s, which /metrics does not expose", p.Title, n)
				}
			}
		}
	}
	if seen < 10 {
		t.Errorf("dashboard queries only %d metrics", seen)
	}
}

// scrape fetches and parses /metrics, as Prometheus does with the
// gateway's token as its bearer credentials.
func scrape(t *testing.T, g *Gateway) map[string]*dto.MetricFamily {
	t.Helper()
	tok, err := token.ReadFile(g.TokenFile())
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, "http://"+g.AdminAddr+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d %v\n%s", resp.StatusCode, err, body)
	}
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("parse /metrics: %v\n%s", err, body)
	}
	return fams
}

// find returns the one sample of family name whose labels include want.
func find(fams map[string]*dto.MetricFamily, name string, want map[string]string) (*dto.Metric, error) {
	f, ok := fams[name]
	if !ok {
		names := make([]string, 0, len(fams))
		for n := range fams {
			names = append(names, n)
		}
		sort.Strings(names)
		return nil, fmt.Errorf("no metric %s (have %s)", name, strings.Join(names, " "))
	}
	var found []*dto.Metric
	for _, m := range f.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		ok := true
		for k, v := range want {
			ok = ok && have[k] == v
		}
		if ok {
			found = append(found, m)
		}
	}
	if len(found) != 1 {
		return nil, fmt.Errorf("%s%v: %d samples match, want 1", name, want, len(found))
	}
	return found[0], nil
}

func value(fams map[string]*dto.MetricFamily, name string, want map[string]string) (float64, error) {
	m, err := find(fams, name, want)
	if err != nil {
		return 0, err
	}
	switch {
	case m.Counter != nil:
		return m.GetCounter().GetValue(), nil
	case m.Gauge != nil:
		return m.GetGauge().GetValue(), nil
	}
	return 0, fmt.Errorf("%s is neither counter nor gauge", name)
}

// TestExpiryWarning: a licence within 30 days of its expiry is marked in
// status (API and CLI) and announced with an `expiring` lifecycle message,
// again after a reload; one 40 days away is not.
func TestExpiryWarning(t *testing.T) {
	t.Parallel()
	soon := time.Now().AddDate(0, 0, 10).Format("2006-01-02")
	later := time.Now().AddDate(0, 0, 40).Format("2006-01-02")
	g := StartGateway(t, `
feature "cad" {
  seats  = 1
  expiry = "`+soon+`"
}
feature "viewer" {
  seats  = 1
  expiry = "`+later+`"
}
`)
	if f := g.Feature("cad"); !f.Expiring {
		t.Errorf("cad expiring in 10 days: %+v", f)
	}
	if f := g.Feature("viewer"); f.Expiring {
		t.Errorf("viewer expiring in 40 days is marked expiring: %+v", f)
	}
	r := g.CLI(t.Context(), "status")
	if line := lineWith(r.Stdout, "cad"); !strings.Contains(line, "(expiring in") {
		t.Errorf("status line of cad: %q\n%s", line, r.Stdout)
	}
	if line := lineWith(r.Stdout, "viewer"); strings.Contains(line, "expiring") {
		t.Errorf("status line of viewer: %q", line)
	}

	nc, err := nats.Connect(g.NATSURL(), g.AuditNATS())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	sub, err := nc.SubscribeSync("licensegw.gateway.expiring")
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	if r := g.CLI(t.Context(), "reload"); r.Code != 0 {
		t.Fatalf("reload: %d %s", r.Code, r.Stderr)
	}
	msg, err := sub.NextMsg(15 * time.Second)
	if err != nil {
		t.Fatalf("no expiring message after a reload: %v", err)
	}
	var body struct {
		Feature  string `json:"feature"`
		DaysLeft int    `json:"days_left"`
		Warning  int    `json:"warning_days"`
	}
	if err := json.Unmarshal(msg.Data, &body); err != nil || body.Feature != "cad" || body.DaysLeft < 8 || body.DaysLeft > 10 || body.Warning != 30 {
		t.Errorf("expiring message %s (%v)", msg.Data, err)
	}
	if msg, err := sub.NextMsg(500 * time.Millisecond); err == nil {
		t.Errorf("a second expiring message, for a licence 40 days away? %s", msg.Data)
	}
}
