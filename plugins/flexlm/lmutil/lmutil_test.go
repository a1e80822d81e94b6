package lmutil

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/licensegw/licensegw/internal/golden"
	"github.com/licensegw/licensegw/plugins/flexlm"
	"github.com/licensegw/licensegw/plugins/flexlm/client"
	"github.com/licensegw/licensegw/plugins/flexlm/internal/flextest"
	"github.com/licensegw/licensegw/sdk"
	"github.com/licensegw/licensegw/sdk/sdktest"
)

var (
	update = flag.Bool("update", false, "show how the golden files would change and fail; with -accept, rewrite them")
	accept = flag.Bool("accept", false, "with -update, rewrite the golden files that differ")
)

// base is the fixed time of the tests: the gateway's clock starts there and
// lmstat's "status on" line shows it.
var base = time.Date(2026, time.November, 26, 8, 0, 0, 0, time.UTC)

// steppingClock advances a minute at each reading, so that successive
// grants have distinct, reproducible start times.
type steppingClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *steppingClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Minute)
	return c.t
}

// withPolicy adds what the in-memory Seats does not model (expiry and a
// reservation) to its status, as the gateway's engine reports them.
type withPolicy struct {
	*sdktest.Seats
}

func (w withPolicy) Status(ctx context.Context, q sdk.StatusQuery) ([]sdk.FeatureStatus, error) {
	fs, err := w.Seats.Status(ctx, q)
	for i := range fs {
		if fs[i].Feature == "cad_pro" {
			fs[i].Expiry = time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC) // end of 31-dec-2030
			fs[i].Reserved = []sdk.Reservation{{Kind: "group", Name: "designers", Seats: 2}}
		}
	}
	return fs, err
}

func newSeats() *sdktest.Seats {
	clock := &steppingClock{t: base}
	return sdktest.NewSeats(
		sdktest.Feature{Vendor: "acme", Name: "cad_pro", Version: "2024.1", Seats: 5, Queue: true, TTL: 24 * time.Hour},
		sdktest.Feature{Vendor: "acme", Name: "solver", Version: "3.0", Seats: 4, TTL: 24 * time.Hour},
		sdktest.Feature{Vendor: "acme", Name: "viewer", Version: "1.0", Seats: 20, TTL: 24 * time.Hour},
	).WithClock(clock.now)
}

func config(extra map[string]any) map[string]any {
	c := map[string]any{
		"server_host":  "gw-01",
		"license_file": filepath.Join("..", "testdata", "sample", "acme.lic"),
		"timezone":     "Asia/Tokyo",
	}
	for k, v := range extra {
		c[k] = v
	}
	return c
}

// run runs lmutil in-process and returns its output with the random ports
// replaced by PORT.
func run(t *testing.T, srv *flextest.Server, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Run(context.Background(), args, &out, &errb, Options{
		Now:      func() time.Time { return base },
		Timeout:  5 * time.Second,
		Getenv:   func(string) string { return "" },
		Location: time.UTC,
	})
	clean := func(s string) string {
		if srv == nil {
			return s
		}
		s = strings.ReplaceAll(s, strconv.Itoa(srv.Lmgrd.Port), "LMGRD_PORT")
		s = strings.ReplaceAll(s, filepath.Join("..", "testdata", "sample")+"/", "")
		return s
	}
	return clean(out.String()), clean(errb.String()), code
}

func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	golden.Check(t, path, []byte(got), golden.ModeOf(*update, *accept))
}

// totals asserts lmstat's "Users of" line of each feature: seats issued
// and in use. The expected counts come from what the test holds (seats
// checked out plus reserved seats nobody of theirs uses, which FlexLM counts
// as in use), never from the server's own count, so a wrong count fails
// even if a golden file was wrongly accepted.
func totals(t *testing.T, out string, want map[string][2]int) {
	t.Helper()
	re := regexp.MustCompile(`(?m)^Users of (\S+):  \(Total of (\d+) licenses? issued;  Total of (\d+) licenses? in use\)$`)
	got := map[string][2]int{}
	for _, m := range re.FindAllStringSubmatch(out, -1) {
		issued, _ := strconv.Atoi(m[2])
		inUse, _ := strconv.Atoi(m[3])
		got[m[1]] = [2]int{issued, inUse}
	}
	for f, w := range want {
		if got[f] != w {
			t.Errorf("lmstat shows %s issued/in use %v, want %v:\n%s", f, got[f], w, out)
		}
	}
}

func dial(t *testing.T, srv *flextest.Server, user, host string) *client.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, srv.LmgrdSpec(), client.Options{Vendor: "acme", User: user, Host: host, Display: host})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func checkout(t *testing.T, c *client.Client, feature string, n int) *client.License {
	t.Helper()
	l, err := c.Checkout(context.Background(), client.CheckoutRequest{Feature: feature, Count: n})
	if err != nil {
		t.Fatalf("checkout %s: %v", feature, err)
	}
	return l
}

// TestLmstatThroughProtocol drives the plugin with real clients holding,
// queueing for and releasing seats, and checks lmstat's output at each step.
func TestLmstatThroughProtocol(t *testing.T) {
	seats := newSeats()
	srv := flextest.Start(t, withPolicy{seats}, config(nil))
	spec := srv.LmgrdSpec()

	out, _, code := run(t, srv, "lmstat", "-a", "-c", spec)
	if code != 0 {
		t.Fatalf("lmstat exit %d", code)
	}
	checkGolden(t, "idle_a", out)
	// Nothing held: only cad_pro's 2 seats reserved for designers.
	totals(t, out, map[string][2]int{"cad_pro": {5, 2}, "solver": {4, 0}, "viewer": {20, 0}})

	alice := checkout(t, dial(t, srv, "alice", "ws-01"), "cad_pro", 1)
	bob := checkout(t, dial(t, srv, "bob", "ws-02"), "cad_pro", 2)
	carol := checkout(t, dial(t, srv, "carol", "ws-03"), "solver", 1)
	_ = carol
	// cad_pro has 5 seats: 3 held, 2 reserved for designers (in use for
	// lmstat), so erin queues.
	erinC := dial(t, srv, "erin", "ws-07")
	queued := make(chan int, 4)
	granted := make(chan *client.License, 1)
	go func() {
		l, err := erinC.Checkout(context.Background(), client.CheckoutRequest{
			Feature: "cad_pro", Count: 3, Wait: time.Hour, OnQueued: func(p int) { queued <- p },
		})
		if err != nil {
			t.Errorf("erin's checkout: %v", err)
		}
		granted <- l
	}()
	select {
	case p := <-queued:
		if p != 1 {
			t.Errorf("erin queued at %d, want 1", p)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("erin was not queued")
	}

	out, _, code = run(t, srv, "lmstat", "-a", "-c", spec)
	if code != 0 {
		t.Fatalf("lmstat -a exit %d", code)
	}
	checkGolden(t, "busy_a", out)
	// cad_pro: alice 1 + bob 2 + 2 reserved; erin's 3 only wait.
	totals(t, out, map[string][2]int{"cad_pro": {5, 5}, "solver": {4, 1}, "viewer": {20, 0}})
	out, _, _ = run(t, srv, "lmstat", "-f", "cad_pro", "-c", spec)
	checkGolden(t, "busy_f", out)
	if out, _, code := run(t, srv, "lmstat", "-f", "nosuch", "-c", spec); code == 0 || !strings.Contains(out, "No such feature exists") {
		t.Errorf("lmstat -f nosuch: exit %d\n%s", code, out)
	}
	out, _, _ = run(t, srv, "lmstat", "-i", "-c", spec)
	checkGolden(t, "busy_i", out)
	out, _, _ = run(t, srv, "lmstat", "-c", spec)
	checkGolden(t, "busy_plain", out)

	// Alice and bob give back: erin's three seats are granted.
	if err := alice.Checkin(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := bob.Checkin(context.Background()); err != nil {
		t.Fatal(err)
	}
	var erin *client.License
	select {
	case erin = <-granted:
	case <-time.After(5 * time.Second):
		t.Fatal("erin was not granted")
	}
	if erin == nil || erin.Count != 3 {
		t.Fatalf("erin's licence = %+v", erin)
	}
	out, _, _ = run(t, srv, "lmstat", "-a", "-c", spec)
	checkGolden(t, "after_checkin_a", out)
	totals(t, out, map[string][2]int{"cad_pro": {5, 5}, "solver": {4, 1}}) // erin 3 + 2 reserved

	// lmremove by handle, then by user.
	_, errOut, code := run(t, srv, "lmremove", "-c", spec, "-h", "cad_pro", "127.0.0.1", strconv.Itoa(srv.Lmgrd.Port), strconv.Itoa(erin.Handle))
	if code != 0 {
		t.Fatalf("lmremove -h: exit %d: %s", code, errOut)
	}
	out, errOut, code = run(t, srv, "lmremove", "-c", spec, "solver", "carol", "ws-03", "ws-03")
	if code != 0 || out != "lmremove: 1 license(s) removed\n" {
		t.Fatalf("lmremove: exit %d: %q %s", code, out, errOut)
	}
	out, _, _ = run(t, srv, "lmstat", "-a", "-c", spec)
	checkGolden(t, "after_remove_a", out)
	totals(t, out, map[string][2]int{"cad_pro": {5, 2}, "solver": {4, 0}}) // erin and carol removed
	if _, _, code := run(t, srv, "lmremove", "-c", spec, "solver", "nobody", "x", "y"); code == 0 {
		t.Error("lmremove of a licence nobody holds succeeded")
	}

	out, _, code = run(t, srv, "lmreread", "-c", spec)
	if code != 0 || !strings.HasPrefix(out, "lmreread successful") || seats.Reloads() != 1 {
		t.Errorf("lmreread: exit %d, %q, reloads %d", code, out, seats.Reloads())
	}
	_, errOut, code = run(t, srv, "lmdown", "-c", spec, "-q")
	if code == 0 || !strings.Contains(errOut, "allow_shutdown = false") {
		t.Errorf("lmdown without permission: exit %d, %q", code, errOut)
	}
}

func TestLmdownAndReread(t *testing.T) {
	seats := newSeats()
	srv := flextest.Start(t, seats, config(map[string]any{"allow_shutdown": true}))
	spec := srv.LmgrdSpec()
	c := dial(t, srv, "alice", "ws-01")
	lic := checkout(t, c, "solver", 2)

	out, errOut, code := run(t, srv, "lmdown", "-c", spec, "-q")
	if code != 0 || !strings.Contains(out, "1 license server shut down") {
		t.Fatalf("lmdown: exit %d: %q %q", code, out, errOut)
	}
	// The holder's connection is closed and its seats are given back.
	select {
	case <-lic.Lost():
	case <-time.After(5 * time.Second):
		t.Fatal("licence not lost after lmdown")
	}
	if !errors.Is(lic.Err(), client.ErrClosed) {
		t.Errorf("lost because %v, want ErrClosed", lic.Err())
	}
	waitInUse(t, seats, "solver", 0)
	out, _, code = run(t, srv, "lmstat", "-a", "-c", spec)
	if code != 0 {
		t.Errorf("lmstat with the vendor down: exit %d", code)
	}
	checkGolden(t, "vendor_down_a", out)
	if strings.Contains(out, "Users of") {
		t.Errorf("lmstat shows usage of a vendor that is down:\n%s", out)
	}
	if _, err := client.Dial(context.Background(), spec, client.Options{Vendor: "acme"}); err == nil {
		t.Error("Dial succeeded while the vendor daemon is down")
	}

	if out, _, code := run(t, srv, "lmreread", "-c", spec); code != 0 || !strings.Contains(out, "vendor daemon started") {
		t.Fatalf("lmreread: exit %d: %q", code, out)
	}
	checkout(t, dial(t, srv, "bob", "ws-02"), "solver", 1)
}

func waitInUse(t *testing.T, s sdk.Seats, feature string, want int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		fs, err := s.Status(context.Background(), sdk.StatusQuery{Feature: feature})
		if err == nil && len(fs) == 1 && fs[0].InUse == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s in use = %+v, want %d", feature, fs, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestCannotConnect(t *testing.T) {
	// A port nothing listens on: bind one, note it, close it.
	srv := flextest.Start(t, newSeats(), config(nil))
	port := srv.Lmgrd.Port
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	out, _, code := run(t, nil, "lmstat", "-a", "-c", strconv.Itoa(port)+"@127.0.0.1")
	if code == 0 {
		t.Error("lmstat of an unreachable server exited 0")
	}
	out = strings.ReplaceAll(out, strconv.Itoa(port), "PORT")
	checkGolden(t, "cannot_connect", out)
	if !regexp.MustCompile(`(?m)^127\.0\.0\.1: Cannot connect to license server system\. \(-15,570:111 "Connection refused"\)$`).MatchString(out) {
		t.Errorf("no Cannot connect line in\n%s", out)
	}
}

func TestServersFromLicenceFileAndList(t *testing.T) {
	srv := flextest.Start(t, newSeats(), config(nil))
	lic := filepath.Join(t.TempDir(), "x.lic")
	src := "SERVER 127.0.0.1 ANY " + strconv.Itoa(srv.Lmgrd.Port) + "\nVENDOR acme\n"
	if err := os.WriteFile(lic, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	out, _, code := run(t, srv, "lmstat", "-c", lic)
	if code != 0 || !strings.Contains(out, "License server status: LMGRD_PORT@gw-01") {
		t.Errorf("lmstat -c licence file: exit %d\n%s", code, out)
	}
	// A search path: two server systems tried in turn, the first down, the
	// second answering; the exit status says not everything was
	// reachable.
	sep := string(client.ListSeparator)
	out, _, code = run(t, srv, "lmstat", "-c", "1@127.0.0.1"+sep+srv.LmgrdSpec())
	if code == 0 || !strings.Contains(out, "Cannot connect") || !strings.Contains(out, "acme: UP") {
		t.Errorf("lmstat -c search path: exit %d\n%s", code, out)
	}
	// A triad: one server system, up while one of its servers is.
	out, _, code = run(t, srv, "lmstat", "-c", "1@127.0.0.1,"+srv.LmgrdSpec())
	want := "License server status: 1@127.0.0.1,LMGRD_PORT@127.0.0.1\n" +
		"    License file(s) on gw-01: acme.lic:\n\n" +
		" 127.0.0.1: license server DOWN\n" +
		"     gw-01: license server UP (MASTER) v" + flexlm.Version + "\n\n" +
		"Vendor daemon status (on gw-01):\n\n      acme: UP v" + flexlm.Version + "\n"
	if code != 0 || !strings.Contains(out, want) || strings.Contains(out, "Cannot connect") {
		t.Errorf("lmstat -c triad: exit %d\n%s\nwant it to contain\n%s", code, out, want)
	}
	// A triad of which no server answers.
	out, _, code = run(t, srv, "lmstat", "-c", "1@127.0.0.1,2@127.0.0.1")
	if code == 0 || !strings.Contains(out, "1@127.0.0.1,2@127.0.0.1: Cannot connect to license server system.") {
		t.Errorf("lmstat -c dead triad: exit %d\n%s", code, out)
	}
}

// TestSearchPathFromEnvironment: without -c, lmstat reads the vendor's
// variable (with -S) before $LM_LICENSE_FILE.
func TestSearchPathFromEnvironment(t *testing.T) {
	srv := flextest.Start(t, newSeats(), config(nil))
	env := map[string]string{"ACME_LICENSE_FILE": srv.LmgrdSpec(), "LM_LICENSE_FILE": "1@127.0.0.1"}
	lmstat := func(args ...string) (string, int) {
		var out, errb bytes.Buffer
		code := Run(context.Background(), append([]string{"lmstat"}, args...), &out, &errb, Options{
			Now: func() time.Time { return base }, Timeout: 5 * time.Second, Location: time.UTC,
			Getenv: func(k string) string { return env[k] },
		})
		return out.String(), code
	}
	out, code := lmstat("-S", "acme")
	if code == 0 || !strings.Contains(out, "acme: UP") || !strings.Contains(out, "Cannot connect") ||
		strings.Index(out, "acme: UP") > strings.Index(out, "Cannot connect") {
		t.Errorf("lmstat -S acme: exit %d, want the vendor's server first, then $LM_LICENSE_FILE's:\n%s", code, out)
	}
	out, code = lmstat()
	if code == 0 || strings.Contains(out, "acme: UP") {
		t.Errorf("lmstat without -S: exit %d, want $LM_LICENSE_FILE's server only:\n%s", code, out)
	}
}

func TestSmallVerbs(t *testing.T) {
	out, _, code := run(t, nil, "lmstat", "-v")
	if code != 0 || !regexp.MustCompile(`^lmstat v\d+\.\d+\.\d+ build \d+ \S+\n$`).MatchString(out) {
		t.Errorf("lmstat -v: %d %q", code, out)
	}
	out, _, code = run(t, nil, "lmver")
	if code != 0 || !strings.Contains(out, "licensegw lmutil") {
		t.Errorf("lmver: %d %q", code, out)
	}
	out, _, code = run(t, nil, "lmhostid", "-hostname")
	if code != 0 || !strings.HasPrefix(out, `The host ID of this machine is "HOSTNAME=`) {
		t.Errorf("lmhostid -hostname: %d %q", code, out)
	}
	if _, _, code := run(t, nil, "frobnicate"); code != 2 {
		t.Errorf("unknown verb: exit %d, want 2", code)
	}
	if _, _, code := run(t, nil); code != 2 {
		t.Errorf("no verb: exit %d, want 2", code)
	}
	if !IsVerb("lmstat") || IsVerb("lmutil") {
		t.Error("IsVerb")
	}
}
