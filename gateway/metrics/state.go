package metrics

import (
	"context"
	"maps"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/licensegw/licensegw/sdk"
)

// stateCollector reports the gateway's state at scrape time. It is an
// unchecked collector (Describe sends nothing): the plugins' own metrics
// are only known when they are asked.
type stateCollector struct{ m *Metrics }

func (stateCollector) Describe(chan<- *prometheus.Desc) {}

var (
	poolLabels     = []string{"vendor", "feature", "version"}
	descSeats      = prometheus.NewDesc("licensegw_pool_seats", "Seats of the pool as configured.", poolLabels, nil)
	descInUse      = prometheus.NewDesc("licensegw_pool_seats_in_use", "Seats held by leases.", poolLabels, nil)
	descQueued     = prometheus.NewDesc("licensegw_pool_seats_queued", "Seats asked for by waiting queue tickets.", poolLabels, nil)
	descReserved   = prometheus.NewDesc("licensegw_pool_seats_reserved", "Seats reserved and not in use by their holders.", poolLabels, nil)
	descBorrowed   = prometheus.NewDesc("licensegw_pool_seats_borrowed", "Seats held by borrowed (offline) leases.", poolLabels, nil)
	descLeases     = prometheus.NewDesc("licensegw_pool_leases", "Leases held.", poolLabels, nil)
	descExpiry     = prometheus.NewDesc("licensegw_pool_expiry_seconds", "Seconds until the pool's licence expires (negative once it has); absent for permanent licences.", poolLabels, nil)
	descExpiring   = prometheus.NewDesc("licensegw_pool_expiring", "1 when the pool's licence expires within the warning period (gateway.expiry_warning_days), else 0.", poolLabels, nil)
	descPluginUp   = prometheus.NewDesc("licensegw_plugin_up", "1 when the plugin's process runs, else 0.", []string{"plugin", "protocol"}, nil)
	descRestarts   = prometheus.NewDesc("licensegw_plugin_restarts_total", "Times the plugin's process was restarted after it exited.", []string{"plugin", "protocol"}, nil)
	descScrapeFail = prometheus.NewDesc("licensegw_plugin_metrics_errors", "1 when the plugin did not answer this scrape's request for its own metrics.", []string{"plugin", "protocol"}, nil)
)

func (c stateCollector) Collect(ch chan<- prometheus.Metric) {
	m := c.m
	if m.src.Pools != nil {
		c.pools(ch)
	}
	if m.src.Plugins != nil {
		for _, p := range m.src.Plugins() {
			up := 0.0
			if p.State == "running" {
				up = 1
			}
			ch <- prometheus.MustNewConstMetric(descPluginUp, prometheus.GaugeValue, up, p.Name, p.Protocol)
			ch <- prometheus.MustNewConstMetric(descRestarts, prometheus.CounterValue, float64(p.Restarts), p.Name, p.Protocol)
		}
	}
	if m.src.PluginMetrics != nil {
		c.plugins(ch)
	}
}

func (c stateCollector) pools(ch chan<- prometheus.Metric) {
	now := c.m.src.Now()
	warn := DefaultExpiryWarning
	if c.m.src.ExpiryWarning != nil {
		warn = c.m.src.ExpiryWarning() // 0: warnings off
	}
	gauge := func(d *prometheus.Desc, v float64, labels []string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	for _, ps := range c.m.src.Pools() {
		f := ps.Feature
		labels := []string{vendorOf(f.Vendor), f.Name, f.Version}
		borrowed := 0
		for _, l := range ps.Leases {
			if l.Borrowed {
				borrowed += l.Count
			}
		}
		gauge(descSeats, float64(f.Seats), labels)
		gauge(descInUse, float64(ps.InUse), labels)
		gauge(descQueued, float64(ps.Queued), labels)
		gauge(descReserved, float64(ps.Reserved), labels)
		gauge(descBorrowed, float64(borrowed), labels)
		gauge(descLeases, float64(len(ps.Leases)), labels)
		if !f.Expiry.IsZero() {
			left := f.Expiry.Sub(now)
			gauge(descExpiry, left.Seconds(), labels)
			gauge(descExpiring, boolValue(Expiring(f.Expiry, now, warn)), labels)
		} else {
			gauge(descExpiring, 0, labels)
		}
	}
}

// Expiring reports whether a licence ending at expiry is within warn of its
// end at now (and has not ended yet: an expired licence is past warning).
func Expiring(expiry, now time.Time, warn time.Duration) bool {
	return !expiry.IsZero() && now.Before(expiry) && expiry.Sub(now) <= warn
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// plugins reports each plugin's own metrics as licensegw_plugin_<name>.
// Samples that would break the exposition (a name reused with other label
// names by another plugin) are dropped rather than failing the scrape.
func (c stateCollector) plugins(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), pluginTimeout)
	defer cancel()
	type fam struct {
		help   string
		typ    sdk.MetricType
		labels []string
	}
	fams := map[string]fam{}
	for _, pm := range c.m.src.PluginMetrics(ctx) {
		if pm.Err != nil {
			ch <- prometheus.MustNewConstMetric(descScrapeFail, prometheus.GaugeValue, 1, pm.Name, pm.Protocol)
			continue
		}
		ch <- prometheus.MustNewConstMetric(descScrapeFail, prometheus.GaugeValue, 0, pm.Name, pm.Protocol)
		for _, s := range pm.Metrics {
			name := "licensegw_plugin_" + s.Name
			own := slices.Sorted(maps.Keys(s.Labels))
			f, seen := fams[name]
			if !seen {
				f = fam{help: s.Help, typ: s.Type, labels: own}
				fams[name] = f
			}
			if f.typ != s.Type || !slices.Equal(f.labels, own) {
				continue
			}
			vt := prometheus.GaugeValue
			if s.Type == sdk.CounterType {
				vt = prometheus.CounterValue
			}
			desc := prometheus.NewDesc(name, f.help, append([]string{"plugin", "protocol"}, own...), nil)
			values := []string{pm.Name, pm.Protocol}
			for _, k := range own {
				values = append(values, s.Labels[k])
			}
			metric, err := prometheus.NewConstMetric(desc, vt, s.Value, values...)
			if err != nil {
				continue
			}
			ch <- metric
		}
	}
}
