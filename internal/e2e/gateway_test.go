package e2e

import (
	"testing"
	"time"

	"github.com/licensegw/licensegw/gateway/admin"
	"github.com/licensegw/licensegw/internal/e2etest"
)

// startTimeout bounds a gateway's start: the machine is small and shared, so
// it is generous; tests poll and never sleep it out.
const startTimeout = 45 * time.Second

// Gateway is an e2etest gateway that runs the concurrent-lm plugin on one
// TCP and UDP port, configured by the test's feature blocks.
type Gateway struct {
	*e2etest.Gateway
	t *testing.T

	CLMAddr string // host:port of the plugin, TCP and UDP

	features     string // feature blocks, HCL
	pluginConfig string // the plugin's config { } body, HCL
	natsURL      string // an external NATS server; "" for the embedded one
	admin        string // added to the admin block, HCL
	nats         string // added to the embedded server's nats block, HCL
}

// WithNATSBody adds body to the embedded server's nats block (identity
// blocks, tls).
func WithNATSBody(body string) Option {
	return func(g *Gateway) { g.nats = body }
}

// WithAdmin adds body to the admin block (token blocks, tls).
func WithAdmin(body string) Option {
	return func(g *Gateway) { g.admin = body }
}

// Option adjusts a gateway before it starts.
type Option func(*Gateway)

// WithPluginConfig sets the body of the plugin's config { } block.
func WithPluginConfig(body string) Option {
	return func(g *Gateway) { g.pluginConfig = body }
}

// WithNATS points the gateway at an external NATS server.
func WithNATS(url string) Option {
	return func(g *Gateway) { g.natsURL = url }
}

// StartGateway writes a configuration holding features (HCL feature blocks)
// and the concurrent-lm plugin on free ports, starts the daemon and waits
// until it and its plugin serve. Cleanup kills every process it started,
// also when the test fails.
func StartGateway(t *testing.T, features string, opts ...Option) *Gateway {
	t.Helper()
	g := &Gateway{t: t, features: features}
	for _, o := range opts {
		o(g)
	}
	g.Gateway = e2etest.New(t, e2etest.Options{Bins: bins, Config: g.config(), StartTimeout: startTimeout, NATSURL: g.natsURL, Admin: g.admin, NATS: g.nats})
	g.Start()
	g.CLMAddr = g.Addr(e2etest.CLMAddr) // final once started
	return g
}

// SetFeatures rewrites the configuration with other feature blocks (for a
// reload), valid or not; the gateway is not told.
func (g *Gateway) SetFeatures(features string) {
	g.t.Helper()
	g.features = features
	g.ReconfigureUnchecked(g.config())
}

// config is the configuration template after the harness's own blocks.
func (g *Gateway) config() string {
	return g.features + "\n" + e2etest.ConcurrentLMPlugin(g.pluginConfig)
}

// Plugin is the concurrent-lm plugin's admin status.
func (g *Gateway) Plugin() admin.Plugin {
	g.t.Helper()
	st := g.Status()
	if len(st.Plugins) != 1 {
		g.t.Fatalf("admin status has %d plugins, want 1", len(st.Plugins))
	}
	return st.Plugins[0]
}
