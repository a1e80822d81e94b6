package node

import (
	"context"
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/licensegw/licensegw/gateway/admin"
	"github.com/licensegw/licensegw/gateway/seats"
	"github.com/licensegw/licensegw/gateway/token"
)

func writeConfig(t *testing.T, natsListen string) string {
	t.Helper()
	return writeConfigWith(t, natsListen, `
feature "cad" {
  seats = 2
}
`)
}

func writeConfigWith(t *testing.T, natsListen, features string) string {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "config.hcl")
	cfg := `
gateway {
  name     = "gw-test"
  data_dir = "data"
}
admin {
  listen = "127.0.0.1:0"
}
nats {
  listen = "` + natsListen + `"
}
` + features
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestStartServeShutdown(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	path := writeConfig(t, "127.0.0.1:0")
	n, err := Start(ctx, path, hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	tokenFile := filepath.Join(filepath.Dir(path), "data", "admin.token")
	tok, err := token.ReadFile(tokenFile)
	if err != nil {
		t.Fatalf("the admin token: %v", err)
	}
	if _, err := admin.NewClient(n.AdminAddr()).Status(ctx); !errors.Is(err, admin.ErrUnauthorized) {
		t.Fatalf("status without a token: %v", err)
	}
	c := admin.NewClient(n.AdminAddr(), admin.WithToken(tok))
	if err := c.Ready(ctx); err != nil {
		t.Fatalf("not ready: %v", err)
	}
	st, err := c.Status(ctx)
	if err != nil || len(st.Features) != 1 || st.Features[0].Name != "cad" || st.Features[0].Vendor != "local" {
		t.Fatalf("status %+v, %v", st, err)
	}
	if err := c.RemoveLease(ctx, "nope"); !errors.Is(err, admin.ErrNotFound) {
		t.Fatalf("removing an unknown lease: %v", err)
	}
	// A truncated token file refuses the reload, names the file, and the
	// API keeps serving with the tokens it had.
	if err := os.WriteFile(tokenFile, []byte(tok[:20]), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := c.Reload(ctx); err == nil || !strings.Contains(err.Error(), "admin.token") || !strings.Contains(err.Error(), "truncated") {
		t.Fatalf("reload with a truncated token file: %v", err)
	}
	if _, err := c.Status(ctx); err != nil {
		t.Fatalf("status after the refused reload: %v", err)
	}
	if !strings.HasPrefix(n.NATSURL(), "nats://127.0.0.1:") {
		t.Errorf("NATS URL %q", n.NATSURL())
	}
	if err := n.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(path), "data", "snapshot.json")); err != nil {
		t.Errorf("no snapshot after a clean stop: %v", err)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(path), "data", "signing.key")); err != nil {
		t.Errorf("no signing key: %v", err)
	}
}

// TestStartFailsCleanly: a port already taken is an error, not a crash, and
// what had started is taken down again.
func TestStartFailsCleanly(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	_, err = Start(ctx, writeConfig(t, busy.Addr().String()), hclog.NewNullLogger())
	if err == nil || !strings.Contains(err.Error(), "address already in use") {
		t.Fatalf("Start on a busy port: %v", err)
	}
}

func TestInvalidConfigIsAConfigError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.hcl")
	if err := os.WriteFile(path, []byte("feature \"x\" {\n  seats = -1\n}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Start(context.Background(), path, hclog.NewNullLogger())
	var ce *ConfigError
	if !errors.As(err, &ce) || len(ce.Diags) != 1 || ce.Diags[0].Subject.Start.Line != 2 {
		t.Fatalf("Start with a bad config: %v", err)
	}
}

// TestRestartForgetsEndedLeases: leases that expired, were removed or
// checked in stay gone when the node restarts, from its snapshot and, with
// the snapshot deleted, from the journal alone; GONE still says why; the
// lease that was live comes back with a fresh TTL.
func TestRestartForgetsEndedLeases(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	path := writeConfigWith(t, "127.0.0.1:0", `
feature "short" {
  seats     = 3
  lease_ttl = "5s"
}
feature "long" {
  seats     = 1
  lease_ttl = "10m"
}
`)
	n, err := Start(ctx, path, hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Shutdown(context.Background()) })
	grant := func(feature, user string) string {
		res, _, err := n.ledger.Checkout(ctx, seats.CheckoutRequest{Feature: feature, Client: seats.Client{User: user, Host: "h"}})
		if err != nil || res.Outcome != seats.Granted {
			t.Fatalf("checkout of %s: %+v, %v", feature, res, err)
		}
		return res.Lease.ID
	}
	expired, removed, checkedIn, live := grant("short", "exp"), grant("short", "rm"), grant("short", "ci"), grant("long", "live")
	if err := n.ledger.Remove(ctx, removed, "test"); err != nil {
		t.Fatal(err)
	}
	if err := n.ledger.Checkin(ctx, checkedIn); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if _, ok := n.ledger.Lease(expired); !ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the short lease did not expire")
		}
	}
	gone := map[string]seats.Reason{expired: seats.GoneExpired, removed: seats.GoneRemoved, checkedIn: seats.GoneUnknown}

	for _, from := range []string{"snapshot", "journal"} {
		if err := n.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
		snap := filepath.Join(filepath.Dir(path), "data", "snapshot.json")
		if _, err := os.Stat(snap); err != nil {
			t.Fatalf("no snapshot after a clean stop: %v", err)
		}
		if from == "journal" {
			// Every snapshot gone (the latest and the one before it): the
			// state comes from the stream alone.
			for _, name := range []string{"snapshot.json", "snapshot.prev.json"} {
				if err := os.Remove(filepath.Join(filepath.Dir(snap), name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
					t.Fatal(err)
				}
			}
		}
		restarted := time.Now()
		if n, err = Start(ctx, path, hclog.NewNullLogger()); err != nil {
			t.Fatalf("restart from the %s: %v", from, err)
		}
		if leases, tickets := n.ledger.Counts(); leases != 1 || tickets != 0 {
			t.Errorf("from the %s: %d leases, %d tickets; want only %s", from, leases, tickets, live)
		}
		if l, ok := n.ledger.Lease(live); !ok || l.Expires.Before(restarted.Add(9*time.Minute)) {
			t.Errorf("from the %s: live lease %+v (%v), want it back with a fresh TTL", from, l, ok)
		}
		for id, want := range gone {
			_, err := n.ledger.Heartbeat(ctx, id)
			var g *seats.GoneError
			if !errors.As(err, &g) || g.Reason != want {
				t.Errorf("from the %s: heartbeat of ended lease %s: %v, want gone (%s)", from, id, err, want)
			}
		}
	}
}
