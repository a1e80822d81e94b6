package relay

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/licensegw/licensegw/plugins/relay/keygenfile"
	"github.com/licensegw/licensegw/sdk"
	"github.com/licensegw/licensegw/sdk/sdktest"
)

// TestBadRequests: every malformed request gets a clear JSON error, no seat
// is taken, and the server keeps serving.
func TestBadRequests(t *testing.T) {
	seats := sdktest.NewSeats(sdktest.Feature{Name: "cad", Seats: 5})
	r := serve(t, seats, map[string]any{"pools": []string{"dev"}}, nil)
	long := strings.Repeat("f", MaxFingerprintLen+1)
	tests := []struct {
		name, method, path, body string
		headers                  []string
		status                   int
		want                     string
	}{
		{"fingerprint too long", "PUT", NodesPrefix + long, "", nil, 400, "longer than 128 bytes"},
		{"escaped slash", "PUT", NodesPrefix + "a%2Fb", "", nil, 400, "path character"},
		{"two segments", "PUT", NodesPrefix + "a/b", "", nil, 400, "path character"},
		{"backslash", "PUT", NodesPrefix + "a%5Cb", "", nil, 400, "path character"},
		{"dot dot", "PUT", NodesPrefix + "%2E%2E", "", nil, 400, "path element"},
		{"space", "PUT", NodesPrefix + "a%20b", "", nil, 400, "printable ASCII"},
		{"control", "PUT", NodesPrefix + "a%00b", "", nil, 400, "control character"},
		{"utf-8", "PUT", NodesPrefix + "%C3%A9", "", nil, 400, "printable ASCII"},
		{"empty", "PUT", NodesPrefix, "", nil, 400, "empty"},
		{"body on PUT", "PUT", NodesPrefix + "n1", `{"fingerprint":"n1"}`, nil, 400, "takes no request body"},
		{"body on DELETE", "DELETE", NodesPrefix + "n1", "x", nil, 400, "takes no request body"},
		{"pool not served", "PUT", NodesPrefix + "n1", "", []string{PoolHeader, "prod"}, 400, "invalid pool prod"},
		{"pool not a name", "PUT", NodesPrefix + "n1", "", []string{PoolHeader, "a b/c"}, 400, "invalid pool"},
		{"two pools", "PUT", NodesPrefix + "n1", "", []string{PoolHeader, "cad", PoolHeader, "dev"}, 400, "more than one"},
		{"GET a node", "GET", NodesPrefix + "n1", "", nil, 405, "method not allowed"},
		{"POST health", "POST", HealthPath, "", nil, 405, "method not allowed"},
		{"unknown route", "GET", "/v2/nodes/n1", "", nil, 404, "not found"},
		{"root", "GET", "/", "", nil, 404, "not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := do(t, tt.method, r.base+tt.path, tt.body, tt.headers...)
			if a.status != tt.status || !strings.Contains(a.body, `"error":`) || !strings.Contains(a.body, tt.want) {
				t.Fatalf("%s %s: %d %s, want %d with %q", tt.method, tt.path, a.status, a.body, tt.status, tt.want)
			}
		})
	}
	// What net/http clients refuse to send, written by hand: net/http
	// answers a request line it cannot parse itself, before the plugin.
	if got := raw(t, r.h.Addr(ListenerName), "PUT /v1/nodes/a%zz HTTP/1.1\r\nHost: x\r\n\r\n"); !strings.HasPrefix(got, "HTTP/1.1 400") {
		t.Fatalf("a bad escape: %q", got)
	}
	if n := inUse(t, seats, "cad"); n != 0 {
		t.Fatalf("%d seats taken by bad requests", n)
	}
	if a := do(t, "PUT", r.base+NodesPrefix+"n1", ""); a.status != http.StatusCreated {
		t.Fatalf("a good claim after the bad ones: %d %s", a.status, a.body)
	}
	if a := do(t, "PUT", r.base+NodesPrefix+strings.Repeat("f", MaxFingerprintLen), ""); a.status != http.StatusCreated {
		t.Fatalf("a fingerprint of the maximum length: %d %s", a.status, a.body)
	}
}

func TestOversizedHeaders(t *testing.T) {
	seats := sdktest.NewSeats(sdktest.Feature{Name: "cad", Seats: 1})
	r := serve(t, seats, map[string]any{"max_header_bytes": 2048}, nil)
	// The first request of a connection (net/http's own limit) and a
	// later one on a keep-alive connection (the plugin's).
	for i := range 2 {
		a := do(t, "PUT", r.base+NodesPrefix+"n1", "", "X-Junk", strings.Repeat("j", 3000))
		if a.status != http.StatusRequestHeaderFieldsTooLarge {
			t.Fatalf("request %d: %d %s", i, a.status, a.body)
		}
		do(t, "GET", r.base+HealthPath, "")
	}
	if a := do(t, "PUT", r.base+NodesPrefix+"n1", ""); a.status != http.StatusCreated {
		t.Fatalf("after oversized headers: %d", a.status)
	}
}

func TestRateLimit(t *testing.T) {
	seats := sdktest.NewSeats(sdktest.Feature{Name: "cad", Seats: 1})
	r := serve(t, seats, map[string]any{"rate": 1, "burst": 3}, nil)
	// waitHealthy took at least one token; the burst allows two more.
	codes := []int{}
	for range 4 {
		codes = append(codes, do(t, "GET", r.base+HealthPath, "").status)
	}
	if codes[len(codes)-1] != http.StatusTooManyRequests {
		t.Fatalf("answers %v, want the last to be 429", codes)
	}
	if r.plugin.Stats().Limited == 0 {
		t.Fatal("no request counted as limited")
	}
}

func TestUnavailableGateway(t *testing.T) {
	seats := sdktest.NewSeats(sdktest.Feature{Name: "cad", Seats: 1})
	r := serve(t, seats, map[string]any{}, nil)
	seats.FailWith(sdk.ErrUnavailable)
	a := do(t, "PUT", r.base+NodesPrefix+"n1", "")
	if a.status != http.StatusServiceUnavailable || a.header.Get("Retry-After") == "" {
		t.Fatalf("%d %s", a.status, a.body)
	}
	seats.FailWith(nil)
	if a := do(t, "PUT", r.base+NodesPrefix+"n1", ""); a.status != http.StatusCreated {
		t.Fatalf("after the gateway came back: %d %s", a.status, a.body)
	}
}

// TestLoadLicences: every file that cannot be served is reported by name
// with the reason, and the others are served.
func TestLoadLicences(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	writeLicence(t, dir, "a-good", "lic-a", nil)
	writeLicence(t, dir, "b-wrongkey", "lic-b", nil)
	os.WriteFile(filepath.Join(dir, "b-wrongkey.key"), []byte("NOT-THE-KEY"), 0o600)
	writeLicence(t, dir, "c-expired", "lic-c", func(s *keygenfile.Spec) { s.Issued, s.TTL = now.Add(-48*time.Hour), time.Hour })
	writeLicence(t, dir, "d-duplicate", "lic-a", nil)
	writeLicence(t, dir, "e-nokey", "lic-e", nil)
	os.Remove(filepath.Join(dir, "e-nokey.key"))
	os.WriteFile(filepath.Join(dir, "f-garbage.lic"), []byte("not a licence file"), 0o644)
	os.WriteFile(filepath.Join(dir, "f-garbage.key"), []byte("k"), 0o600)
	_, otherVendor, _ := ed25519GenerateKey()
	data, _ := keygenfile.Issue(otherVendor, keygenfile.Spec{ID: "lic-g", Key: "KG"})
	os.WriteFile(filepath.Join(dir, "g-forged.lic"), data, 0o644)
	os.WriteFile(filepath.Join(dir, "g-forged.key"), []byte("KG"), 0o600)
	os.WriteFile(filepath.Join(dir, "README.txt"), []byte("ignored"), 0o644)
	writeLicence(t, filepath.Join(dir, "dev"), "x", "lic-dev", nil)
	writeLicence(t, filepath.Join(dir, "bad pool"), "y", "lic-y", nil)

	pools, problems, err := loadLicences(dir, "cad", vendorPub(), now)
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(pools["cad"]); got != "lic-a" {
		t.Errorf("cad serves %s, want lic-a", got)
	}
	if got := ids(pools["dev"]); got != "lic-dev" {
		t.Errorf("dev serves %s, want lic-dev", got)
	}
	want := map[string]error{
		"b-wrongkey.lic":  keygenfile.ErrKey,
		"c-expired.lic":   keygenfile.ErrExpired,
		"d-duplicate.lic": ErrDuplicate,
		"e-nokey.lic":     os.ErrNotExist,
		"f-garbage.lic":   keygenfile.ErrFormat,
		"g-forged.lic":    keygenfile.ErrSignature,
		"bad pool/":       ErrInvalidPool,
	}
	got := map[string]error{}
	for _, p := range problems {
		got[p.File] = p.Err
	}
	for file, sentinel := range want {
		err, ok := got[file]
		switch {
		case !ok:
			t.Errorf("%s not reported", file)
		case file == "e-nokey.lic":
			if !strings.Contains(err.Error(), "e-nokey.key is missing") {
				t.Errorf("%s: %v", file, err)
			}
		case !errors.Is(err, sentinel):
			t.Errorf("%s: %v, want %v", file, err, sentinel)
		}
	}
	if len(problems) != len(want) {
		t.Errorf("problems %v", problems)
	}
	if _, _, err := loadLicences(filepath.Join(dir, "missing"), "cad", vendorPub(), now); err == nil {
		t.Error("a missing directory loaded")
	}
}

func ids(ls []*licence) string {
	var out []string
	for _, l := range ls {
		out = append(out, l.id)
	}
	return strings.Join(out, ",")
}

// TestConfigErrors: a bad configuration stops Serve with an error naming
// the attribute.
func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  map[string]any
		want string
	}{
		{"no pool", map[string]any{}, "pool"},
		{"pool not a name", map[string]any{"pool": "a b"}, "pool"},
		{"short public key", map[string]any{"pool": "cad", "public_key": vendorHex()[:40]}, "public_key"},
		{"public key not hex", map[string]any{"pool": "cad", "public_key": strings.Repeat("z", 64)}, "public_key"},
		{"dir without key", map[string]any{"pool": "cad", "licenses_dir": "."}, "needs public_key"},
		{"missing dir", map[string]any{"pool": "cad", "licenses_dir": "/nonexistent", "public_key": vendorHex()}, "licenses_dir"},
		{"strategy", map[string]any{"pool": "cad", "strategy": "best"}, "strategy"},
		{"header bytes", map[string]any{"pool": "cad", "max_header_bytes": 10.0}, "max_header_bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			err = New().Serve(context.Background(), &sdk.Env{
				Config:    sdk.NewConfig(tt.cfg),
				Listeners: map[string]net.Listener{ListenerName: ln},
				Seats:     sdktest.NewSeats(),
			})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Serve: %v, want an error about %s", err, tt.want)
			}
		})
	}
}
