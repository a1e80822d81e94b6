package e2e

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/licensegw/licensegw/gateway/signing"
	"github.com/licensegw/licensegw/internal/e2etest"
	"github.com/licensegw/licensegw/plugins/concurrentlm/client"
)

// loadedCluster is a cluster of three real `licensegw serve` processes
// that serves one feature, "cad", to concurrent-lm clients listing every
// node: the set-up the cluster tests put load on and then fail.
type loadedCluster struct {
	*e2etest.Cluster
	Seats  int               // cad's seats
	Addrs  []string          // each node's CLM/1 address, in node order
	Pinned ed25519.PublicKey // the grant-signing key every node signs with
	Load   *clusterLoad      // what the clients were answered
}

// startLoadedCluster starts three nodes serving "cad" with seats seats
// (lease_ttl 300s, so that held leases outlive the faults) and the
// concurrent-lm plugin, and waits until one leads. options are
// StartCluster's (e2etest.ProxiedRoutes, for a test that cuts routes).
func startLoadedCluster(t *testing.T, seats int, options ...e2etest.ClusterOption) *loadedCluster {
	t.Helper()
	c := e2etest.StartCluster(t, e2etest.Options{
		Bins: bins, StartTimeout: startTimeout,
		Config: fmt.Sprintf("feature \"cad\" {\n  seats = %d\n  lease_ttl = \"300s\"\n}\n\n", seats) + e2etest.ConcurrentLMPlugin(""),
	}, 3, options...)
	lc := &loadedCluster{Cluster: c, Seats: seats, Load: newClusterLoad()}
	for _, g := range c.Nodes {
		lc.Addrs = append(lc.Addrs, g.Addr(e2etest.CLMAddr))
	}
	key, err := signing.LoadOrCreate(c.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	lc.Pinned = key.Public().(ed25519.PublicKey)
	return lc
}

// dial connects a concurrent-lm client that lists every node, pins the
// cluster's key and fails over quickly; it is closed when t ends.
func (lc *loadedCluster) dial(ctx context.Context, t *testing.T) *client.Client {
	t.Helper()
	cl, err := client.Dial(ctx, strings.Join(lc.Addrs, ","), client.Options{
		PublicKey: lc.Pinned, RequestTimeout: 5 * time.Second,
		ReconnectMin: 20 * time.Millisecond, ReconnectMax: 200 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	return cl
}

// faults is the fault injector of TestClusterFaults (faults_test.go) on
// lc's cluster and load; its context is still to be set.
func (lc *loadedCluster) faults(t *testing.T) *faults {
	return &faults{t: t, c: lc.Cluster, pinned: lc.Pinned, load: lc.Load, seats: lc.Seats,
		down: map[int]bool{}, exits: map[int]int{}}
}
