package relay

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/licensegw/licensegw/plugins/relay/client"
	"github.com/licensegw/licensegw/plugins/relay/keygenfile"
	"github.com/licensegw/licensegw/sdk/sdktest"
)

func TestPlainSeats(t *testing.T) {
	seats := sdktest.NewSeats(sdktest.Feature{Name: "cad", Seats: 1, TTL: 60 * time.Second})
	r := serve(t, seats, map[string]any{}, nil)
	node := r.base + NodesPrefix + "node-a"

	a := do(t, "PUT", node, "")
	if a.status != http.StatusCreated {
		t.Fatalf("claim: %d %s", a.status, a.body)
	}
	var body map[string]any
	if err := json.Unmarshal([]byte(a.body), &body); err != nil {
		t.Fatal(err)
	}
	if body["license_file"] != nil || body["license_key"] != nil || body["expires_in"] != float64(60) {
		t.Fatalf("claim body of plain seats: %s", a.body)
	}
	if exp := int64(body["expires_at"].(float64)); exp < time.Now().Unix()+55 || exp > time.Now().Unix()+61 {
		t.Fatalf("expires_at %d, now %d", exp, time.Now().Unix())
	}
	if a.header.Get(ClockHeader) == "" || a.header.Get("Content-Type") != "application/json" {
		t.Fatalf("headers %v", a.header)
	}
	if a := do(t, "PUT", node, ""); a.status != http.StatusAccepted {
		t.Fatalf("heartbeat: %d %s", a.status, a.body)
	}
	if a := do(t, "PUT", r.base+NodesPrefix+"node-b", ""); a.status != http.StatusGone || !strings.Contains(a.body, `"error":"no licenses available"`) {
		t.Fatalf("claim with no seat free: %d %s", a.status, a.body)
	}
	if n := inUse(t, seats, "cad"); n != 1 {
		t.Fatalf("%d seats in use, want 1", n)
	}
	if a := do(t, "DELETE", node, ""); a.status != http.StatusNoContent || a.body != "" {
		t.Fatalf("release: %d %q", a.status, a.body)
	}
	if a := do(t, "DELETE", node, ""); a.status != http.StatusNotFound || !strings.Contains(a.body, "claim not found") {
		t.Fatalf("second release: %d %s", a.status, a.body)
	}
	if n := inUse(t, seats, "cad"); n != 0 {
		t.Fatalf("%d seats in use after release", n)
	}
	if a := do(t, "GET", r.base+HealthPath, ""); a.status != http.StatusOK {
		t.Fatalf("health: %d", a.status)
	}
	st := r.plugin.Stats()
	if st.Created != 1 || st.Extended != 1 || st.Released != 1 || st.Gone != 1 || st.NotFound != 1 {
		t.Fatalf("stats %+v", st)
	}
	found := false
	for _, m := range r.h.Env.Metrics.Snapshot() {
		if m.Name == "answers_total" && m.Labels["status"] == "201" {
			found = m.Value == 1
		}
	}
	if !found {
		t.Fatal("no answers_total{status=\"201\"} of 1 among the plugin's metrics")
	}
}

func TestLicenceFilesByStrategy(t *testing.T) {
	dir := licenceDir(t, 3)
	tests := []struct {
		strategy string
		first    string
	}{
		{"fifo", "lic-00"},
		{"lifo", "lic-02"},
	}
	for _, tt := range tests {
		t.Run(tt.strategy, func(t *testing.T) {
			seats := sdktest.NewSeats(sdktest.Feature{Name: "cad", Seats: 3})
			r := serve(t, seats, map[string]any{"licenses_dir": dir, "public_key": vendorHex(), "strategy": tt.strategy}, nil)
			c := client.New(r.base, client.Options{})
			ctx := context.Background()
			cl, err := c.Claim(ctx, "n1")
			if err != nil {
				t.Fatal(err)
			}
			lic, err := keygenfile.Open(cl.LicenseFile, cl.LicenseKey, vendorPub(), time.Now())
			if err != nil {
				t.Fatalf("the file a claim returns: %v", err)
			}
			if lic.ID != tt.first || !cl.Created {
				t.Fatalf("first claim got %s (created %v), want %s", lic.ID, cl.Created, tt.first)
			}
			again, err := c.Claim(ctx, "n1")
			if err != nil || again.Created || string(again.LicenseFile) != string(cl.LicenseFile) {
				t.Fatalf("heartbeat: %v, created %v, same file %v", err, again != nil && again.Created, err == nil && string(again.LicenseFile) == string(cl.LicenseFile))
			}
			seen := map[string]bool{lic.ID: true}
			for _, fp := range []string{"n2", "n3"} {
				cl, err := c.Claim(ctx, fp)
				if err != nil {
					t.Fatal(err)
				}
				l, _ := keygenfile.Open(cl.LicenseFile, cl.LicenseKey, vendorPub(), time.Now())
				if l == nil || seen[l.ID] {
					t.Fatalf("%s got a file already handed out", fp)
				}
				seen[l.ID] = true
			}
			if _, err := c.Claim(ctx, "n4"); !errorsIs(err, client.ErrNoLicenses) {
				t.Fatalf("fourth claim: %v, want 410", err)
			}
			if err := c.Release(ctx, "n1"); err != nil {
				t.Fatal(err)
			}
			cl, err = c.Claim(ctx, "n4")
			if err != nil {
				t.Fatal(err)
			}
			if l, _ := keygenfile.Open(cl.LicenseFile, cl.LicenseKey, vendorPub(), time.Now()); l == nil || l.ID != tt.first {
				t.Fatalf("the freed file %s was not handed out again", tt.first)
			}
		})
	}
}

func TestRandStrategyUsesEveryFile(t *testing.T) {
	dir := licenceDir(t, 4)
	seats := sdktest.NewSeats(sdktest.Feature{Name: "cad", Seats: 4})
	r := serve(t, seats, map[string]any{"licenses_dir": dir, "public_key": vendorHex(), "strategy": "rand"}, nil)
	c := client.New(r.base, client.Options{})
	seen := map[string]int{}
	for range 200 {
		cl, err := c.Claim(context.Background(), "n")
		if err != nil {
			t.Fatal(err)
		}
		seen[string(cl.LicenseFile)]++
		if err := c.Release(context.Background(), "n"); err != nil {
			t.Fatal(err)
		}
	}
	if len(seen) != 4 {
		t.Fatalf("rand handed out %d distinct files of 4 in 200 claims", len(seen))
	}
}

// TestRetriedClaimTakesOneSeat: the same fingerprint claimed by many
// concurrent requests holds one seat; all but one are heartbeats.
func TestRetriedClaimTakesOneSeat(t *testing.T) {
	seats := sdktest.NewSeats(sdktest.Feature{Name: "cad", Seats: 10})
	r := serve(t, seats, map[string]any{}, nil)
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[int]int{}
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := do(t, "PUT", r.base+NodesPrefix+"same-node", "")
			mu.Lock()
			codes[a.status]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if codes[http.StatusCreated] != 1 || codes[http.StatusAccepted] != 31 {
		t.Fatalf("answers %v, want one 201 and 31 202", codes)
	}
	if n := inUse(t, seats, "cad"); n != 1 {
		t.Fatalf("%d seats in use, want 1", n)
	}
}

func TestPools(t *testing.T) {
	seats := sdktest.NewSeats(sdktest.Feature{Name: "cad", Seats: 2}, sdktest.Feature{Name: "dev", Seats: 2})
	r := serve(t, seats, map[string]any{"pools": []string{"dev", "ghost"}}, nil)
	node := r.base + NodesPrefix + "n1"
	if a := do(t, "PUT", node, "", PoolHeader, "dev"); a.status != http.StatusCreated {
		t.Fatalf("claim in dev: %d %s", a.status, a.body)
	}
	if a := do(t, "PUT", node, ""); a.status != http.StatusConflict {
		t.Fatalf("the same node in the default pool: %d %s, want 409", a.status, a.body)
	}
	if a := do(t, "DELETE", node, ""); a.status != http.StatusNotFound {
		t.Fatalf("release in the wrong pool: %d %s, want 404", a.status, a.body)
	}
	if a := do(t, "PUT", node, "", PoolHeader, "prod"); a.status != http.StatusBadRequest || !strings.Contains(a.body, "invalid pool") {
		t.Fatalf("a pool not served: %d %s", a.status, a.body)
	}
	if a := do(t, "PUT", r.base+NodesPrefix+"n2", "", PoolHeader, "ghost"); a.status != http.StatusBadRequest || !strings.Contains(a.body, "no such feature") {
		t.Fatalf("a pool that is no feature: %d %s", a.status, a.body)
	}
	if a := do(t, "DELETE", node, "", PoolHeader, "dev"); a.status != http.StatusNoContent {
		t.Fatalf("release in dev: %d %s", a.status, a.body)
	}
	if n := inUse(t, seats, "cad") + inUse(t, seats, "dev"); n != 0 {
		t.Fatalf("%d seats in use", n)
	}
}

func TestBoundPoolRefusesOthers(t *testing.T) {
	seats := sdktest.NewSeats(sdktest.Feature{Name: "cad", Seats: 2}, sdktest.Feature{Name: "dev", Seats: 2})
	r := serve(t, seats, map[string]any{}, nil)
	a := do(t, "PUT", r.base+NodesPrefix+"n1", "", PoolHeader, "dev")
	if a.status != http.StatusBadRequest || !strings.Contains(a.body, "unsupported pool header") {
		t.Fatalf("%d %s", a.status, a.body)
	}
	if a := do(t, "PUT", r.base+NodesPrefix+"n1", "", PoolHeader, "cad"); a.status != http.StatusCreated {
		t.Fatalf("naming the bound pool: %d %s", a.status, a.body)
	}
}

func TestNoHeartbeats(t *testing.T) {
	seats := sdktest.NewSeats(sdktest.Feature{Name: "cad", Seats: 2})
	r := serve(t, seats, map[string]any{"heartbeats": false}, nil)
	node := r.base + NodesPrefix + "n1"
	do(t, "PUT", node, "")
	if a := do(t, "PUT", node, ""); a.status != http.StatusConflict || !strings.Contains(a.body, "conflict") {
		t.Fatalf("%d %s", a.status, a.body)
	}
}

func TestSignedResponses(t *testing.T) {
	secret := []byte("shared-secret")
	seats := sdktest.NewSeats(sdktest.Feature{Name: "cad", Seats: 1})
	r := serve(t, seats, map[string]any{"signing_secret": string(secret)}, nil)
	for _, req := range []struct{ method, path string }{
		{"PUT", NodesPrefix + "n1"}, {"PUT", NodesPrefix + "n1"}, {"PUT", NodesPrefix + "n2"},
		{"DELETE", NodesPrefix + "n1"}, {"DELETE", NodesPrefix + "n1"}, {"GET", HealthPath}, {"GET", "/nope"},
	} {
		a := do(t, req.method, r.base+req.path, "")
		if err := client.Verify(secret, a.header.Get(SignatureHeader), []byte(a.body), time.Now(), time.Minute); err != nil {
			t.Fatalf("%s %s (%d): %v", req.method, req.path, a.status, err)
		}
		if err := client.Verify([]byte("other"), a.header.Get(SignatureHeader), []byte(a.body), time.Now(), time.Minute); err == nil {
			t.Fatalf("%s %s verifies with another secret", req.method, req.path)
		}
	}
	c := client.New(r.base, client.Options{SigningSecret: secret})
	if err := c.Health(context.Background()); err != nil {
		t.Fatal(err)
	}
	bad := client.New(r.base, client.Options{SigningSecret: []byte("wrong")})
	if err := bad.Health(context.Background()); !errorsIs(err, client.ErrSignature) {
		t.Fatalf("a client with the wrong secret: %v", err)
	}
}

func TestExpiredLeaseFreesItsFile(t *testing.T) {
	clock := newFakeClock()
	seats := sdktest.NewSeats(sdktest.Feature{Name: "cad", Seats: 1, TTL: 30 * time.Second}).WithClock(clock.Now)
	dir := licenceDir(t, 1)
	r := serve(t, seats, map[string]any{"licenses_dir": dir, "public_key": vendorHex(), "cull_interval": 20 * time.Millisecond}, clock.Now)
	if a := do(t, "PUT", r.base+NodesPrefix+"n1", ""); a.status != http.StatusCreated {
		t.Fatalf("%d %s", a.status, a.body)
	}
	if a := do(t, "PUT", r.base+NodesPrefix+"n2", ""); a.status != http.StatusGone {
		t.Fatalf("%d %s", a.status, a.body)
	}
	clock.Add(31 * time.Second)
	deadline := time.Now().Add(5 * time.Second)
	for r.plugin.Stats().Nodes != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the expired node was never culled")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if a := do(t, "PUT", r.base+NodesPrefix+"n2", ""); a.status != http.StatusCreated || !strings.Contains(a.body, base64.StdEncoding.EncodeToString([]byte(keygenfile.BeginLine))[:20]) {
		t.Fatalf("claim after the first lease expired: %d %s", a.status, a.body)
	}
	// The expired node heartbeats late: its lease is gone, it claims
	// afresh and there is no file left.
	if a := do(t, "PUT", r.base+NodesPrefix+"n1", ""); a.status != http.StatusGone {
		t.Fatalf("late heartbeat: %d %s", a.status, a.body)
	}
	if a := do(t, "DELETE", r.base+NodesPrefix+"n1", ""); a.status != http.StatusNotFound {
		t.Fatalf("release of the expired node: %d %s", a.status, a.body)
	}
}

// TestRestartKeepsNodesAndFiles: a new plugin process over the same
// gateway finds the nodes' leases and their licence files again.
func TestRestartKeepsNodesAndFiles(t *testing.T) {
	seats := sdktest.NewSeats(sdktest.Feature{Name: "cad", Seats: 3})
	dir := licenceDir(t, 3)
	cfg := func() map[string]any {
		return map[string]any{"licenses_dir": dir, "public_key": vendorHex(), "strategy": "lifo"}
	}
	r := serve(t, seats, cfg(), nil)
	c := client.New(r.base, client.Options{})
	first, err := c.Claim(context.Background(), "n1")
	if err != nil {
		t.Fatal(err)
	}
	if err := r.h.Stop(); err != nil {
		t.Fatal(err)
	}
	r2 := serve(t, seats, cfg(), nil)
	c2 := client.New(r2.base, client.Options{})
	again, err := c2.Claim(context.Background(), "n1")
	if err != nil {
		t.Fatal(err)
	}
	if again.Created || string(again.LicenseFile) != string(first.LicenseFile) {
		t.Fatalf("after a restart: created %v, same file %v", again.Created, string(again.LicenseFile) == string(first.LicenseFile))
	}
	other, err := c2.Claim(context.Background(), "n2")
	if err != nil || string(other.LicenseFile) == string(first.LicenseFile) {
		t.Fatalf("a new node got the recovered node's file (%v)", err)
	}
	if n := inUse(t, seats, "cad"); n != 2 {
		t.Fatalf("%d seats in use, want 2", n)
	}
}

// TestMoreSeatsThanFiles: with every file handed out, a claim answers 410
// even though the feature has a free seat, and holds no seat.
func TestMoreSeatsThanFiles(t *testing.T) {
	seats := sdktest.NewSeats(sdktest.Feature{Name: "cad", Seats: 5})
	r := serve(t, seats, map[string]any{"licenses_dir": licenceDir(t, 1), "public_key": vendorHex()}, nil)
	if a := do(t, "PUT", r.base+NodesPrefix+"n1", ""); a.status != http.StatusCreated {
		t.Fatalf("%d %s", a.status, a.body)
	}
	if a := do(t, "PUT", r.base+NodesPrefix+"n2", ""); a.status != http.StatusGone {
		t.Fatalf("claim with no file free: %d %s", a.status, a.body)
	}
	if n := inUse(t, seats, "cad"); n != 1 {
		t.Fatalf("%d seats in use, want 1", n)
	}
}

// TestLicenceDirReread: a file added while serving is handed out after the
// next cull; a file removed is not handed out again once its node releases
// it.
func TestLicenceDirReread(t *testing.T) {
	dir := licenceDir(t, 1)
	seats := sdktest.NewSeats(sdktest.Feature{Name: "cad", Seats: 5})
	r := serve(t, seats, map[string]any{"licenses_dir": dir, "public_key": vendorHex(), "cull_interval": 50 * time.Millisecond}, nil)
	c := client.New(r.base, client.Options{})
	ctx := context.Background()
	if _, err := c.Claim(ctx, "n1"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Claim(ctx, "n2"); !errorsIs(err, client.ErrNoLicenses) {
		t.Fatalf("second claim with one file: %v", err)
	}
	writeLicence(t, dir, "node-new", "lic-new", nil)
	deadline := time.Now().Add(10 * time.Second)
	for {
		cl, err := c.Claim(ctx, "n2")
		if err == nil {
			if l, _ := keygenfile.Open(cl.LicenseFile, cl.LicenseKey, vendorPub(), time.Now()); l == nil || l.ID != "lic-new" {
				t.Fatalf("n2 got %v, want lic-new", l)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the added file was never handed out: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// n1 holds lic-00; its file goes away, then n1 releases.
	if err := os.Remove(filepath.Join(dir, "node-00.lic")); err != nil {
		t.Fatal(err)
	}
	r.plugin.mu.Lock()
	lp := r.plugin.srv.files["cad"]
	r.plugin.mu.Unlock()
	for deadline := time.Now().Add(10 * time.Second); markedAside(lp) == 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the removed file was never set aside")
		}
	}
	if free, held, aside := lp.counts(); free != 0 || held != 2 || aside != 0 {
		// The removed file is still held: not free, not counted aside.
		t.Fatalf("free %d, held %d, aside %d", free, held, aside)
	}
	if err := c.Release(ctx, "n1"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Claim(ctx, "n3"); !errorsIs(err, client.ErrNoLicenses) {
		t.Fatalf("a claim after the removed file was released: %v, want 410", err)
	}
}

// markedAside is the number of lp's files set aside, held or not.
func markedAside(lp *licencePool) int {
	lp.mu.Lock()
	defer lp.mu.Unlock()
	return len(lp.aside)
}
