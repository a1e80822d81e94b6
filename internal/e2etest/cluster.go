package e2etest

import (
	"context"
	"crypto/rand"
	"errors"
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

	// proxies[i][j] carries node i's routes to node j, with
	// ProxiedRoutes; nil otherwise.
	proxies [][]*Proxy
}

// ClusterOption changes how StartCluster sets a cluster up.
type ClusterOption func(*clusterSettings)

type clusterSettings struct {
	proxied bool
}

// ProxiedRoutes runs every route between two nodes through a Proxy of its
// own (one for each direction), so that Partition can cut a node off.
// Each node advertises a route address where nothing listens, so that no
// node reaches another directly when it learns of it from a third.
func ProxiedRoutes() ClusterOption { return func(s *clusterSettings) { s.proxied = true } }

// StartCluster prepares n nodes from opts (named gw-1 ... gw-n; Config is
// each node's template), starts them all and waits until one leads. If a
// node's start fails because a port was taken between its pick and the
// node's bind, the whole cluster starts again on new ports (each node's
// routes name the others' ports).
func StartCluster(t testing.TB, opts Options, n int, options ...ClusterOption) *Cluster {
	t.Helper()
	var set clusterSettings
	for _, o := range options {
		o(&set)
	}
	keyFile := filepath.Join(t.TempDir(), "signing.key")
	if _, err := signing.LoadOrCreate(keyFile); err != nil {
		t.Fatal(err)
	}
	for attempt := 1; ; attempt++ {
		c := launchCluster(t, opts, n, set, keyFile)
		taken := c.waitStarted(DefaultStartTimeout)
		if taken < 0 {
			return c
		}
		if attempt == startAttempts {
			t.Fatalf("%s: a port was taken before it bound it, %d times", c.Nodes[taken].opts.Name, attempt)
		}
		t.Logf("%s: a port was taken before it bound it; starting the cluster again on new ports", c.Nodes[taken].opts.Name)
		for _, g := range c.Nodes {
			g.killAll()
		}
	}
}

// launchCluster prepares the nodes and launches them.
func launchCluster(t testing.TB, opts Options, n int, set clusterSettings, keyFile string) *Cluster {
	t.Helper()
	c := &Cluster{t: t, KeyFile: keyFile}
	for i := range n {
		o := opts
		o.Name = fmt.Sprintf("gw-%d", i+1)
		g := New(t, o)
		g.cluster = c
		if _, err := g.alloc(clusterRoute, reserveTCP); err != nil {
			t.Fatal(err)
		}
		c.Nodes = append(c.Nodes, g)
	}
	routes := make([][]string, n) // node -> the route URLs it dials
	advertise := make([]string, n)
	for i := range c.Nodes {
		for j, peer := range c.Nodes {
			addr := peer.Addr(clusterRoute)
			if set.proxied {
				if j == i {
					continue
				}
				if c.proxies == nil {
					c.proxies = make([][]*Proxy, n)
				}
				if c.proxies[i] == nil {
					c.proxies[i] = make([]*Proxy, n)
				}
				c.proxies[i][j] = NewProxy(t, addr)
				addr = c.proxies[i][j].Addr()
			}
			routes[i] = append(routes[i], fmt.Sprintf("%q", "nats-route://"+addr))
		}
		if set.proxied {
			// A port of the well-known range that no test binds: a
			// node that learns of another must not reach it but
			// through the proxies.
			dead := fmt.Sprintf("127.0.0.1:%d", 1+i)
			advertise[i] = fmt.Sprintf("\n    advertise = %q", dead)
		}
	}
	// A name of its own: nodes of clusters started side by side (parallel
	// tests, or another run on the machine) that reach each other through a
	// reused port refuse the route instead of merging into one cluster.
	name := "e2e-" + strings.ToLower(rand.Text()[:10])
	for i, g := range c.Nodes {
		g.opts.NATS = opts.NATS + fmt.Sprintf("\n  replicas = %d\n  cluster {\n    name   = %q\n    listen = %q\n    routes = [%s]%s\n  }",
			n, name, g.Addr(clusterRoute), strings.Join(routes[i], ", "), advertise[i])
		g.Reconfigure(fmt.Sprintf("signing {\n  key_file = %q\n}\n\n", keyFile) + opts.Config)
	}
	for _, g := range c.Nodes {
		g.Launch()
	}
	return c
}

// waitStarted waits until a node leads, as WaitLeader does, and returns -1;
// or the index of a node that exited because a port was taken. The test
// fails if no node leads in time.
func (c *Cluster) waitStarted(timeout time.Duration) int {
	c.t.Helper()
	taken := -1
	Eventually(c.t, timeout, "a cluster leader", func() error {
		for i, g := range c.Nodes {
			if g.portTakenAtStart() {
				taken = i
				return nil
			}
		}
		_, err := c.leader(-1)
		return err
	})
	return taken
}

// Partition cuts node i off from the others: every route between it and
// them stops carrying anything, both ways (the cluster must be started
// with ProxiedRoutes).
func (c *Cluster) Partition(i int) {
	c.t.Helper()
	c.eachProxyOf(i, (*Proxy).Cut)
}

// Heal undoes Partition: the routes of node i carry traffic again (the
// connections cut are closed, and the nodes dial again).
func (c *Cluster) Heal(i int) {
	c.t.Helper()
	c.eachProxyOf(i, (*Proxy).Heal)
}

func (c *Cluster) eachProxyOf(i int, fn func(*Proxy)) {
	c.t.Helper()
	if c.proxies == nil {
		c.t.Fatal("the cluster's routes are not proxied: start it with ProxiedRoutes")
	}
	for j := range c.Nodes {
		if j != i {
			fn(c.proxies[i][j])
			fn(c.proxies[j][i])
		}
	}
}

// WaitLeader waits until a node other than skip leads (its status says
// so), answers /readyz and runs its plugins, and returns its index.
func (c *Cluster) WaitLeader(timeout time.Duration, skip int) int {
	c.t.Helper()
	leader := -1
	Eventually(c.t, timeout, "a cluster leader", func() error {
		var err error
		leader, err = c.leader(skip)
		return err
	})
	return leader
}

// leader is the index of a node other than skip that leads, answers
// /readyz and runs its plugins, or why there is none.
func (c *Cluster) leader(skip int) (int, error) {
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
			if err == nil && (s.Cluster == nil || !s.Cluster.Leading) {
				err = errors.New("ready, but following") // every node serves; one leads
			}
		}
		cancel()
		if err == nil {
			return i, nil
		}
		errs = append(errs, fmt.Sprintf("%s: %v", g.opts.Name, err))
	}
	return -1, fmt.Errorf("no leader: %s", strings.Join(errs, "; "))
}
