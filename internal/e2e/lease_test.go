package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/licensegw/licensegw/gateway/events"
	"github.com/licensegw/licensegw/internal/e2etest"
)

// TestQueueFIFO queues three waiters on separate connections behind the one
// seat and releases the seat three times: grants arrive first in, first out,
// and nobody is granted out of turn.
func TestQueueFIFO(t *testing.T) {
	t.Parallel()
	g := StartGateway(t, `
feature "cad" {
  seats = 1
  queue {
    max_length = 5
  }
}
`)
	holder := g.Dial()
	lease := holder.checkout("cad", "holder", "h")

	waiters := make([]*Conn, 3)
	tickets := make([]string, 3)
	for i := range waiters {
		waiters[i] = g.Dial()
		r := waiters[i].Do(fmt.Sprintf("CHECKOUT feature=cad user=w%d host=h wait=60", i))
		expect(t, r, "QUEUED", "position", fmt.Sprint(i+1))
		tickets[i] = r.Get("ticket")
	}
	if f := g.Feature("cad"); f.Queued != 3 || len(f.Tickets) != 3 {
		t.Fatalf("admin: queued=%d tickets=%d, want 3", f.Queued, len(f.Tickets))
	}

	release := holder
	for i, w := range waiters {
		expect(t, release.Do("CHECKIN lease="+lease), "OK", "lease", lease)
		ev := w.Event(10 * time.Second)
		expect(t, ev, "EVENT", "ticket", tickets[i], "feature", "cad", "count", "1")
		if ev.Event != "granted" || ev.Get("lease") == "" {
			t.Fatalf("waiter %d: %q, want EVENT granted with a lease", i, ev.Line)
		}
		// The later waiters are still waiting.
		for _, later := range waiters[i+1:] {
			later.NoEvent(100 * time.Millisecond)
		}
		lease, release = ev.Get("lease"), w
	}
	if f := g.Feature("cad"); f.InUse != 1 || f.Queued != 0 || len(f.Leases) != 1 || f.Leases[0].User != "w2" {
		t.Errorf("admin after three grants: in_use=%d queued=%d leases=%+v", f.InUse, f.Queued, f.Leases)
	}
}

// TestLeaseExpiresWithoutHeartbeat lets a lease's TTL pass: the waiter
// behind it is granted once the lease expires, not before, and the stream
// records the expiry.
func TestLeaseExpiresWithoutHeartbeat(t *testing.T) {
	t.Parallel()
	g := StartGateway(t, `
feature "short" {
  seats     = 1
  lease_ttl = "5s"
  queue {}
}
`)
	silent := g.Dial()
	grant := silent.Do("CHECKOUT feature=short user=silent host=h")
	expect(t, grant, "GRANTED", "ttl", "5")
	granted := time.Now()
	lease := grant.Get("lease")

	w := g.Dial()
	q := w.Do("CHECKOUT feature=short user=waiter host=h wait=30")
	expect(t, q, "QUEUED", "position", "1")
	ev := w.Event(25 * time.Second)
	expect(t, ev, "EVENT", "ticket", q.Get("ticket"))
	if ev.Event != "granted" {
		t.Fatalf("%q, want EVENT granted", ev.Line)
	}
	if d := time.Since(granted); d < 4500*time.Millisecond {
		t.Errorf("waiter granted %s after the first grant, before the 5s TTL passed", d)
	}

	exp := g.WaitEvent(10*time.Second, "expired", func(e e2etest.Event) bool {
		return e.Kind == events.Expired && e.Lease == lease
	})
	if exp.Feature != "short" || exp.User != "silent" || exp.HeldMS == nil || *exp.HeldMS < 4500 {
		t.Errorf("expired event %+v", exp.Event)
	}
	expect(t, silent.Do("HEARTBEAT lease="+lease), "GONE", "lease", lease, "reason", "expired")
}

// TestHeartbeatFromNewConnection: a lease is not bound to the connection
// that took it; a heartbeat over another connection moves its expiry.
func TestHeartbeatFromNewConnection(t *testing.T) {
	t.Parallel()
	g := StartGateway(t, `
feature "cad" {
  seats     = 1
  lease_ttl = "5s"
}
`)
	first := g.Dial()
	grant := first.Do("CHECKOUT feature=cad user=alice host=h")
	expect(t, grant, "GRANTED")
	first.Close()
	lease := grant.Get("lease")
	before, err := time.Parse(time.RFC3339, grant.Get("expires"))
	if err != nil {
		t.Fatal(err)
	}

	// Heartbeats over fresh connections, past the first TTL: the lease
	// lives on because each one moves its expiry.
	deadline := time.Now().Add(7 * time.Second)
	for time.Now().Before(deadline) {
		time.Sleep(1200 * time.Millisecond)
		c := g.Dial()
		hb := c.Do("HEARTBEAT lease=" + lease)
		expect(t, hb, "OK", "lease", lease, "ttl", "5")
		after, err := time.Parse(time.RFC3339, hb.Get("expires"))
		if err != nil {
			t.Fatalf("expires: %v", err)
		}
		if !after.After(before) {
			t.Fatalf("heartbeat expires=%s, not after %s", after, before)
		}
		before = after
		c.Close()
	}
	if f := g.Feature("cad"); f.InUse != 1 || len(f.Leases) != 1 || f.Leases[0].ID != lease {
		t.Errorf("admin: in_use=%d leases=%+v, want the one lease", f.InUse, f.Leases)
	}
}

// TestLeaseRevivedAfterRestart: heartbeats are not journaled, so a
// restarted gateway gives every lease a fresh TTL (seats.Engine.Revive)
// rather than expiring leases whose clients could not reach it while it was
// down. A lease nobody heartbeats then expires one TTL after the restart.
func TestLeaseRevivedAfterRestart(t *testing.T) {
	t.Parallel()
	g := StartGateway(t, `
feature "short" {
  seats     = 1
  lease_ttl = "5s"
}
`)
	grant := g.Dial().Do("CHECKOUT feature=short user=alice host=h")
	expect(t, grant, "GRANTED")
	lease := grant.Get("lease")
	g.Kill()
	restarted := time.Now()
	g.Restart()

	f := g.Feature("short")
	if len(f.Leases) != 1 || f.Leases[0].ID != lease {
		t.Fatalf("leases after the restart: %+v, want %s", f.Leases, lease)
	}
	if exp := f.Leases[0].Expires; exp.Before(restarted.Add(4 * time.Second)) {
		t.Errorf("revived lease expires %s, less than a TTL after the restart at %s", exp, restarted)
	}
	ev := g.WaitEvent(20*time.Second, "expired after the restart", func(e e2etest.Event) bool {
		return e.Kind == events.Expired && e.Lease == lease
	})
	if ev.Time.Before(restarted.Add(4500 * time.Millisecond)) {
		t.Errorf("expired at %s, before a TTL after the restart at %s", ev.Time, restarted)
	}
	c := g.Dial()
	expect(t, c.Do("HEARTBEAT lease="+lease), "GONE", "lease", lease, "reason", "expired")
	expect(t, c.Do("CHECKOUT feature=short user=bob host=h"), "GRANTED")
}
