package vendors

import (
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"crypto/ed25519"

	"github.com/licensegw/licensegw/internal/e2etest"
	"github.com/licensegw/licensegw/plugins/relay/keygenfile"
	"github.com/licensegw/licensegw/plugins/relay/loadgen"
)

// TestRelayBench is `make bench`'s relay figure, skipped unless
// RELAY_BENCH=1: claim -> release cycles by RELAY_CLIENTS clients (default
// 32) for RELAY_DURATION (default 10s) against the relay plugin of a real
// gateway (every claim and release journaled on the embedded NATS) serving
// 64 Keygen licence files, beside a trivial net/http handler answering the
// same routes with answers of the same size, in the same run.
func TestRelayBench(t *testing.T) {
	if os.Getenv("RELAY_BENCH") == "" {
		t.Skip("set RELAY_BENCH=1 (make bench) to run")
	}
	clients, _ := strconv.Atoi(os.Getenv("RELAY_CLIENTS"))
	if clients <= 0 {
		clients = 32
	}
	duration, _ := time.ParseDuration(os.Getenv("RELAY_DURATION"))
	if duration <= 0 {
		duration = 10 * time.Second
	}
	const files = 64
	pub := hex.EncodeToString(relayVendor.Public().(ed25519.PublicKey))
	g := e2etest.New(t, e2etest.Options{Bins: bins, Config: fmt.Sprintf(`
feature "bench" {
  seats     = %d
  lease_ttl = "60s"
}
`, files) + e2etest.RelayPlugin(fmt.Sprintf(`    pool         = "bench"
    licenses_dir = "{{.Path "licenses"}}"
    public_key   = %q
    rate         = 0`, pub))})
	dir := g.Path("licenses")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i := range files {
		id := fmt.Sprintf("bench-%03d", i)
		data, err := keygenfile.Issue(relayVendor, keygenfile.Spec{ID: id, Key: "KEY-" + id})
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, id+".lic"), data, 0o644)
		os.WriteFile(filepath.Join(dir, id+".key"), []byte("KEY-"+id), 0o600)
	}
	g.Start()
	c, err := loadgen.Compare(context.Background(), "licensegw relay plugin", loadgen.Options{
		URL: "http://" + g.Addr(e2etest.RelayAddr), Clients: clients, Duration: duration,
	})
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("relay: claim -> release, %d licence files, %d clients, %v each, answers of %d bytes\n%v\n",
		files, clients, duration, c.Server.BodySize, c)
	if c.Server.Errors > 0 {
		t.Errorf("%d requests failed", c.Server.Errors)
	}
}
