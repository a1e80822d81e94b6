package e2etest

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/licensegw/licensegw/gateway/signing"
)

// clusterRoute names a node's route listener among its addresses.
const clusterRoute = "licensegw NATS cluster route"

// Cluster is n gateways run as one cluster (embedded NATS in cluster mode,
// replicas = n), each a subprocess with its own directory and ports, all
// signing with one key.
type Cluster struct {
	t       testing.TB
	Nodes   []*Gateway
	KeyFile string // the grant-signing key every node uses
}

// StartCluster prepares n nodes from opts (named gw-1 ... gw-n; Config is
// each node's template), starts them all and waits until one leads.
func StartCluster(t testing.TB, opts Options, n int) *Cluster {
	t.Helper()
	keyFile := filepath.Join(t.TempDir(), "signing.key")
	if _, err := signing.LoadOrCreate(keyFile); err != nil {
		t.Fatal(err)
	}
	c := &Cluster{t: t, KeyFile: keyFile}
	var routes []string
	for i := range n {
		o := opts
		o.Name = fmt.Sprintf("gw-%d", i+1)
		g := New(t, o)
		g.cluster = c
		r, err := g.alloc(clusterRoute, FreeTCPAddr)
		if err != nil {
			t.Fatal(err)
		}
		routes = append(routes, fmt.Sprintf("%q", "nats-route://"+r))
		c.Nodes = append(c.Nodes, g)
	}
	for _, g := range c.Nodes {
		g.opts.NATS = opts.NATS + fmt.Sprintf("\n  replicas = %d\n  cluster {\n    name   = \"e2e\"\n    listen = %q\n    routes = [%s]\n  }",
			n, g.Addr(clusterRoute), strings.Join(routes, ", "))
		g.Reconfigure(fmt.Sprintf("signing {\n  key_file = %q\n}\n\n", keyFile) + opts.Config)
	}
	for _, g := range c.Nodes {
		g.Launch()
	}
	c.WaitLeader(DefaultStartTimeout, -1)
	return c
}

// WaitLeader waits until a node other than skip answers /readyz (only the
// leader does) and runs its plugins, and returns its index.
func (c *Cluster) WaitLeader(timeout time.Duration, skip int) int {
	c.t.Helper()
	leader := -1
	Eventually(c.t, timeout, "a cluster leader", func() error {
		var errs []string
		for i, g := range c.Nodes {
			if i == skip {
				continue
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			err := g.Admin().Ready(ctx)
			if err == nil {
				s, serr := g.Admin().Status(ctx)
				if err = serr; err == nil {
					err = running(s, g.plugins)
				}
			}
			cancel()
			if err == nil {
				leader = i
				return nil
			}
			errs = append(errs, fmt.Sprintf("%s: %v", g.opts.Name, err))
		}
		return fmt.Errorf("no leader: %s", strings.Join(errs, "; "))
	})
	return leader
}
