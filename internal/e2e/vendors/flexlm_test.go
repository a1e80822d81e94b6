package vendors

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the zone below, on hosts without a zoneinfo database, as the plugin has it

	"github.com/licensegw/licensegw/gateway/events"
	"github.com/licensegw/licensegw/internal/e2etest"
	"github.com/licensegw/licensegw/plugins/flexlm/client"
)

// flexlmConfig imports the zeta licence and options files and serves them
// with the flexlm plugin on free ports; lmstat shows the server as e2ehost
// in UTC so that its lines can be compared exactly.
const flexlmConfig = `
import "flexlm" {
  license_file = "{{.Path "zeta.lic"}}"
  options_file = "{{.Path "zeta.opt"}}"
}

plugin "flexlm" {
  path   = "{{.Bin "licensegw-flexlm"}}"
  listen = { lmgrd = "{{.TCP "lmgrd"}}", vendor = "{{.TCP "vendor"}}" }
  config {
    license_file = "{{.Path "zeta.lic"}}"
    options_file = "{{.Path "zeta.opt"}}"
    server_host  = "e2ehost"
    timezone     = "UTC"
  }
}
`

func startFlexLM(t *testing.T) *e2etest.Gateway {
	t.Helper()
	return e2etest.Start(t, e2etest.Options{
		Bins:   bins,
		Config: flexlmConfig,
		Files:  map[string]string{"zeta.lic": "testdata/zeta.lic", "zeta.opt": "testdata/zeta.opt"},
	})
}

// lmgrd is the plugin's lmgrd address as lmutil's -c takes it.
func lmgrd(g *e2etest.Gateway) string {
	addr := g.Addr("lmgrd")
	return addr[strings.LastIndex(addr, ":")+1:] + "@127.0.0.1"
}

// lmutil runs the built lmutil against the gateway's plugin.
func lmutil(ctx context.Context, t *testing.T, g *e2etest.Gateway, verb string, args ...string) e2etest.Result {
	t.Helper()
	return e2etest.Run(ctx, t, bins.Path("lmutil"), append([]string{verb, "-c", lmgrd(g)}, args...))
}

func dialFlex(ctx context.Context, t *testing.T, g *e2etest.Gateway, user string) *client.Client {
	t.Helper()
	c, err := client.Dial(ctx, lmgrd(g), client.Options{Vendor: "zeta", User: user, Host: user + "-ws", Display: ":0"})
	if err != nil {
		t.Fatalf("dial as %s: %v", user, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// block is the part of lmstat output about one feature: from its "Users
// of" line to the next one, blank lines dropped.
func block(out, feature string) []string {
	var lines []string
	in := false
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "Users of ") {
			in = strings.HasPrefix(l, "Users of "+feature+":")
		}
		if in && strings.TrimSpace(l) != "" {
			lines = append(lines, l)
		}
	}
	return lines
}

// matchLines checks lines against patterns one for one: each pattern is a
// regular expression matched against the whole line.
func matchLines(t *testing.T, what string, lines []string, patterns ...string) {
	t.Helper()
	ok := len(lines) == len(patterns)
	for i := 0; ok && i < len(lines); i++ {
		ok = regexp.MustCompile(`^` + patterns[i] + `$`).MatchString(lines[i])
	}
	if !ok {
		t.Errorf("%s:\n%s\nwant lines matching:\n%s", what, strings.Join(lines, "\n"), strings.Join(patterns, "\n"))
	}
}

// userLine is the pattern of an lmstat user line.
func userLine(user, port string, handle int, more string) string {
	return regexp.QuoteMeta(fmt.Sprintf("    %s %s-ws :0 (v5.0) (e2ehost/%s %d), start ", user, user, port, handle)) +
		`[A-Z][a-z]{2} \d{1,2}/\d{1,2} \d{1,2}:\d{2}` + regexp.QuoteMeta(more)
}

func usersOf(feature string, issued, inUse int) string {
	plural := func(n int) string {
		if n == 1 {
			return "1 license"
		}
		return fmt.Sprintf("%d licenses", n)
	}
	return regexp.QuoteMeta(fmt.Sprintf("Users of %s:  (Total of %s issued;  Total of %s in use)", feature, plural(issued), plural(inUse)))
}

// TestFlexLMLmstat drives the flexlm plugin of a real gateway with its Go
// client and checks, after each step, what the built lmutil prints: seats
// held, a reservation for a group, a queued user, a limit, lmremove and
// lmreread.
func TestFlexLMLmstat(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	g := startFlexLM(t)
	port := lmgrd(g)[:strings.Index(lmgrd(g), "@")]
	resv := regexp.QuoteMeta(fmt.Sprintf("\t1 RESERVATION for GROUP artists (e2ehost/%s)", port))
	header := []string{usersOf("modeler", 3, 3), regexp.QuoteMeta(`  "modeler" v5.0, vendor: zeta, expiry: permanent`), `  floating license`}

	// carl and dan, outside the artists group, take the two seats that are
	// not reserved; erin, outside too, queues although one seat is free.
	carl, dan, erin, ann := dialFlex(ctx, t, g, "carl"), dialFlex(ctx, t, g, "dan"), dialFlex(ctx, t, g, "erin"), dialFlex(ctx, t, g, "ann")
	carlLic, err := carl.Checkout(ctx, client.CheckoutRequest{Feature: "modeler"})
	if err != nil {
		t.Fatal(err)
	}
	danLic, err := dan.Checkout(ctx, client.CheckoutRequest{Feature: "modeler"})
	if err != nil {
		t.Fatal(err)
	}
	queued := make(chan int, 4)
	type result struct {
		lic *client.License
		err error
	}
	erinDone := make(chan result, 1)
	go func() {
		lic, err := erin.Checkout(ctx, client.CheckoutRequest{Feature: "modeler", Wait: time.Minute, OnQueued: func(p int) { queued <- p }})
		erinDone <- result{lic, err}
	}()
	select {
	case p := <-queued:
		if p != 1 {
			t.Errorf("erin queued at position %d, want 1", p)
		}
	case r := <-erinDone:
		t.Fatalf("erin was not queued: %v, %v", r.lic, r.err)
	case <-ctx.Done():
		t.Fatal("erin was never queued")
	}

	out := lmutil(ctx, t, g, "lmstat", "-a")
	if out.Code != 0 {
		t.Fatalf("lmstat -a: exit %d\n%s%s", out.Code, out.Stdout, out.Stderr)
	}
	st := g.Feature("modeler")
	if len(st.Tickets) != 1 {
		t.Fatalf("admin status: %d tickets, want erin's", len(st.Tickets))
	}
	erinHandle := 0
	matchLines(t, "lmstat -a with two users, a reservation and a queued user", block(out.Stdout, "modeler"),
		append(header, resv,
			userLine("carl", port, carlLic.Handle, ""),
			userLine("dan", port, danLic.Handle, ""),
			regexp.QuoteMeta(fmt.Sprintf("    erin erin-ws :0 5.0 (v5.0) (e2ehost/%s ", port))+`(\d+)`+regexp.QuoteMeta(") queued for 1 license"),
		)...)
	if m := regexp.MustCompile(`erin .*\(e2ehost/\d+ (\d+)\) queued`).FindStringSubmatch(out.Stdout); m != nil {
		fmt.Sscan(m[1], &erinHandle)
	}
	matchLines(t, "lmstat -a, other features", block(out.Stdout, "render"), usersOf("render", 3, 0))

	// ann is an artist: the reserved seat is hers although the feature is
	// full for everybody else.
	annLic, err := ann.Checkout(ctx, client.CheckoutRequest{Feature: "modeler"})
	if err != nil {
		t.Fatalf("ann, an artist, denied the reserved seat: %v", err)
	}
	// carl leaves: erin, first in the queue, gets his seat under the
	// number her ticket had.
	if err := carlLic.Checkin(ctx); err != nil {
		t.Fatal(err)
	}
	var erinLic *client.License
	select {
	case r := <-erinDone:
		if r.err != nil {
			t.Fatalf("erin's queued checkout: %v", r.err)
		}
		erinLic = r.lic
	case <-ctx.Done():
		t.Fatal("erin never got carl's seat")
	}
	if erinLic.Handle != erinHandle {
		t.Errorf("erin granted handle %d, lmstat showed her ticket as %d", erinLic.Handle, erinHandle)
	}
	out = lmutil(ctx, t, g, "lmstat", "-f", "modeler")
	lines := block(out.Stdout, "modeler")
	matchLines(t, "lmstat -f modeler after ann took the reserved seat and erin carl's", lines,
		append(header,
			userLine("dan", port, danLic.Handle, ""),
			userLine("ann", port, annLic.Handle, ""), // granted before erin
			userLine("erin", port, erinLic.Handle, ""),
		)...)
	if strings.Contains(out.Stdout, "Users of render") || strings.Contains(out.Stdout, "Users of meshgen") {
		t.Errorf("lmstat -f modeler shows other features:\n%s", out.Stdout)
	}

	// MAX 1 meshgen USER dan.
	if _, err := dan.Checkout(ctx, client.CheckoutRequest{Feature: "meshgen"}); err != nil {
		t.Fatal(err)
	}
	var denied *client.DeniedError
	if _, err := dan.Checkout(ctx, client.CheckoutRequest{Feature: "meshgen"}); !errors.As(err, &denied) || denied.Reason != "limit" {
		t.Errorf("dan's second meshgen seat: %v, want a denial for the limit", err)
	}

	out = lmutil(ctx, t, g, "lmstat", "-i")
	var table []string
	for _, l := range strings.Split(out.Stdout, "\n") {
		if strings.HasPrefix(l, "Feature ") || strings.HasPrefix(l, "_") || strings.Contains(l, " zeta") {
			table = append(table, l)
		}
	}
	matchLines(t, "lmstat -i", table,
		`Feature                         Version     #licenses    Expires      Vendor`,
		`_______                         _________   _________    __________   ______`,
		`meshgen                         1.0          4           permanent    zeta`,
		`modeler                         5.0          3           permanent    zeta`,
		`render                          2.1          3           31-dec-2030  zeta`)

	// lmremove: dan loses his modeler seat, the stream says removed.
	out = lmutil(ctx, t, g, "lmremove", "modeler", "dan", "dan-ws", ":0")
	if out.Code != 0 {
		t.Fatalf("lmremove: exit %d\n%s%s", out.Code, out.Stdout, out.Stderr)
	}
	g.WaitEvent(20*time.Second, "removed dan's modeler seat", func(e e2etest.Event) bool {
		return e.Kind == events.Removed && e.Feature == "modeler" && e.User == "dan" && e.Lease == danLic.Lease
	})
	// dan's client learns it at its next heartbeat or checkin.
	var gone *client.GoneError
	if err := danLic.Checkin(ctx); !errors.As(err, &gone) {
		t.Errorf("checkin of a removed licence: %v, want a GoneError", err)
	}
	if out := lmutil(ctx, t, g, "lmstat", "-f", "modeler"); strings.Contains(out.Stdout, "    dan ") {
		t.Errorf("lmstat still shows dan after lmremove:\n%s", out.Stdout)
	}

	// lmreread after the licence file grew: the new total, leases kept.
	g.WriteFile("zeta.lic", strings.Replace(readFile(t, "testdata/zeta.lic"), "permanent 3", "permanent 5", 1))
	out = lmutil(ctx, t, g, "lmreread")
	if out.Code != 0 {
		t.Fatalf("lmreread: exit %d\n%s%s", out.Code, out.Stdout, out.Stderr)
	}
	e2etest.Eventually(t, 20*time.Second, "modeler has 5 seats after lmreread", func() error {
		if f := g.Feature("modeler"); f.Seats != 5 {
			return fmt.Errorf("%d seats", f.Seats)
		}
		return nil
	})
	out = lmutil(ctx, t, g, "lmstat", "-a")
	matchLines(t, "lmstat -a after lmreread", block(out.Stdout, "modeler"),
		usersOf("modeler", 5, 2), header[1], header[2],
		userLine("ann", port, annLic.Handle, ""),
		userLine("erin", port, erinLic.Handle, ""))
	for _, l := range []*client.License{erinLic, annLic} {
		select {
		case <-l.Lost():
			t.Errorf("%s's licence lost by the reread: %v", l.Lease, l.Err())
		default:
		}
	}
	checkContract(t, g.Events())
}

// TestFlexLMUnreachable: lmstat against a port nobody listens on prints
// FlexLM's message and fails.
func TestFlexLMUnreachable(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	addr, err := e2etest.FreeTCPAddr()
	if err != nil {
		t.Fatal(err)
	}
	port := addr[strings.LastIndex(addr, ":")+1:]
	r := e2etest.Run(ctx, t, bins.Path("lmutil"), []string{"lmstat", "-a", "-c", port + "@127.0.0.1"})
	want := `127.0.0.1: Cannot connect to license server system. (-15,570:111 "Connection refused")`
	if r.Code == 0 || !strings.Contains(r.Stdout+r.Stderr, want) {
		t.Errorf("lmstat of a closed port: exit %d, output\n%s%s\nwant a non-zero exit and %q", r.Code, r.Stdout, r.Stderr, want)
	}
}

// TestFlexLMImport: what `licensegw import flexlm` prints is a
// configuration `licensegw validate` accepts.
func TestFlexLMImport(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	lg := bins.Path("licensegw")
	r := e2etest.Run(ctx, t, lg, []string{"import", "flexlm", "testdata/zeta.lic", "--options", "testdata/zeta.opt"})
	if r.Code != 0 {
		t.Fatalf("import: exit %d\n%s", r.Code, r.Stderr)
	}
	for _, want := range []string{`feature "modeler"`, `group "artists"`, `reserve {`, `max {`} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("import output lacks %s:\n%s", want, r.Stdout)
		}
	}
	cfg := filepath.Join(t.TempDir(), "config.hcl")
	if err := os.WriteFile(cfg, []byte("gateway {\n  name = \"imported\"\n}\n\n"+r.Stdout), 0o644); err != nil {
		t.Fatal(err)
	}
	if v := e2etest.Run(ctx, t, lg, []string{"validate", cfg}); v.Code != 0 {
		t.Fatalf("validate of the imported configuration: exit %d\n%s%s\nconfiguration:\n%s", v.Code, v.Stdout, v.Stderr, r.Stdout)
	}

	// The printed conversion is the one an import block makes: two
	// gateways, one from each, have the same features.
	printed := e2etest.Start(t, e2etest.Options{Bins: bins, Config: strings.ReplaceAll(r.Stdout, "{{", "{{`{{`}}")})
	imported := e2etest.Start(t, e2etest.Options{
		Bins:   bins,
		Config: flexlmConfig[:strings.Index(flexlmConfig, "plugin ")],
		Files:  map[string]string{"zeta.lic": "testdata/zeta.lic", "zeta.opt": "testdata/zeta.opt"},
	})
	a, b := printed.Status().Features, imported.Status().Features
	if len(a) != 3 || !reflect.DeepEqual(a, b) {
		t.Errorf("features from the printed import:\n%+v\nfrom an import block:\n%+v", a, b)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestFlexLMDisconnectAndDown: a client that goes away gives its licences
// back; lmdown is refused unless allowed, stops the vendor daemon when it
// is (its clients lose their licences, lmstat shows it DOWN), and lmreread
// starts it again.
func TestFlexLMDisconnectAndDown(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	g := startFlexLM(t)

	gus := dialFlex(ctx, t, g, "gus")
	lic, err := gus.Checkout(ctx, client.CheckoutRequest{Feature: "render", Count: 2})
	if err != nil {
		t.Fatal(err)
	}
	gus.Close()
	g.WaitEvent(20*time.Second, "checkin of gus's licence when he disconnected", func(e e2etest.Event) bool {
		return e.Kind == events.Checkin && e.Lease == lic.Lease
	})

	if r := lmutil(ctx, t, g, "lmdown", "-q"); r.Code == 0 {
		t.Errorf("lmdown without allow_shutdown: exit 0\n%s%s", r.Stdout, r.Stderr)
	}
	if r := lmutil(ctx, t, g, "lmstat"); !strings.Contains(r.Stdout, "      zeta: UP ") {
		t.Errorf("lmstat after a refused lmdown: the vendor should be UP:\n%s", r.Stdout)
	}

	// Allowed now (a reload of the plugin's config takes a restart).
	g.Reconfigure(strings.Replace(flexlmConfig, `timezone     = "UTC"`, "timezone     = \"UTC\"\n    allow_shutdown = true", 1))
	g.Restart()
	hal := dialFlex(ctx, t, g, "hal")
	halLic, err := hal.Checkout(ctx, client.CheckoutRequest{Feature: "render"})
	if err != nil {
		t.Fatal(err)
	}
	if r := lmutil(ctx, t, g, "lmdown", "-q"); r.Code != 0 {
		t.Fatalf("lmdown with allow_shutdown: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	select {
	case <-halLic.Lost():
	case <-time.After(20 * time.Second):
		t.Error("hal's licence not lost when the vendor daemon went down")
	}
	g.WaitEvent(20*time.Second, "checkin of hal's licence at lmdown", func(e e2etest.Event) bool {
		return e.Kind == events.Checkin && e.Lease == halLic.Lease
	})
	if r := lmutil(ctx, t, g, "lmstat"); !strings.Contains(r.Stdout, "      zeta: DOWN") {
		t.Errorf("lmstat after lmdown: want zeta DOWN:\n%s", r.Stdout)
	}
	// lmgrd still answers, so a dial may succeed; a checkout must not.
	if c, err := client.Dial(ctx, lmgrd(g), client.Options{Vendor: "zeta", User: "ivy"}); err == nil {
		_, err := c.Checkout(ctx, client.CheckoutRequest{Feature: "render"})
		c.Close()
		if err == nil {
			t.Error("checkout while the vendor daemon is down succeeded")
		}
	}

	if r := lmutil(ctx, t, g, "lmreread"); r.Code != 0 {
		t.Fatalf("lmreread after lmdown: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	e2etest.Eventually(t, 20*time.Second, "vendor daemon up again", func() error {
		if r := lmutil(ctx, t, g, "lmstat"); !strings.Contains(r.Stdout, "      zeta: UP ") {
			return errors.New("zeta not UP")
		}
		return nil
	})
	ivy := dialFlex(ctx, t, g, "ivy")
	if _, err := ivy.Checkout(ctx, client.CheckoutRequest{Feature: "render"}); err != nil {
		t.Errorf("checkout after lmreread: %v", err)
	}
}

// TestFlexLMLayout: the details of lmstat's layout that parsers depend on,
// with the server in a time zone half an hour off UTC: times in that zone,
// ", N licenses" after a user holding several, "queued for N licenses",
// the expiry of a pooled INCREMENT feature, and a borrowed licence.
func TestFlexLMLayout(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	zone, err := time.LoadLocation("Asia/Kolkata")
	if err != nil {
		t.Fatalf("time zone: %v", err)
	}
	g := e2etest.Start(t, e2etest.Options{
		Bins:   bins,
		Config: strings.Replace(flexlmConfig, `timezone     = "UTC"`, `timezone     = "Asia/Kolkata"`, 1),
		Files:  map[string]string{"zeta.lic": "testdata/zeta.lic", "zeta.opt": "testdata/zeta.opt"},
	})
	port := lmgrd(g)[:strings.Index(lmgrd(g), "@")]
	kim, lee, max := dialFlex(ctx, t, g, "kim"), dialFlex(ctx, t, g, "lee"), dialFlex(ctx, t, g, "max")
	before := time.Now().In(zone) // grants and lmstat happen between before and after
	kimLic, err := kim.Checkout(ctx, client.CheckoutRequest{Feature: "render", Count: 2})
	if err != nil {
		t.Fatal(err)
	}
	queued := make(chan struct{})
	go func() {
		_, _ = lee.Checkout(ctx, client.CheckoutRequest{Feature: "render", Count: 2, Wait: time.Minute, OnQueued: func(int) { close(queued) }})
	}()
	<-queued
	maxLic, err := max.Checkout(ctx, client.CheckoutRequest{Feature: "meshgen", Borrow: 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if !maxLic.Borrowed {
		t.Error("a borrowing checkout was granted a licence that is not borrowed")
	}

	out := lmutil(ctx, t, g, "lmstat", "-a")
	after := time.Now().In(zone)
	// FlexLM's times: the status line's hour is padded, a start's is not.
	status := func(t time.Time) string { return t.Format("Mon 01/02/2006 15:04") }
	started := func(t time.Time) string {
		return fmt.Sprintf("%s %d/%d %d:%02d", t.Format("Mon"), t.Month(), t.Day(), t.Hour(), t.Minute())
	}
	stamp := func(format func(time.Time) string) string {
		a, b := format(before), format(after)
		if a == b {
			return regexp.QuoteMeta(a)
		}
		return "(?:" + regexp.QuoteMeta(a) + "|" + regexp.QuoteMeta(b) + ")"
	}
	if !regexp.MustCompile(`(?m)^Flexible License Manager status on ` + stamp(status) + `$`).MatchString(out.Stdout) {
		t.Errorf("lmstat's time is not now in Asia/Kolkata (%s):\n%s", status(before), out.Stdout)
	}
	start := stamp(started)
	matchLines(t, "render: a user with 2 licences and one queued for 2", block(out.Stdout, "render"),
		usersOf("render", 3, 2),
		regexp.QuoteMeta(`  "render" v2.1, vendor: zeta, expiry: 31-dec-2030`),
		`  floating license`,
		regexp.QuoteMeta(fmt.Sprintf("    kim kim-ws :0 (v2.1) (e2ehost/%s %d), start ", port, kimLic.Handle))+start+", 2 licenses",
		regexp.QuoteMeta(fmt.Sprintf("    lee lee-ws :0 2.1 (v2.1) (e2ehost/%s ", port))+`\d+\) queued for 2 licenses`)
	matchLines(t, "meshgen: a borrowed licence", block(out.Stdout, "meshgen"),
		usersOf("meshgen", 4, 1),
		regexp.QuoteMeta(`  "meshgen" v1.0, vendor: zeta, expiry: permanent`),
		`  floating license`,
		regexp.QuoteMeta(fmt.Sprintf("    max max-ws :0 (v1.0) (e2ehost/%s %d), start ", port, maxLic.Handle))+start+`.*`)
	matchLines(t, "modeler: only the unused reservation", block(out.Stdout, "modeler"),
		usersOf("modeler", 3, 1),
		regexp.QuoteMeta(`  "modeler" v5.0, vendor: zeta, expiry: permanent`),
		`  floating license`,
		regexp.QuoteMeta(fmt.Sprintf("\t1 RESERVATION for GROUP artists (e2ehost/%s)", port)))

	// A borrowed licence stays when its client goes away.
	max.Close()
	if err := lee.Close(); err != nil {
		t.Log(err)
	}
	e2etest.Eventually(t, 20*time.Second, "lee's ticket cancelled on disconnect", func() error {
		if n := len(g.Feature("render").Tickets); n != 0 {
			return fmt.Errorf("%d tickets", n)
		}
		return nil
	})
	var borrowed bool
	for _, l := range g.Feature("meshgen").Leases {
		borrowed = borrowed || (l.ID == maxLic.Lease && l.Borrowed)
	}
	if !borrowed {
		t.Errorf("max's borrowed licence went with his connection: %+v", g.Feature("meshgen").Leases)
	}
}

// TestFlexLMQueueOrder: waiting clients get seats first in, first out, are
// told their positions as the queue moves, and a seat given back goes to
// the head of the queue.
func TestFlexLMQueueOrder(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	g := startFlexLM(t)
	holder := dialFlex(ctx, t, g, "holder")
	all, err := holder.Checkout(ctx, client.CheckoutRequest{Feature: "render", Count: 3})
	if err != nil {
		t.Fatal(err)
	}
	const waiters = 5
	type result struct {
		lic *client.License
		err error
	}
	results := make([]chan result, waiters)
	positions := make([]chan int, waiters)
	for i := range waiters {
		user := fmt.Sprintf("w%d", i)
		c := dialFlex(ctx, t, g, user)
		results[i], positions[i] = make(chan result, 1), make(chan int, 16)
		go func() {
			lic, err := c.Checkout(ctx, client.CheckoutRequest{Feature: "render", Wait: time.Minute, OnQueued: func(p int) { positions[i] <- p }})
			results[i] <- result{lic, err}
		}()
		// One at a time, so that the queue's order is known.
		if p := <-positions[i]; p != i+1 {
			t.Fatalf("%s queued at position %d, want %d", user, p, i+1)
		}
	}
	got := func(i int) *client.License {
		t.Helper()
		select {
		case r := <-results[i]:
			if r.err != nil {
				t.Fatalf("w%d: %v", i, r.err)
			}
			return r.lic
		case <-time.After(20 * time.Second):
			t.Fatalf("w%d was not granted a seat", i)
			return nil
		}
	}
	// Three seats back: the first three waiters, and the others move up.
	if err := all.Checkin(ctx); err != nil {
		t.Fatal(err)
	}
	first := []*client.License{got(0), got(1), got(2)}
	for i := 3; i < waiters; i++ {
		last := 0
		e2etest.Eventually(t, 10*time.Second, fmt.Sprintf("w%d told position %d", i, i-2), func() error {
			last = latest(positions[i], last)
			if last != i-2 {
				return fmt.Errorf("last position told %d", last)
			}
			return nil
		})
	}
	// One seat back at a time: w3, then w4.
	if err := first[1].Checkin(ctx); err != nil {
		t.Fatal(err)
	}
	got(3)
	if err := first[0].Checkin(ctx); err != nil {
		t.Fatal(err)
	}
	got(4)

	var order []string
	for _, e := range e2etest.Kinds(g.Events(), events.Checkout) {
		if strings.HasPrefix(e.User, "w") {
			order = append(order, e.User)
		}
	}
	if want := []string{"w0", "w1", "w2", "w3", "w4"}; !reflect.DeepEqual(order, want) {
		t.Errorf("grants in the order %v, want %v", order, want)
	}
}

// latest is the last value waiting in ch, or last when there is none.
func latest(ch <-chan int, last int) int {
	for {
		select {
		case v := <-ch:
			last = v
		default:
			return last
		}
	}
}

// TestFlexLMAdminErrors: lmreread of a broken licence file fails, says
// where, and keeps the configuration and the leases; lmremove of a user
// holding nothing fails.
func TestFlexLMAdminErrors(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	g := startFlexLM(t)
	kim := dialFlex(ctx, t, g, "kim")
	lic, err := kim.Checkout(ctx, client.CheckoutRequest{Feature: "modeler"})
	if err != nil {
		t.Fatal(err)
	}

	r := lmutil(ctx, t, g, "lmremove", "modeler", "nobody", "h", ":0")
	if r.Code == 0 || !strings.Contains(r.Stderr, "nobody") {
		t.Errorf("lmremove of a user holding nothing: exit %d, stderr %q", r.Code, r.Stderr)
	}

	g.WriteFile("zeta.lic", strings.Replace(readFile(t, "testdata/zeta.lic"), "permanent 3", "permanent three", 1))
	r = lmutil(ctx, t, g, "lmreread")
	if r.Code == 0 || !strings.Contains(r.Stderr, "zeta.lic:6:") {
		t.Errorf("lmreread of a broken licence file: exit %d, stderr %q; want a failure naming zeta.lic:6", r.Code, r.Stderr)
	}
	if f := g.Feature("modeler"); f.Seats != 3 || len(f.Leases) != 1 || f.Leases[0].ID != lic.Lease {
		t.Errorf("modeler after a failed reread: %d seats, leases %+v; want 3 and kim's", f.Seats, f.Leases)
	}
	if len(g.Status().Features) != 3 {
		t.Errorf("features after a failed reread: %+v", g.Status().Features)
	}
	select {
	case <-lic.Lost():
		t.Errorf("kim's licence lost by a failed reread: %v", lic.Err())
	default:
	}
}

// TestFlexLMClientSurvivesRestart: a client holding a licence while the
// gateway restarts (cleanly or killed) reconnects and holds it again, and
// can check it in afterwards; the restarted gateway never counts it twice.
func TestFlexLMClientSurvivesRestart(t *testing.T) {
	for _, tc := range []struct {
		name string
		stop func(*e2etest.Gateway)
	}{
		{"SIGTERM", (*e2etest.Gateway).Stop},
		{"SIGKILL", (*e2etest.Gateway).Kill},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			g := startFlexLM(t)
			kim := dialFlex(ctx, t, g, "kim")
			lic, err := kim.Checkout(ctx, client.CheckoutRequest{Feature: "render", Count: 2})
			if err != nil {
				t.Fatal(err)
			}
			tc.stop(g)
			g.Start()
			e2etest.Eventually(t, 20*time.Second, "kim holds render again", func() error {
				f := g.Feature("render")
				if f.InUse != 2 || len(f.Leases) != 1 || f.Leases[0].User != "kim" {
					return fmt.Errorf("%d in use, leases %+v", f.InUse, f.Leases)
				}
				return nil
			})
			select {
			case <-lic.Lost():
				t.Fatalf("kim's licence lost across the restart: %v", lic.Err())
			default:
			}
			if err := lic.Checkin(ctx); err != nil {
				t.Fatalf("checkin after the restart: %v", err)
			}
			// The client may still be re-establishing its licence when
			// Checkin is called; the seats must be free soon after.
			e2etest.Eventually(t, 10*time.Second, "render free after kim's checkin", func() error {
				if f := g.Feature("render"); f.InUse != 0 {
					return fmt.Errorf("%d in use: %+v", f.InUse, f.Leases)
				}
				return nil
			})
		})
	}
}

// TestFlexLMRereadRetires: a feature taken out of the licence file while
// it is held stays, retired, until its last licence comes back: lmstat
// shows it with no licence issued and its user, nobody new gets it, and it
// goes with the last checkin.
func TestFlexLMRereadRetires(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	g := startFlexLM(t)
	port := lmgrd(g)[:strings.Index(lmgrd(g), "@")]
	kim := dialFlex(ctx, t, g, "kim")
	lic, err := kim.Checkout(ctx, client.CheckoutRequest{Feature: "meshgen"})
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	for _, l := range strings.Split(readFile(t, "testdata/zeta.lic"), "\n") {
		if !strings.Contains(l, "meshgen") {
			kept = append(kept, l)
		}
	}
	g.WriteFile("zeta.lic", strings.Join(kept, "\n"))
	g.WriteFile("zeta.opt", "GROUP artists ann ben\nRESERVE 1 modeler GROUP artists\n") // its MAX would name a missing feature
	if r := lmutil(ctx, t, g, "lmreread"); r.Code != 0 {
		t.Fatalf("lmreread: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	if f := g.Feature("meshgen"); !f.Retired || f.InUse != 1 {
		t.Errorf("meshgen after the reread: retired %v, %d in use; want retired with kim's seat", f.Retired, f.InUse)
	}
	out := lmutil(ctx, t, g, "lmstat", "-a")
	matchLines(t, "lmstat of a retired feature", block(out.Stdout, "meshgen"),
		regexp.QuoteMeta("Users of meshgen:  (Total of 0 licenses issued;  Total of 1 license in use)"),
		regexp.QuoteMeta(`  "meshgen" v1.0, vendor: zeta, expiry: permanent`),
		`  floating license`,
		regexp.QuoteMeta(fmt.Sprintf("    kim kim-ws :0 (v1.0) (e2ehost/%s %d), start ", port, lic.Handle))+`.*`)
	var denied *client.DeniedError
	if _, err := kim.Checkout(ctx, client.CheckoutRequest{Feature: "meshgen"}); !errors.As(err, &denied) || denied.Reason != "unknown-feature" {
		t.Errorf("checkout of a retired feature: %v, want a denial: unknown-feature", err)
	}
	if err := lic.Checkin(ctx); err != nil {
		t.Fatal(err)
	}
	for _, f := range g.Status().Features {
		if f.Name == "meshgen" {
			t.Errorf("meshgen still listed after its last checkin: %+v", f)
		}
	}
	if out := lmutil(ctx, t, g, "lmstat", "-i"); strings.Contains(out.Stdout, "meshgen") {
		t.Errorf("lmstat -i still shows meshgen:\n%s", out.Stdout)
	}
}

// TestFlexLMPluginCrashKeepsBorrows: when the FlexLM plugin dies without
// cleaning up, the gateway releases the licences bound to its connections,
// but a borrowed licence, meant to outlive any connection, stays.
func TestFlexLMPluginCrashKeepsBorrows(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	g := startFlexLM(t)
	c, err := client.Dial(ctx, lmgrd(g), client.Options{Vendor: "zeta", User: "max", Host: "max-ws", Display: ":0", NoReconnect: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	borrowed, err := c.Checkout(ctx, client.CheckoutRequest{Feature: "meshgen", Borrow: 24 * time.Hour})
	if err != nil || !borrowed.Borrowed {
		t.Fatalf("borrow: %+v, %v", borrowed, err)
	}
	plain, err := c.Checkout(ctx, client.CheckoutRequest{Feature: "meshgen"})
	if err != nil {
		t.Fatal(err)
	}
	held := func() map[string]bool {
		ids := map[string]bool{}
		for _, l := range g.Feature("meshgen").Leases {
			ids[l.ID] = true
		}
		return ids
	}
	if h := held(); !h[borrowed.Lease] || !h[plain.Lease] {
		t.Fatalf("before the crash: leases %v, want %s and %s", h, borrowed.Lease, plain.Lease)
	}
	g.KillPlugin("flexlm", 30*time.Second)
	e2etest.Eventually(t, 20*time.Second, "the dead plugin's plain licence released", func() error {
		if held()[plain.Lease] {
			return errors.New("still held")
		}
		return nil
	})
	if !held()[borrowed.Lease] {
		t.Errorf("the borrowed licence %s went with the plugin: leases %v", borrowed.Lease, held())
	}
}
