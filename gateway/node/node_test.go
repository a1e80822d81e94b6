package node

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/licensegw/licensegw/gateway/admin"
)

func writeConfig(t *testing.T, natsListen string) string {
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
feature "cad" {
  seats = 2
}
`
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
	c := admin.NewClient(n.AdminAddr())
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
