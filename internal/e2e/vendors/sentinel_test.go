package vendors

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/licensegw/licensegw/gateway/events"
	"github.com/licensegw/licensegw/internal/e2etest"
	"github.com/licensegw/licensegw/plugins/sentinel/client"
	"github.com/licensegw/licensegw/plugins/sentinel/wire"
)

// sentinelConfig serves cad (commuting and queueing allowed) and
// solver (one token reserved for the team by team.rsv) with the sentinel
// plugin on a free UDP port. Every client is 127.0.0.1, so the per-IP rate
// limit is lifted.
const sentinelConfig = `
feature "cad" {
  version   = "2.0"
  seats     = 3
  lease_ttl = "{{.TTL}}"
  borrow {
    max = "72h"
  }
  queue {
    max_length = 20
  }
}

feature "solver" {
  version   = "1.0"
  seats     = 2
  lease_ttl = "{{.TTL}}"
}

import "sentinel_reservations" {
  file = "{{.Path "team.rsv"}}"
}

plugin "sentinel" {
  path   = "{{.Bin "licensegw-sentinel"}}"
  listen = { udp = "{{.UDP "sentinel"}}" }
  config {
    reservation_file = "{{.Path "team.rsv"}}"
    server_name      = "e2e-sentinel"
    rate_limit       = 100000
    rate_burst       = 100000
  }
}
`

func startSentinel(t *testing.T, ttl string) *e2etest.Gateway {
	t.Helper()
	return e2etest.Start(t, e2etest.Options{
		Bins:   bins,
		Config: strings.ReplaceAll(sentinelConfig, "{{.TTL}}", ttl),
		Files:  map[string]string{"team.rsv": "testdata/team.rsv"},
	})
}

func dialSentinel(t *testing.T, addr, user string) *client.Client {
	t.Helper()
	c, err := client.Dial(addr, client.Options{User: user, Host: user + "-ws", Display: ":0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func isStatus(err error, st wire.Status) bool { return client.IsStatus(err, st) }

// TestSentinel drives the sentinel plugin of a real gateway: checkout and
// refresh, a silent client's token reclaimed after its lifetime, a
// commuter token that outlives it without refreshes, a group reservation,
// discovery and lsmon.
func TestSentinel(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	g := startSentinel(t, "5s")
	addr := g.Addr("sentinel")
	carl, dan, ann, ben := dialSentinel(t, addr, "carl"), dialSentinel(t, addr, "dan"), dialSentinel(t, addr, "ann"), dialSentinel(t, addr, "ben")

	// carl checks out and refreshes: the expiry moves on.
	tok, _, err := carl.Checkout(ctx, client.CheckoutRequest{Feature: "cad"})
	if err != nil {
		t.Fatal(err)
	}
	if tok.Lifetime != 5*time.Second || tok.Commuter {
		t.Errorf("carl's token: lifetime %s, commuter %v; want 5s, false", tok.Lifetime, tok.Commuter)
	}
	time.Sleep(1100 * time.Millisecond) // expiries have a one-second resolution
	exp, err := carl.Refresh(ctx, tok.Handle)
	if err != nil {
		t.Fatal(err)
	}
	if !exp.After(tok.Expires) {
		t.Errorf("refresh: expiry %s, not after the grant's %s", exp, tok.Expires)
	}

	// dan commutes for two days, then neither refreshes: carl's token is
	// reclaimed after its lifetime, dan's stays.
	com, err := dan.Commute(ctx, "cad", "", 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	if !com.Commuter || time.Until(com.Expires) < 47*time.Hour {
		t.Errorf("commuter token: commuter %v, expires %s; want two days", com.Commuter, com.Expires)
	}
	g.WaitEvent(10*time.Second, "borrowed by dan", func(e e2etest.Event) bool {
		return e.Kind == events.Borrowed && e.Lease == com.Handle && e.User == "dan"
	})

	// Meanwhile: the reservation. solver has 2 tokens, 1 kept for the team.
	if _, _, err := carl.Checkout(ctx, client.CheckoutRequest{Feature: "solver"}); err != nil {
		t.Fatalf("carl, the first solver token (not reserved): %v", err)
	}
	if _, _, err := dan.Checkout(ctx, client.CheckoutRequest{Feature: "solver"}); !isStatus(err, wire.Reserved) {
		t.Errorf("dan, outside the team, asked for the reserved solver token: %v, want status reserved", err)
	}
	annTok, _, err := ann.Checkout(ctx, client.CheckoutRequest{Feature: "solver"})
	if err != nil {
		t.Errorf("ann, in the team, denied the reserved solver token: %v", err)
	} else if err := ann.Release(ctx, annTok.Handle); err != nil {
		t.Fatal(err)
	}
	benTok, _, err := ben.Checkout(ctx, client.CheckoutRequest{Feature: "solver"})
	if err != nil {
		t.Errorf("ben, in the team, denied the reserved solver token: %v", err)
	}
	go keepAlive(ctx, ben, benTok) // ben stays through lsmon below

	// Discovery on loopback: the plugin's address answers for cad, and
	// for a feature it does not serve nobody answers.
	found, err := client.Discover(ctx, "cad", []string{addr}, client.Options{})
	if err != nil {
		t.Fatalf("discover cad: %v", err)
	}
	if found.Server.Name != "e2e-sentinel" || found.Addr.String() != addr || !strings.HasSuffix(found.Server.Storage, "team.rsv") {
		t.Errorf("discover cad: %+v at %s, want e2e-sentinel at %s with team.rsv", found.Server, found.Addr, addr)
	}
	if _, err := client.Discover(ctx, "nothing", []string{addr}, client.Options{Attempts: 2, Timeout: 100 * time.Millisecond}); !errors.Is(err, client.ErrNoServer) {
		t.Errorf("discover a feature nobody serves: %v, want ErrNoServer", err)
	}

	// lsmon: cad's block names the commuter and carl (refreshed a moment
	// ago), one client block each.
	out := e2etest.Run(ctx, t, bins.Path("lsmon"), []string{"-f", "cad", addr})
	if out.Code != 0 {
		t.Fatalf("lsmon: exit %d\n%s%s", out.Code, out.Stdout, out.Stderr)
	}
	for _, re := range []string{
		`(?m)^   \|- Feature name +: "cad"$`,
		`(?m)^   \|- Feature version +: "2\.0"$`,
		`(?m)^   \|- Commuter license allowed +: YES$`,
		`(?m)^   \|- Maximum concurrent user\(s\) +: 3$`,
		`(?m)^   \|- Commuter tokens in use +: 1$`,
		`(?m)^     \|- Token lifetime \(heartbeat\) +: 5 secs`,
		`(?m)^     \|- User name +: carl$`,
		`(?m)^     \|- User name +: dan$`,
	} {
		if !regexp.MustCompile(re).MatchString(out.Stdout) {
			t.Errorf("lsmon output lacks %s:\n%s", re, out.Stdout)
		}
	}
	if n := strings.Count(out.Stdout, "|- Client Information"); n != 2 {
		t.Errorf("lsmon -f cad: %d client blocks, want 2 (carl, dan):\n%s", n, out.Stdout)
	}
	// solver: carl holds the unreserved token, ben the team's.
	out = e2etest.Run(ctx, t, bins.Path("lsmon"), []string{"-f", "solver", addr})
	for _, re := range []string{
		`(?m)^   \|- Unreserved tokens in use +: 1$`,
		`(?m)^   \|- Available unreserved +: 0$`,
		`(?m)^   \|- Reserved tokens in use +: 1$`,
		`(?m)^   \|- Available reserved +: 0$`,
		`(?m)^     \|- User name +: ben\n     \|- Host name +: ben-ws\n     \|- X display name +: :0\n     \|- Group name +: team$`,
	} {
		if !regexp.MustCompile(re).MatchString(out.Stdout) {
			t.Errorf("lsmon -f solver lacks %s:\n%s", re, out.Stdout)
		}
	}

	// carl stays silent: his token goes after its lifetime.
	g.WaitEvent(30*time.Second, "carl's cad token expired", func(e e2etest.Event) bool {
		return e.Kind == events.Expired && e.Lease == tok.Handle
	})
	if _, err := carl.Refresh(ctx, tok.Handle); !isStatus(err, wire.Gone) {
		t.Errorf("refresh of a reclaimed token: %v, want status gone", err)
	} else if se := (*client.StatusError)(nil); errors.As(err, &se) && se.Reason != "expired" {
		t.Errorf("refresh of a reclaimed token: reason %q, want expired", se.Reason)
	}
	// dan's commuter token outlived it without a refresh, and goes back.
	var held bool
	for _, l := range g.Feature("cad").Leases {
		held = held || (l.ID == com.Handle && l.Borrowed)
	}
	if !held {
		t.Fatalf("dan's commuter token is gone after %s without refreshes: %+v", time.Since(com.Expires.Add(-48*time.Hour)), g.Feature("cad").Leases)
	}
	if err := dan.ReturnCommuter(ctx, com.Handle); err != nil {
		t.Fatal(err)
	}
	g.WaitEvent(10*time.Second, "dan's commuter token returned", func(e e2etest.Event) bool {
		return e.Kind == events.Returned && e.Lease == com.Handle
	})
	if f := g.Feature("cad"); f.InUse != 0 {
		t.Errorf("cad: %d in use after the expiry and the return, want 0: %+v", f.InUse, f.Leases)
	}
	// ben refreshed all along: his token outlived carl's.
	var benHeld bool
	for _, l := range g.Feature("solver").Leases {
		benHeld = benHeld || (benTok != nil && l.ID == benTok.Handle)
	}
	if !benHeld {
		t.Errorf("ben's refreshed token is gone: %+v", g.Feature("solver").Leases)
	}
	checkContract(t, g.Events())
}

// keepAlive refreshes tok until ctx ends.
func keepAlive(ctx context.Context, c *client.Client, tok *client.Token) {
	if tok != nil {
		_ = c.KeepAlive(ctx, tok)
	}
}

// TestSentinelRestart: tokens are the gateway's, not the plugin
// process's: a commuter token and an ordinary one survive a restart of the
// gateway (and of its plugin), whether it stopped cleanly or was killed,
// and are refreshed, returned and released afterwards.
func TestSentinelRestart(t *testing.T) {
	for _, tc := range []struct {
		name string
		stop func(*e2etest.Gateway)
	}{
		{"SIGTERM", (*e2etest.Gateway).Stop},
		{"SIGKILL", (*e2etest.Gateway).Kill},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			g := startSentinel(t, "10m")
			dan := dialSentinel(t, g.Addr("sentinel"), "dan")
			com, err := dan.Commute(ctx, "cad", "2.0", 2, 3)
			if err != nil {
				t.Fatal(err)
			}
			tok, _, err := dan.Checkout(ctx, client.CheckoutRequest{Feature: "cad"})
			if err != nil {
				t.Fatal(err)
			}
			tc.stop(g)
			g.Start() // same ports: the killed gateway's plugin must have let go of its socket

			f := g.Feature("cad")
			if f.InUse != 3 || len(f.Leases) != 2 {
				t.Fatalf("cad after the restart: %d in use, leases %+v; want the commuter's 2 and 1", f.InUse, f.Leases)
			}
			if _, err := dan.Refresh(ctx, tok.Handle); err != nil {
				t.Errorf("refresh after the restart: %v", err)
			}
			out := e2etest.Run(ctx, t, bins.Path("lsmon"), []string{"-f", "cad", g.Addr("sentinel")})
			if !regexp.MustCompile(`(?m)^   \|- Commuter tokens in use +: 2$`).MatchString(out.Stdout) {
				t.Errorf("lsmon after the restart: want 2 commuter tokens in use:\n%s", out.Stdout)
			}
			if err := dan.ReturnCommuter(ctx, com.Handle); err != nil {
				t.Fatalf("return after the restart: %v", err)
			}
			if err := dan.Release(ctx, tok.Handle); err != nil {
				t.Fatalf("release after the restart: %v", err)
			}
			if f := g.Feature("cad"); f.InUse != 0 {
				t.Errorf("cad: %d in use after the return and the release", f.InUse)
			}
			g.WaitEvent(10*time.Second, "returned after the restart", func(e e2etest.Event) bool {
				return e.Kind == events.Returned && e.Lease == com.Handle && e.Count == 2
			})
		})
	}
}

// TestSentinelQueue: queued checkouts wait first in, first out, lsmon
// counts them, a poll after a release gets the token, and a ticket nobody
// polls is cancelled after ticket_lifetime.
func TestSentinelQueue(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	g := e2etest.Start(t, e2etest.Options{
		Bins:   bins,
		Config: strings.Replace(strings.ReplaceAll(sentinelConfig, "{{.TTL}}", "10m"), `server_name      = "e2e-sentinel"`, `server_name      = "e2e-sentinel"`+"\n    ticket_lifetime  = \"3s\"", 1),
		Files:  map[string]string{"team.rsv": "testdata/team.rsv"},
	})
	addr := g.Addr("sentinel")
	var held []*client.Token
	holder := dialSentinel(t, addr, "holder")
	for range 3 {
		tok, _, err := holder.Checkout(ctx, client.CheckoutRequest{Feature: "cad"})
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, tok)
	}
	first, second := dialSentinel(t, addr, "first"), dialSentinel(t, addr, "second")
	_, p1, err := first.Checkout(ctx, client.CheckoutRequest{Feature: "cad", Queue: true, Wait: time.Minute})
	if err != nil || p1 == nil || p1.Position != 1 {
		t.Fatalf("first queued checkout: place %+v, %v; want position 1", p1, err)
	}
	_, p2, err := second.Checkout(ctx, client.CheckoutRequest{Feature: "cad", Queue: true, Wait: time.Minute})
	if err != nil || p2 == nil || p2.Position != 2 {
		t.Fatalf("second queued checkout: place %+v, %v; want position 2", p2, err)
	}
	if _, _, err := dialSentinel(t, addr, "third").Checkout(ctx, client.CheckoutRequest{Feature: "cad"}); !isStatus(err, wire.NoSeats) {
		t.Errorf("a checkout that does not queue: %v, want no-seats", err)
	}
	out := e2etest.Run(ctx, t, bins.Path("lsmon"), []string{"-f", "cad", addr})
	if !regexp.MustCompile(`(?m)^   \|- Unreserved tokens in queue +: 2$`).MatchString(out.Stdout) {
		t.Errorf("lsmon: want 2 tokens in queue:\n%s", out.Stdout)
	}

	if err := holder.Release(ctx, held[0].Handle); err != nil {
		t.Fatal(err)
	}
	tok, err := first.WaitQueued(ctx, p1.Ticket, 100*time.Millisecond)
	if err != nil {
		t.Fatalf("first, after a release: %v", err)
	}
	if _, err := first.Refresh(ctx, tok.Handle); err != nil {
		t.Errorf("refresh of a token granted from the queue: %v", err)
	}
	if _, place, err := second.Poll(ctx, p2.Ticket); err != nil || place == nil || place.Position != 1 {
		t.Errorf("second's poll after first's grant: place %+v, %v; want position 1", place, err)
	}

	// second stops polling: its ticket goes after ticket_lifetime.
	g.WaitEvent(20*time.Second, "second's unpolled ticket dequeued", func(e e2etest.Event) bool {
		return e.Kind == events.Dequeued && e.User == "second"
	})
	if f := g.Feature("cad"); len(f.Tickets) != 0 {
		t.Errorf("tickets left: %+v", f.Tickets)
	}
	if _, _, err := second.Poll(ctx, p2.Ticket); err == nil {
		t.Error("a poll of a cancelled ticket succeeded")
	}
}

// TestLsmonUnreachable: lsmon against a port nobody answers on fails.
func TestLsmonUnreachable(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	addr, err := e2etest.FreeUDPAddr()
	if err != nil {
		t.Fatal(err)
	}
	r := e2etest.Run(ctx, t, bins.Path("lsmon"), []string{"-timeout", "1s", addr})
	if r.Code == 0 || !strings.Contains(r.Stderr, addr) {
		t.Errorf("lsmon %s: exit %d, stderr %q; want a failure naming the server", addr, r.Code, r.Stderr)
	}
}

// TestSentinelReservationMerge: a reservation file's group merges with the
// gateway's group of the same name, and its !name takes a member out.
func TestSentinelReservationMerge(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	g := e2etest.Start(t, e2etest.Options{
		Bins: bins,
		Config: `
group "team" {
  users = ["ben", "cid"]
}

feature "solver" {
  seats = 2
}

import "sentinel_reservations" {
  file = "{{.Path "exclude.rsv"}}"
}

plugin "sentinel" {
  path   = "{{.Bin "licensegw-sentinel"}}"
  listen = { udp = "{{.UDP "sentinel"}}" }
}
`,
		Files: map[string]string{"exclude.rsv": "testdata/exclude.rsv"},
	})
	addr := g.Addr("sentinel")
	if _, _, err := dialSentinel(t, addr, "out").Checkout(ctx, client.CheckoutRequest{Feature: "solver"}); err != nil {
		t.Fatalf("the unreserved token: %v", err)
	}
	for _, tc := range []struct {
		user string
		ok   bool
	}{
		{"cid", false}, // in the gateway's group, excluded by the file
		{"ann", true},  // added by the file
		{"ben", true},  // from the gateway's group
	} {
		tok, _, err := dialSentinel(t, addr, tc.user).Checkout(ctx, client.CheckoutRequest{Feature: "solver"})
		switch {
		case tc.ok && err != nil:
			t.Errorf("%s denied the team's token: %v", tc.user, err)
		case !tc.ok && !isStatus(err, wire.Reserved):
			t.Errorf("%s asked for the team's token: %v, want status reserved", tc.user, err)
		case tc.ok:
			if err := dialSentinel(t, addr, tc.user).Release(ctx, tok.Handle); err != nil {
				t.Fatal(err)
			}
		}
	}
}
