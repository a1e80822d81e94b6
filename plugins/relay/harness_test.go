package relay

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/licensegw/licensegw/plugins/relay/keygenfile"
	"github.com/licensegw/licensegw/sdk"
	"github.com/licensegw/licensegw/sdk/sdktest"
)

// vendor is the test vendor's Ed25519 key (a fixed seed, so fixtures are
// reproducible).
var vendor = ed25519.NewKeyFromSeed([]byte("licensegw relay test vendor key!"))

func vendorHex() string { return hex.EncodeToString(vendor.Public().(ed25519.PublicKey)) }

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Now().Truncate(time.Second)} }

func (c *fakeClock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

// writeLicence issues a licence file for id into dir/sub as name.lic with
// its key in name.key, and returns the key.
func writeLicence(t testing.TB, dir, name, id string, edit func(*keygenfile.Spec)) string {
	t.Helper()
	key := "KEY-" + strings.ToUpper(id)
	s := keygenfile.Spec{ID: id, Name: name, Key: key, TTL: 30 * 24 * time.Hour}
	if edit != nil {
		edit(&s)
	}
	data, err := keygenfile.Issue(vendor, s)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".lic"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".key"), []byte(key+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return key
}

// licenceDir writes n licence files lic-0 ... into a new directory.
func licenceDir(t testing.TB, n int) string {
	t.Helper()
	dir := t.TempDir()
	for i := range n {
		writeLicence(t, dir, fmt.Sprintf("node-%02d", i), fmt.Sprintf("lic-%02d", i), nil)
	}
	return dir
}

// running is the plugin serving on a loopback port.
type running struct {
	plugin *Plugin
	h      *sdktest.Harness
	base   string
}

func serve(t testing.TB, seats sdk.Seats, cfg map[string]any, now func() time.Time) *running {
	t.Helper()
	p := New().(*Plugin)
	if now != nil {
		p.now = now
	}
	if _, ok := cfg["pool"]; !ok {
		cfg["pool"] = "cad"
	}
	h := sdktest.Run(t, p, seats, cfg)
	r := &running{plugin: p, h: h, base: "http://" + h.Addr(ListenerName)}
	waitHealthy(t, r.base)
	return r
}

func waitHealthy(t testing.TB, base string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(base + HealthPath)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never became healthy: %v", base, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// answer is an HTTP answer as a test sees it.
type answer struct {
	status int
	header http.Header
	body   string
}

// do sends method path with headers (pairs) and body.
func do(t testing.TB, method, url, body string, headers ...string) answer {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Add(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

func inUse(t testing.TB, s sdk.Seats, feature string) int {
	t.Helper()
	fss, err := s.Status(context.Background(), sdk.StatusQuery{Feature: feature})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, fs := range fss {
		n += fs.InUse
	}
	return n
}

func vendorPub() ed25519.PublicKey { return vendor.Public().(ed25519.PublicKey) }

func ed25519GenerateKey() (ed25519.PublicKey, ed25519.PrivateKey, error) {
	return ed25519.GenerateKey(nil)
}

// raw writes request on a new connection to addr and returns everything
// the server answers until it closes the connection or a second passes.
func raw(t testing.TB, addr, request string) string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Second))
	if _, err := io.WriteString(c, request); err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(c)
	return string(b)
}
