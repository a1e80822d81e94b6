package e2e

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/licensegw/licensegw/gateway/events"
	"github.com/licensegw/licensegw/internal/e2etest"
)

// TestRestartCycles is a model-based test across restarts: random
// checkouts (one or two seats), check-ins and administrator removals, with
// the expected answer of each computed from a model of the seats; between
// rounds the gateway is stopped (final snapshot) or killed (snapshot plus
// journal tail) and restarted. After every restart the gateway's leases
// must be exactly the model's.
func TestRestartCycles(t *testing.T) {
	t.Parallel()
	const seats = 6
	g := StartGateway(t, fmt.Sprintf(`
feature "cad" {
  seats = %d
}
`, seats))
	r := rand.New(rand.NewPCG(7, 11))
	held := map[string]int{} // lease -> count
	inUse := func() int {
		n := 0
		for _, c := range held {
			n += c
		}
		return n
	}
	ctx := context.Background()

	for round := range 4 {
		c := g.Dial()
		for i := range 40 {
			leases := slices.Sorted(maps.Keys(held))
			switch op := r.IntN(10); {
			case op < 6 || len(leases) == 0:
				count := 1 + r.IntN(2)
				ans := c.Do(fmt.Sprintf("CHECKOUT feature=cad user=u%d host=h count=%d", i%3, count))
				if inUse()+count <= seats {
					expect(t, ans, "GRANTED", "count", fmt.Sprint(count))
					held[ans.Get("lease")] = count
				} else {
					expect(t, ans, "DENIED", "reason", "no-seats", "in_use", fmt.Sprint(inUse()), "seats", fmt.Sprint(seats))
				}
			case op < 8:
				l := leases[r.IntN(len(leases))]
				expect(t, c.Do("CHECKIN lease="+l), "OK", "lease", l)
				delete(held, l)
			default:
				l := leases[r.IntN(len(leases))]
				if err := g.Admin().RemoveLease(ctx, l); err != nil {
					t.Fatalf("remove %s: %v", l, err)
				}
				delete(held, l)
			}
		}
		c.Close()
		if round%2 == 0 {
			g.Stop()
		} else {
			g.Kill()
		}
		g.Restart()
		f := g.Feature("cad")
		got := map[string]int{}
		for _, l := range f.Leases {
			got[l.ID] = l.Count
		}
		if !maps.Equal(got, held) || f.InUse != inUse() {
			t.Fatalf("round %d: after the restart leases %v in_use=%d, want %v in_use=%d", round, got, f.InUse, held, inUse())
		}
	}

	// The stream tells the same story: every lease has one checkout, at
	// most one end, and no checkout went over the seats.
	checkouts, ends := map[string]int{}, map[string]int{}
	for _, e := range g.Events() {
		switch e.Kind {
		case events.Checkout:
			checkouts[e.Lease]++
			if e.InUse > e.Seats {
				t.Errorf("checkout %s: in_use=%d > seats=%d", e.ID, e.InUse, e.Seats)
			}
		case events.Checkin, events.Removed, events.Expired:
			ends[e.Lease]++
		}
	}
	for l, n := range checkouts {
		_, live := held[l]
		switch {
		case n != 1:
			t.Errorf("lease %s: %d checkout events", l, n)
		case live && ends[l] != 0:
			t.Errorf("live lease %s has %d end events", l, ends[l])
		case !live && ends[l] != 1:
			t.Errorf("released lease %s has %d end events, want 1", l, ends[l])
		}
	}
}

// TestEndedLeasesStayGoneAfterRestart: a lease that expired, one an
// administrator removed and one checked in stay gone when the gateway is
// killed (snapshot plus journal tail) and restarted, and again when it is
// stopped (final snapshot) and restarted; GONE still says why. A lease that
// was live at the restart comes back, so the restarts did rebuild state.
func TestEndedLeasesStayGoneAfterRestart(t *testing.T) {
	t.Parallel()
	g := StartGateway(t, `
feature "short" {
  seats     = 3
  lease_ttl = "5s"
}
feature "long" {
  seats     = 1
  lease_ttl = "120s"
}
`)
	c := g.Dial()
	grant := func(feature, user string) string {
		ans := c.Do("CHECKOUT feature=" + feature + " user=" + user + " host=h")
		expect(t, ans, "GRANTED")
		return ans.Get("lease")
	}
	expired, removed, checkedIn, live := grant("short", "exp"), grant("short", "rm"), grant("short", "ci"), grant("long", "live")
	if err := g.Admin().RemoveLease(context.Background(), removed); err != nil {
		t.Fatalf("remove: %v", err)
	}
	expect(t, c.Do("CHECKIN lease="+checkedIn), "OK", "lease", checkedIn)
	g.WaitEvent(30*time.Second, "the short lease expired", func(e e2etest.Event) bool {
		return e.Kind == events.Expired && e.Lease == expired
	})
	c.Close()

	for _, restart := range []struct {
		name string
		stop func()
	}{{"kill", g.Kill}, {"stop", g.Stop}} {
		restart.stop()
		g.Restart()
		if f := g.Feature("short"); f.InUse != 0 || len(f.Leases) != 0 {
			t.Errorf("after %s and restart: short in_use=%d leases=%+v, want none", restart.name, f.InUse, f.Leases)
		}
		if f := g.Feature("long"); f.InUse != 1 || len(f.Leases) != 1 || f.Leases[0].ID != live {
			t.Errorf("after %s and restart: long leases %+v, want %s", restart.name, f.Leases, live)
		}
		c := g.Dial()
		expect(t, c.Do("HEARTBEAT lease="+expired), "GONE", "lease", expired, "reason", "expired")
		expect(t, c.Do("HEARTBEAT lease="+removed), "GONE", "lease", removed, "reason", "removed")
		expect(t, c.Do("HEARTBEAT lease="+checkedIn), "GONE", "lease", checkedIn, "reason", "unknown")
		expect(t, c.Do("HEARTBEAT lease="+live), "OK", "lease", live)
		c.Close()
	}
}
