package vendors

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/licensegw/licensegw/gateway/events"
	"github.com/licensegw/licensegw/internal/e2etest"
	"github.com/licensegw/licensegw/plugins/relay/client"
	"github.com/licensegw/licensegw/plugins/relay/conformance"
	"github.com/licensegw/licensegw/plugins/relay/keygenfile"
)

const relaySecret = "e2e-relay-secret"

// relayVendor is the vendor account key the e2e licence files are signed
// with.
var relayVendor = ed25519.NewKeyFromSeed([]byte("licensegw e2e relay vendor key!!"))

// relayConfig serves cad from three Keygen licence files and dev from one
// plain seat over the relay plugin. Every client is 127.0.0.1, so the
// per-IP rate limit is lifted.
func relayConfig() string {
	pub := hex.EncodeToString(relayVendor.Public().(ed25519.PublicKey))
	return `
feature "cad" {
  seats     = 3
  lease_ttl = "5s"
}

feature "dev" {
  seats     = 1
  lease_ttl = "5s"
}
` + e2etest.RelayPlugin(fmt.Sprintf(`    pool           = "cad"
    pools          = ["dev"]
    licenses_dir   = "{{.Path "licenses"}}"
    public_key     = %q
    signing_secret = %q
    cull_interval  = "250ms"
    rate           = 0`, pub, relaySecret))
}

// writeRelayLicences issues the licence files into dir: three valid ones
// and one of each kind of bad file, and returns the valid licence ids.
func writeRelayLicences(t *testing.T, dir string) []string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name string, s keygenfile.Spec, key string) {
		data, err := keygenfile.Issue(relayVendor, s)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".lic"), data, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".key"), []byte(key), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var ids []string
	for i := range 3 {
		id := fmt.Sprintf("e2e-lic-%d", i)
		write(fmt.Sprintf("node-%d", i), keygenfile.Spec{ID: id, Key: "KEY-" + id, TTL: 24 * time.Hour}, "KEY-"+id)
		ids = append(ids, id)
	}
	write("x-expired", keygenfile.Spec{ID: "e2e-expired", Key: "KEY-X", Issued: time.Now().Add(-48 * time.Hour), TTL: time.Hour}, "KEY-X")
	write("x-wrongkey", keygenfile.Spec{ID: "e2e-wrongkey", Key: "KEY-W"}, "NOT-KEY-W")
	write("x-duplicate", keygenfile.Spec{ID: ids[0], Key: "KEY-" + ids[0]}, "KEY-"+ids[0])
	return ids
}

// TestRelay drives the relay plugin of a real gateway: the conformance
// suite of keygen-relay's node API through every route and status, the
// events the claims journal, bad input that journals nothing, and a
// plugin killed and a gateway restarted under held leases.
func TestRelay(t *testing.T) {
	g := e2etest.New(t, e2etest.Options{Bins: bins, Config: relayConfig()})
	ids := writeRelayLicences(t, g.Path("licenses"))
	g.Start()
	base := "http://" + g.Addr(e2etest.RelayAddr)

	t.Run("bad_files_reported", func(t *testing.T) {
		// The plugin's log lines reach the gateway's log through its
		// stderr, some time after the gateway is ready.
		e2etest.Eventually(t, 20*time.Second, "bad licence files in the gateway log", func() error {
			log := g.Log()
			for _, file := range []string{"x-expired.lic", "x-wrongkey.lic", "x-duplicate.lic"} {
				if !strings.Contains(log, "licence file not served") || !strings.Contains(log, file) {
					return fmt.Errorf("the gateway log does not report %s", file)
				}
			}
			return nil
		})
	})

	t.Run("conformance", func(t *testing.T) {
		conformance.Run(t, conformance.Target{
			URL: base, Pool: "cad", Seats: 3, OtherPool: "dev", TTL: 5 * time.Second, Files: true,
			Secret: []byte(relaySecret), Expiry: true, CullWithin: 2 * time.Second,
		})
	})

	t.Run("events", func(t *testing.T) {
		evs := g.Events()
		valid := map[string]bool{}
		for _, id := range ids {
			valid[id] = true
		}
		var checkouts, denials, expired int
		for _, e := range evs {
			if e.Protocol != "" && e.Protocol != "keygen-relay" {
				t.Errorf("event of protocol %q", e.Protocol)
			}
			switch e.Kind {
			case events.Checkout:
				checkouts++
				if e.Protocol != "keygen-relay" || e.Plugin != "relay" || !strings.HasPrefix(e.User, "conformance-") {
					t.Errorf("checkout event %+v", e.Event)
				}
				if e.Feature == "cad" && !valid[e.Display] {
					t.Errorf("checkout of cad with display %q, not a valid licence id", e.Display)
				}
				if e.Request != "relay:"+e.User {
					t.Errorf("checkout with request key %q", e.Request)
				}
			case events.Denied:
				denials++
			case events.Expired:
				expired++
			}
		}
		if checkouts < 10 || denials < 3 || expired < 3 {
			t.Fatalf("%d checkouts, %d denials, %d expiries journaled; want at least 10, 3, 3", checkouts, denials, expired)
		}
	})

	t.Run("bad_input_journals_nothing", func(t *testing.T) {
		before := len(g.Events())
		long := strings.Repeat("f", 129)
		for _, req := range []struct{ method, path, body, pool string }{
			{"PUT", "/v1/nodes/" + long, "", ""},
			{"PUT", "/v1/nodes/a%2Fb", "", ""},
			{"PUT", "/v1/nodes/a/b", "", ""},
			{"PUT", "/v1/nodes/%2E%2E", "", ""},
			{"PUT", "/v1/nodes/n1", `{"fingerprint":"n1"}`, ""},
			{"PUT", "/v1/nodes/n1", "", "prod"},
			{"DELETE", "/v1/nodes/n1", "", "dev"},
			{"POST", "/v1/nodes/n1", "", ""},
		} {
			r, _ := http.NewRequest(req.method, base+req.path, strings.NewReader(req.body))
			if req.pool != "" {
				r.Header.Set("Relay-Pool", req.pool)
			}
			resp, err := http.DefaultClient.Do(r)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode < 400 || resp.StatusCode >= 500 {
				t.Errorf("%s %s: %d", req.method, req.path, resp.StatusCode)
			}
		}
		c := client.New(base, client.Options{SigningSecret: []byte(relaySecret)})
		if err := c.Health(context.Background()); err != nil {
			t.Fatal(err)
		}
		if after := len(g.Events()); after != before {
			t.Fatalf("bad requests journaled %d events", after-before)
		}
	})

	t.Run("metrics", func(t *testing.T) {
		resp, err := g.AdminGet("/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, want := range []string{
			`licensegw_plugin_answers_total{plugin="relay",protocol="keygen-relay",status="201"}`,
			`licensegw_plugin_licence_files{plugin="relay",pool="cad",protocol="keygen-relay",state="free"}`,
		} {
			if !strings.Contains(string(body), want) {
				t.Errorf("/metrics lacks %s", want)
			}
		}
	})

	t.Run("plugin_killed_and_gateway_restarted", func(t *testing.T) {
		c := client.New(base, client.Options{SigningSecret: []byte(relaySecret)})
		ctx := context.Background()
		first, err := c.Claim(ctx, "survivor")
		if err != nil || !first.Created {
			t.Fatalf("claim: %v", err)
		}
		g.KillPlugin("relay", 30*time.Second)
		again, err := c.Claim(ctx, "survivor")
		if err != nil || again.Created || string(again.LicenseFile) != string(first.LicenseFile) {
			t.Fatalf("after the plugin was killed: %v, created %v, same file %v", err, again != nil && again.Created, err == nil && string(again.LicenseFile) == string(first.LicenseFile))
		}
		g.Restart()
		again, err = c.Claim(ctx, "survivor")
		if err != nil || again.Created || string(again.LicenseFile) != string(first.LicenseFile) {
			t.Fatalf("after the gateway restarted: %v, created %v, same file %v", err, again != nil && again.Created, err == nil && string(again.LicenseFile) == string(first.LicenseFile))
		}
		n := 0
		for _, e := range g.Events() {
			if e.Kind == events.Checkout && e.User == "survivor" {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("%d checkouts journaled for the node, want 1", n)
		}
		if err := c.Release(ctx, "survivor"); err != nil {
			t.Fatal(err)
		}
	})
}
