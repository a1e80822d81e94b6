package node

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/licensegw/licensegw/gateway/natsd"
	"github.com/licensegw/licensegw/gateway/natsd/natstest"
)

// clusterConfig writes the configuration of node name of an in-process
// three-node cluster (its NATS server is given with WithNATS, so the
// nats block's addresses are not used) with features, signing with the
// shared key file.
func clusterConfig(t *testing.T, name, keyFile, features string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.hcl")
	cfg := fmt.Sprintf(`
gateway {
  name     = %q
  data_dir = "data"
}
admin {
  enabled = false
}
signing {
  key_file = %q
}
nats {
  cluster {
    name   = "test"
    listen = "127.0.0.1:1"
    routes = ["nats-route://127.0.0.1:1", "nats-route://127.0.0.1:2", "nats-route://127.0.0.1:3"]
  }
  replicas = 3
}
%s`, name, keyFile, features)
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// startCluster starts a gateway on each of srvs (named n1, n2, ...) with
// the features features(name), and returns the first to lead. The others
// stand by until the test ends.
func startCluster(t *testing.T, srvs []*natsd.Server, features func(name string) string) *Node {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	keyFile := filepath.Join(t.TempDir(), "signing.key")
	leaders := make(chan *Node, len(srvs))
	errs := make(chan error, len(srvs))
	for i, ns := range srvs {
		name := fmt.Sprintf("n%d", i+1)
		path := clusterConfig(t, name, keyFile, features(name))
		go func() {
			n, err := Start(ctx, path, hclog.NewNullLogger(), WithNATS(ns))
			if err != nil {
				errs <- err
				return
			}
			leaders <- n
		}()
	}
	stopAll := func() {
		cancel()
		for range srvs {
			select {
			case n := <-leaders:
				sctx, scancel := context.WithTimeout(context.Background(), 20*time.Second)
				_ = n.DetachNATS() // natstest shuts the servers down
				_ = n.Shutdown(sctx)
				scancel()
			case <-errs:
			case <-time.After(30 * time.Second):
				t.Error("a node did not stop")
				return
			}
		}
	}
	var lost []*Node // Start returned, but the lease was lost meanwhile
	defer func() {
		for _, n := range lost {
			leaders <- n // stopAll stops them with the others
		}
	}()
	deadline := time.After(90 * time.Second)
	for {
		select {
		case n := <-leaders:
			if n.Err() != nil || n.ledger == nil {
				lost = append(lost, n) // under load: another node takes over
				continue
			}
			leaders <- n
			t.Cleanup(stopAll)
			return n
		case err := <-errs:
			stopAll()
			t.Fatal(err)
		case <-deadline:
			stopAll()
			t.Fatal("no node led within 90 s")
		}
	}
}

// Every node's configuration hash is in the presence bucket; the status
// lists it per node and marks the node whose features differ from the
// leader's.
func TestStatusShowsEachNodesConfigHash(t *testing.T) {
	srvs := natstest.StartCluster(t, 3)
	same := `feature "cad" { seats = 2 }`
	leader := startCluster(t, srvs, func(name string) string {
		if name == "n3" {
			return `feature "cad" { seats = 3 }` // differs
		}
		return same
	})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	self := leader.cfg.Gateway.Name
	for {
		if leader.Err() != nil {
			t.Skipf("the leader lost its lease under load (%v); nothing to check", leader.Err())
		}
		st := leader.Status(ctx).Cluster
		hashes, marked := map[string]string{}, map[string]bool{}
		for _, nd := range st.Nodes {
			hashes[nd.Name], marked[nd.Name] = nd.ConfigHash, nd.ConfigMismatch
		}
		if len(hashes) == 3 && hashes["n1"] != "" && hashes["n2"] != "" && hashes["n3"] != "" {
			if st.ConfigHash != hashes[self] || st.LeaderConfigHash != hashes[self] {
				t.Fatalf("leader %s: config_hash %s, leader_config_hash %s; its presence says %s", self, st.ConfigHash, st.LeaderConfigHash, hashes[self])
			}
			if hashes["n1"] != hashes["n2"] || hashes["n3"] == hashes["n1"] {
				t.Fatalf("hashes %v: want n1 = n2 != n3", hashes)
			}
			for name, m := range marked {
				if want := hashes[name] != hashes[self]; m != want {
					t.Errorf("node %s (hash %s) marked mismatch %v, want %v (leader %s, hash %s)", name, hashes[name], m, want, self, hashes[self])
				}
			}
			if st.ConfigMismatch != (hashes[self] != st.LeaderConfigHash) {
				t.Errorf("the leader's own config_mismatch is %v", st.ConfigMismatch)
			}
			t.Logf("leader %s, nodes %+v", self, st.Nodes)
			return
		}
		if ctx.Err() != nil {
			t.Fatalf("nodes %+v: every node's config hash never showed", st.Nodes)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
