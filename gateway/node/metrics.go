package node

import (
	"context"
	"net/http"

	"github.com/licensegw/licensegw/gateway/metrics"
	"github.com/licensegw/licensegw/gateway/pluginhost"
	"github.com/licensegw/licensegw/gateway/seats"
)

// newMetrics makes the node's metrics. Their scrape-time sources are read
// through the node, so they see the ledger and plugin host once started
// (and nothing before).
func (n *Node) newMetrics() *metrics.Metrics {
	return metrics.New(metrics.Sources{
		Pools: func() []seats.PoolStatus {
			if n.ledger == nil {
				return nil
			}
			return n.ledger.Status()
		},
		Plugins: func() []pluginhost.PluginStatus {
			if n.plugins == nil {
				return nil
			}
			return n.plugins.Status()
		},
		PluginMetrics: func(ctx context.Context) []pluginhost.PluginMetrics {
			if n.plugins == nil {
				return nil
			}
			return n.plugins.Metrics(ctx)
		},
		ExpiryWarning: n.expiryWarning,
	})
}

// MetricsHandler serves the Prometheus metrics (admin API, GET /metrics).
func (n *Node) MetricsHandler() http.Handler { return n.metrics.Handler() }
