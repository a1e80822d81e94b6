package e2e

import (
	"fmt"
	"strconv"
	"testing"
	"time"
)

// denialFeatures reach every denial reason the configuration can cause.
const denialFeatures = `
group "designers" {
  users = ["dana"]
}
feature "basic" {
  version = "2.0"
  seats   = 1
}
feature "future" {
  seats = 1
  start = "2099-01-01"
}
feature "old" {
  seats  = 1
  expiry = "2020-01-01"
}
feature "guarded" {
  seats = 3
  exclude {
    users = ["mallory"]
  }
  max {
    seats = 1
    user  = "dave"
  }
}
feature "kept" {
  seats = 2
  reserve {
    seats = 1
    group = "designers"
  }
}
feature "short_queue" {
  seats = 1
  queue {
    max_length = 1
  }
}
feature "slow_queue" {
  seats = 1
  queue {}
}
`

// TestCheckoutDenials takes a grant, then provokes each denial reason the
// configuration can produce and checks the DENIED line.
func TestCheckoutDenials(t *testing.T) {
	t.Parallel()
	g := StartGateway(t, denialFeatures)
	c := g.Dial()

	hello := c.Do("HELLO client=e2e version=1 proto=1")
	expect(t, hello, "OK", "proto", "1")
	if hello.Get("key") == "" {
		t.Errorf("HELLO without key= although signing is on by default: %q", hello.Line)
	}

	grant := c.Do("CHECKOUT feature=basic user=alice host=ws-01 nonce=g1nonce id=g1")
	expect(t, grant, "GRANTED", "feature", "basic", "count", "1", "id", "g1")
	for _, k := range []string{"lease", "ttl", "expires", "sig"} {
		if grant.Get(k) == "" {
			t.Errorf("GRANTED lacks %s=: %q", k, grant.Line)
		}
	}
	if _, err := time.Parse(time.RFC3339, grant.Get("expires")); err != nil {
		t.Errorf("expires=%q: %v", grant.Get("expires"), err)
	}

	// Setup for limit and reserved: dave holds his one seat, bob holds the
	// one unreserved seat of "kept".
	c.checkout("guarded", "dave", "ws-02")
	c.checkout("kept", "bob", "ws-03")

	tests := []struct {
		name         string
		req          string
		reason       string
		inUse, seats int // checked when seats > 0
	}{
		{"unknown feature", "CHECKOUT feature=nope user=alice host=h", "unknown-feature", 0, 0},
		{"no newer version", "CHECKOUT feature=basic version=3.0 user=alice host=h", "version", 0, 0},
		{"not started", "CHECKOUT feature=future user=alice host=h", "not-started", 0, 0},
		{"expired", "CHECKOUT feature=old user=alice host=h", "expired", 0, 0},
		{"excluded user", "CHECKOUT feature=guarded user=mallory host=h", "excluded", 0, 0},
		{"max per user", "CHECKOUT feature=guarded user=dave host=h", "limit", 1, 3},
		{"reserved for designers", "CHECKOUT feature=kept user=erin host=h", "reserved", 1, 2},
		{"more than the feature has", "CHECKOUT feature=basic user=alice host=h count=5", "count", 0, 0},
		{"all seats in use", "CHECKOUT feature=basic user=carol host=h", "no-seats", 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := c.Do(tt.req)
			expect(t, r, "DENIED", "reason", tt.reason)
			if tt.seats > 0 {
				expect(t, r, "DENIED", "in_use", strconv.Itoa(tt.inUse), "seats", strconv.Itoa(tt.seats))
			}
		})
	}

	// The reserved seat is there for its group.
	if r := c.Do("CHECKOUT feature=kept user=dana host=h"); r.Verb != "GRANTED" {
		t.Errorf("designer denied the reserved seat: %q", r.Line)
	}

	t.Run("queue full", func(t *testing.T) {
		c.checkout("short_queue", "alice", "h")
		w1, w2 := g.Dial(), g.Dial()
		expect(t, w1.Do("CHECKOUT feature=short_queue user=w1 host=h wait=30"), "QUEUED", "position", "1")
		expect(t, w2.Do("CHECKOUT feature=short_queue user=w2 host=h wait=30"), "DENIED", "reason", "queue-full")
	})

	t.Run("queue timeout", func(t *testing.T) {
		c.checkout("slow_queue", "alice", "h")
		w := g.Dial()
		start := time.Now()
		q := w.Do("CHECKOUT feature=slow_queue user=w host=h wait=1")
		expect(t, q, "QUEUED", "position", "1")
		ev := w.Event(15 * time.Second)
		expect(t, ev, "EVENT", "ticket", q.Get("ticket"), "reason", "timeout")
		if ev.Event != "denied" {
			t.Errorf("EVENT %s, want denied: %q", ev.Event, ev.Line)
		}
		if d := time.Since(start); d < 900*time.Millisecond {
			t.Errorf("wait=1 ended after %s", d)
		}
	})
}

// TestStatusMatchesAdmin compares the protocol's STATUS counts with the
// admin API's while a lease is held and a ticket waits.
func TestStatusMatchesAdmin(t *testing.T) {
	t.Parallel()
	g := StartGateway(t, `
feature "cad" {
  seats = 1
  queue {}
}
`)
	c := g.Dial()
	c.checkout("cad", "alice", "h")
	w := g.Dial()
	expect(t, w.Do("CHECKOUT feature=cad user=bob host=h wait=30"), "QUEUED")

	f := g.Feature("cad")
	if f.InUse != 1 || f.Queued != 1 {
		t.Fatalf("admin: in_use=%d queued=%d, want 1 and 1", f.InUse, f.Queued)
	}
	r := c.Do("STATUS feature=cad")
	expect(t, r, "FEATURE", "name", "cad", "vendor", "local", "seats", "1", "expires", "permanent",
		"in_use", fmt.Sprint(f.InUse), "queued", fmt.Sprint(f.Queued))
	expect(t, c.Next(), "END", "count", "1")
	expect(t, c.Do("PING"), "PONG")
}

// TestPipelinedRequestsRunInOrder sends two requests in one write, many
// times. The answers come in request order, and each request must see the
// effect of the one before it on the same connection: a STATUS after a
// CHECKOUT counts that seat, and a CHECKOUT after the CHECKIN of the only
// seat gets it. One round could pass by luck; fifty rounds do not.
func TestPipelinedRequestsRunInOrder(t *testing.T) {
	t.Parallel()
	g := StartGateway(t, `
feature "one" {
  seats = 1
  queue {}
}
`)
	c := g.Dial()
	const rounds = 50
	statusStale, checkoutDenied := 0, 0
	lease := c.checkout("one", "alice", "h")
	expect(t, c.Do("CHECKIN lease="+lease), "OK")
	for i := range rounds {
		c.Send(fmt.Sprintf("CHECKOUT feature=one user=alice host=h id=a%d\nSTATUS feature=one id=b%d", i, i))
		grant := c.Next()
		expect(t, grant, "GRANTED", "id", fmt.Sprint("a", i))
		st := c.Next()
		expect(t, st, "FEATURE", "id", fmt.Sprint("b", i))
		if st.Get("in_use") != "1" {
			statusStale++
		}
		expect(t, c.Next(), "END", "count", "1")

		c.Send(fmt.Sprintf("CHECKIN lease=%s id=c%d\nCHECKOUT feature=one user=bob host=h id=d%d", grant.Get("lease"), i, i))
		expect(t, c.Next(), "OK", "id", fmt.Sprint("c", i), "lease", grant.Get("lease"))
		r := c.Next()
		expect(t, r, "", "id", fmt.Sprint("d", i))
		if r.Verb != "GRANTED" {
			checkoutDenied++
			continue
		}
		expect(t, c.Do("CHECKIN lease="+r.Get("lease")), "OK")
	}
	if statusStale > 0 || checkoutDenied > 0 {
		t.Errorf("in %d rounds: %d STATUS answers missed the CHECKOUT just before them; "+
			"%d CHECKOUTs were denied although the CHECKIN just before them freed the seat",
			rounds, statusStale, checkoutDenied)
	}
}
