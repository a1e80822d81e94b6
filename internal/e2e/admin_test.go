package e2e

import (
	"errors"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/licensegw/licensegw/gateway/admin"
	"github.com/licensegw/licensegw/internal/e2etest"
)

// TestReloadPaths reloads on SIGHUP, and refuses an invalid configuration
// through the CLI while the running one stays in force.
func TestReloadPaths(t *testing.T) {
	t.Parallel()
	g := StartGateway(t, `
feature "cad" {
  seats = 2
}
`)
	lease := g.Dial().checkout("cad", "alice", "h")

	g.SetFeatures(`
feature "cad" {
  seats = 5
}
feature "viewer" {
  seats = 1
}
`)
	if err := syscall.Kill(g.PID(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	e2etest.Eventually(t, 15*time.Second, "SIGHUP reload", func() error {
		st := g.Status()
		if len(st.Features) != 2 {
			return fmt.Errorf("%d features", len(st.Features))
		}
		if f := g.Feature("cad"); f.Seats != 5 || f.InUse != 1 {
			return fmt.Errorf("cad seats=%d in_use=%d", f.Seats, f.InUse)
		}
		return nil
	})

	g.SetFeatures(`
feature "cad" {
  seats = -1
}
`)
	r := g.CLI(t.Context(), "reload")
	if r.Code == 0 || !strings.Contains(r.Stderr, "reload refused") {
		t.Errorf("reload of an invalid file: exit %d, stdout %q, stderr %q", r.Code, r.Stdout, r.Stderr)
	}
	if f := g.Feature("cad"); f.Seats != 5 || len(f.Leases) != 1 || f.Leases[0].ID != lease {
		t.Errorf("after a refused reload: seats=%d leases=%+v, want the running 5 seats and the lease", f.Seats, f.Leases)
	}
	expect(t, g.Dial().Do("CHECKOUT feature=viewer user=u host=h"), "GRANTED")

	err := g.Admin().RemoveLease(t.Context(), "no-such-lease")
	if !errors.Is(err, admin.ErrNotFound) {
		t.Errorf("removing an unknown lease: %v, want ErrNotFound", err)
	}
}

// TestRateLimit: requests over the per-IP rate are answered
// too-many-requests and not executed.
func TestRateLimit(t *testing.T) {
	t.Parallel()
	g := StartGateway(t, `
feature "cad" {
  seats = 100
}
`, WithPluginConfig(`    rate  = 1
    burst = 5`))
	c := g.Dial()
	var b strings.Builder
	const n = 30
	for i := range n {
		fmt.Fprintf(&b, "CHECKOUT feature=cad user=u host=h id=r%d\n", i)
	}
	c.Send(strings.TrimSuffix(b.String(), "\n"))
	granted, limited := 0, 0
	for i := range n {
		r := c.Next()
		expect(t, r, "", "id", fmt.Sprint("r", i))
		switch {
		case r.Verb == "GRANTED":
			granted++
		case r.Verb == "ERR" && r.Get("code") == "too-many-requests":
			limited++
		default:
			t.Errorf("unexpected %q", r.Line)
		}
	}
	if granted < 5 || granted > 8 || limited != n-granted {
		t.Errorf("%d granted, %d limited of %d at rate 1 burst 5", granted, limited, n)
	}
	if f := g.Feature("cad"); f.InUse != granted {
		t.Errorf("admin in_use=%d, %d grants answered: a limited request was executed", f.InUse, granted)
	}
}

// TestReloadRetiresFeature removes a feature that has a lease: the lease
// keeps working, new checkouts are refused, and the feature goes away with
// its last lease.
func TestReloadRetiresFeature(t *testing.T) {
	t.Parallel()
	g := StartGateway(t, `
feature "old" {
  seats = 2
}
feature "kept" {
  seats = 1
}
`)
	c := g.Dial()
	lease := c.checkout("old", "alice", "h")
	g.SetFeatures(`
feature "kept" {
  seats = 1
}
`)
	if err := g.Admin().Reload(t.Context()); err != nil {
		t.Fatalf("reload: %v", err)
	}
	if f := g.Feature("old"); !f.Retired || f.InUse != 1 {
		t.Errorf("removed feature with a lease: retired=%v in_use=%d, want retired with its lease", f.Retired, f.InUse)
	}
	expect(t, c.Do("HEARTBEAT lease="+lease), "OK", "lease", lease)
	if r := c.Do("CHECKOUT feature=old user=bob host=h"); r.Verb != "DENIED" {
		t.Errorf("checkout of a retired feature: %q, want DENIED", r.Line)
	}
	expect(t, c.Do("CHECKIN lease="+lease), "OK", "lease", lease)
	e2etest.Eventually(t, 10*time.Second, "retired feature gone", func() error {
		for _, f := range g.Status().Features {
			if f.Name == "old" {
				return fmt.Errorf("still listed: %+v", f)
			}
		}
		return nil
	})
}

// TestQueueMaxWaitAndRemoval: max_wait caps a longer wait= and an
// administrator's removal hands the seat to the head of the queue.
func TestQueueMaxWaitAndRemoval(t *testing.T) {
	t.Parallel()
	g := StartGateway(t, `
feature "capped" {
  seats = 1
  queue {
    max_wait = "1s"
  }
}
feature "cad" {
  seats = 1
  queue {}
}
`)
	c := g.Dial()
	c.checkout("capped", "holder", "h")
	w := g.Dial()
	start := time.Now()
	q := w.Do("CHECKOUT feature=capped user=w host=h wait=600")
	expect(t, q, "QUEUED")
	ev := w.Event(15 * time.Second)
	expect(t, ev, "EVENT", "ticket", q.Get("ticket"), "reason", "timeout")
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("max_wait 1s ended a wait=600 after %s", d)
	}

	lease := c.checkout("cad", "holder", "h")
	q = w.Do("CHECKOUT feature=cad user=w host=h wait=600")
	expect(t, q, "QUEUED")
	if r := g.CLI(t.Context(), "remove", lease); r.Code != 0 {
		t.Fatalf("remove: exit %d %q %q", r.Code, r.Stdout, r.Stderr)
	}
	ev = w.Event(10 * time.Second)
	if ev.Event != "granted" || ev.Get("ticket") != q.Get("ticket") {
		t.Fatalf("%q, want EVENT granted for ticket %s", ev.Line, q.Get("ticket"))
	}
	expect(t, c.Do("HEARTBEAT lease="+lease), "GONE", "reason", "removed")
}
