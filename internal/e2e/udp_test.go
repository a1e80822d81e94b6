package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/licensegw/licensegw/gateway/events"
)

// longVendor and longVersion make a FEATURE line far longer than a tiny
// STATUS request.
var (
	longVendor  = strings.Repeat("v", 64)
	longVersion = strings.Repeat("1.", 40) + "1"
)

// TestUDP: retransmitted checkouts take one seat and get one answer, an id
// is required, and no answer is more than three times its request.
func TestUDP(t *testing.T) {
	t.Parallel()
	g := StartGateway(t, `
feature "cad" {
  seats = 5
}
feature "x" {
  vendor  = "`+longVendor+`"
  version = "`+longVersion+`"
  seats   = 1
}
`)
	u := g.UDP()

	t.Run("retransmitted checkout", func(t *testing.T) {
		req := pad("CHECKOUT feature=cad user=alice host=ws-01 id=k7", 256)
		var first string
		for i := range 3 {
			ans, ok := u.Exchange(req, 5*time.Second)
			if !ok {
				t.Fatalf("datagram %d: no answer", i+1)
			}
			if len(ans) > 3*len(req) {
				t.Errorf("answer of %d bytes to a %d-byte request", len(ans), len(req))
			}
			if i == 0 {
				first = ans
				r, err := parseReply(ans)
				if err != nil {
					t.Fatal(err)
				}
				expect(t, r, "GRANTED", "id", "k7", "feature", "cad")
				continue
			}
			if ans != first {
				t.Errorf("datagram %d answered %q, first answer %q", i+1, ans, first)
			}
		}
		if f := g.Feature("cad"); f.InUse != 1 {
			t.Errorf("admin in_use=%d after 3 copies of one checkout, want 1", f.InUse)
		}
		evs := filterEvents(g.Events(), events.Checkout, "cad")
		if len(evs) != 1 {
			t.Errorf("%d checkout events for one checkout sent 3 times, want 1", len(evs))
		}
	})

	t.Run("request without id", func(t *testing.T) {
		ans, ok := u.Exchange(pad("HEARTBEAT lease=abc", 200), 5*time.Second)
		if !ok {
			t.Fatal("no answer")
		}
		r, err := parseReply(ans)
		if err != nil {
			t.Fatal(err)
		}
		expect(t, r, "ERR", "code", "bad-request")
	})

	t.Run("no amplification", func(t *testing.T) {
		for _, req := range []string{
			"STATUS feature=x id=1",
			"STATUS feature=x id=2 pad=x",
			"HELLO id=3",
		} {
			ans, ok := u.Exchange(req, 2*time.Second)
			if !ok {
				continue // silence is allowed
			}
			if len(ans) > 3*len(req) {
				t.Errorf("%q (%d bytes) answered with %d bytes: %q", req, len(req), len(ans), ans)
			}
			if strings.HasPrefix(req, "STATUS") && !strings.HasPrefix(ans, "ERR code=too-large") {
				t.Errorf("%q answered %q, want ERR code=too-large", req, ans)
			}
		}
	})

	t.Run("unpadded checkout is refused and takes nothing", func(t *testing.T) {
		req := "CHECKOUT feature=cad user=bob host=h nonce=n1 id=s1"
		ans, ok := u.Exchange(req, 2*time.Second)
		if ok && !strings.HasPrefix(ans, "ERR code=too-large") {
			t.Errorf("%q answered %q, want ERR code=too-large or silence", req, ans)
		}
		if f := g.Feature("cad"); f.InUse != 1 {
			t.Errorf("admin in_use=%d after a refused checkout, want 1", f.InUse)
		}
		// The same id with padding is executed: the too-large answer was
		// not remembered.
		ans, ok = u.Exchange(pad(req, 256), 5*time.Second)
		if !ok || !strings.HasPrefix(ans, "GRANTED ") {
			t.Errorf("padded retry answered %q (ok=%v), want GRANTED", ans, ok)
		}
	})
	t.Run("lease taken over TCP, kept over UDP", func(t *testing.T) {
		lease := g.Dial().checkout("cad", "carol", "h")
		exchange := func(req string) Reply {
			t.Helper()
			ans, ok := u.Exchange(pad(req, 256), 5*time.Second)
			if !ok {
				t.Fatalf("%q: no answer", req)
			}
			r, err := parseReply(ans)
			if err != nil {
				t.Fatal(err)
			}
			return r
		}
		expect(t, exchange("HEARTBEAT lease="+lease+" id=h1"), "OK", "lease", lease, "id", "h1")
		st := exchange("STATUS feature=cad id=st1")
		expect(t, st, "FEATURE", "name", "cad", "id", "st1", "in_use", fmt.Sprint(g.Feature("cad").InUse))
		expect(t, exchange("STATUS feature=none id=st2"), "END", "count", "0")
		expect(t, exchange("CHECKIN lease="+lease+" id=c1"), "OK", "lease", lease)
		expect(t, exchange("CHECKIN lease="+lease+" id=c2"), "GONE", "lease", lease)
		expect(t, exchange("CHECKOUT feature=cad user=u host=h wait=5 bind=conn id=b1"), "ERR", "code", "bad-request")
	})
}

// TestUDPRetransmitAcrossRestart retransmits a UDP CHECKOUT after the
// plugin or the gateway restarted: the answer must be the one already
// given and no second seat taken, because the server promises to remember
// each answer for at least 60 seconds.
func TestUDPRetransmitAcrossRestart(t *testing.T) {
	t.Parallel()
	restarts := []struct {
		name    string
		restart func(g *Gateway)
	}{
		{"plugin killed", func(g *Gateway) { g.KillPlugin("concurrentlm", 30*time.Second) }},
		{"gateway restarted", func(g *Gateway) {
			g.Stop()
			g.Restart()
		}},
	}
	for _, tc := range restarts {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := StartGateway(t, `
feature "cad" {
  seats = 5
}
`)
			u := g.UDP()
			req := pad("CHECKOUT feature=cad user=alice host=ws-01 id=retry-1", 256)
			first, ok := u.Exchange(req, 5*time.Second)
			if !ok || !strings.HasPrefix(first, "GRANTED ") {
				t.Fatalf("first answer %q (ok=%v)", first, ok)
			}
			tc.restart(g)
			var again string
			for range 5 { // the client's own retry policy
				if again, ok = u.Exchange(req, time.Second); ok {
					break
				}
			}
			// The same lease, found again by the gateway under the
			// client's address and id (the plugin's answer cache died
			// with it). Across a gateway restart the lease was revived
			// with a fresh TTL, so expires= (and sig=) may be newer.
			if leaseOf(again) == "" || leaseOf(again) != leaseOf(first) {
				t.Errorf("retransmission after the %s answered %q, first answer %q", tc.name, again, first)
			}
			if f := g.Feature("cad"); f.InUse != 1 {
				t.Errorf("in_use=%d after one checkout retransmitted across a restart, want 1", f.InUse)
			}
		})
	}
}

// leaseOf is the lease= value of a GRANTED line, or "".
func leaseOf(line string) string {
	if !strings.HasPrefix(line, "GRANTED ") {
		return ""
	}
	for _, f := range strings.Fields(line) {
		if v, ok := strings.CutPrefix(f, "lease="); ok {
			return v
		}
	}
	return ""
}
