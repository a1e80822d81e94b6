package e2e

import (
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"io"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/licensegw/licensegw/gateway/events"
	"github.com/licensegw/licensegw/internal/e2etest"
)

// TestSignedGrant verifies a grant's sig= with the key HELLO announced, as
// a client that pins the key does, and checks that it covers the nonce and
// that only a CHECKOUT with nonce= gets a signature.
func TestSignedGrant(t *testing.T) {
	t.Parallel()
	g := StartGateway(t, `
feature "cad" {
  seats = 2
  queue {}
}
`)
	c := g.Dial()
	hello := c.Do("HELLO client=e2e")
	key, err := base64.RawURLEncoding.DecodeString(hello.Get("key"))
	if err != nil || len(key) != ed25519.PublicKeySize {
		t.Fatalf("HELLO key=%q: %v (len %d)", hello.Get("key"), err, len(key))
	}
	verify := func(t *testing.T, grant Reply, user, host, nonce string) {
		t.Helper()
		msg := "CLM1 lease=" + grant.Get("lease") + " feature=" + grant.Get("feature") + " count=" + grant.Get("count") +
			" user=" + user + " host=" + host + " expires=" + grant.Get("expires") + " nonce=" + nonce
		sig, err := base64.RawURLEncoding.DecodeString(grant.Get("sig"))
		if err != nil {
			t.Fatalf("sig=%q: %v", grant.Get("sig"), err)
		}
		if !ed25519.Verify(key, []byte(msg), sig) {
			t.Errorf("signature does not verify %q", msg)
		}
		if ed25519.Verify(key, []byte(msg+"x"), sig) {
			t.Error("signature verifies another text")
		}
	}

	t.Run("direct grant with nonce", func(t *testing.T) {
		r := c.Do("CHECKOUT feature=cad user=alice host=ws-01 nonce=Xa9k2LqP0sWv7yHnRt4eZQ")
		expect(t, r, "GRANTED")
		verify(t, r, "alice", "ws-01", "Xa9k2LqP0sWv7yHnRt4eZQ")
	})
	t.Run("direct grant without nonce is not signed", func(t *testing.T) {
		r := c.Do("CHECKOUT feature=cad user=bob host=ws-02")
		expect(t, r, "GRANTED")
		if r.Get("sig") != "" {
			t.Errorf("a grant to a CHECKOUT without nonce= carries sig=: %q", r.Line)
		}
	})
	t.Run("grant from the queue", func(t *testing.T) {
		w := g.Dial()
		expect(t, w.Do("CHECKOUT feature=cad user=carol host=ws-03 wait=30 nonce=n0nce"), "QUEUED")
		lease := g.Feature("cad").Leases[0].ID
		expect(t, c.Do("CHECKIN lease="+lease), "OK")
		ev := w.Event(10 * time.Second)
		if ev.Event != "granted" {
			t.Fatalf("%q, want EVENT granted", ev.Line)
		}
		verify(t, ev, "carol", "ws-03", "n0nce")
	})
}

// TestBindConn: a bind=conn lease ends with its connection, and the seat
// is free at once for the next client.
func TestBindConn(t *testing.T) {
	t.Parallel()
	g := StartGateway(t, `
feature "cad" {
  seats = 1
}
`)
	c := g.Dial()
	lease := c.Do("CHECKOUT feature=cad user=alice host=h bind=conn")
	expect(t, lease, "GRANTED")
	other := g.Dial()
	expect(t, other.Do("CHECKOUT feature=cad user=bob host=h"), "DENIED", "reason", "no-seats")
	c.Close()
	e2etest.Eventually(t, 10*time.Second, "seat freed by the closed connection", func() error {
		if f := g.Feature("cad"); f.InUse != 0 {
			return errors.New("still in use")
		}
		return nil
	})
	expect(t, other.Do("CHECKOUT feature=cad user=bob host=h"), "GRANTED")
	expect(t, other.Do("HEARTBEAT lease="+lease.Get("lease")), "GONE", "lease", lease.Get("lease"))
	g.WaitEvent(10*time.Second, "checkin of the bound lease", func(e e2etest.Event) bool {
		return e.Lease == lease.Get("lease") && e.Kind == events.Checkin
	})
}

// TestQueueLeave: a cancelled ticket and the ticket of a closed connection
// leave the queue (dequeued events), and the next waiter gets the seat.
func TestQueueLeave(t *testing.T) {
	t.Parallel()
	g := StartGateway(t, `
feature "cad" {
  seats = 1
  queue {}
}
`)
	holder := g.Dial()
	lease := holder.checkout("cad", "holder", "h")
	canceller, leaver, stayer := g.Dial(), g.Dial(), g.Dial()
	tc := canceller.Do("CHECKOUT feature=cad user=c host=h wait=60")
	tl := leaver.Do("CHECKOUT feature=cad user=l host=h wait=60")
	ts := stayer.Do("CHECKOUT feature=cad user=s host=h wait=60")
	expect(t, ts, "QUEUED", "position", "3")

	expect(t, canceller.Do("CANCEL ticket="+tc.Get("ticket")), "OK", "ticket", tc.Get("ticket"))
	expect(t, canceller.Do("CANCEL ticket="+tc.Get("ticket")), "GONE", "ticket", tc.Get("ticket"))
	leaver.Close()
	e2etest.Eventually(t, 10*time.Second, "both tickets left the queue", func() error {
		if f := g.Feature("cad"); f.Queued != 1 {
			return errors.New("queue not down to one")
		}
		return nil
	})
	expect(t, holder.Do("CHECKIN lease="+lease), "OK")
	ev := stayer.Event(10 * time.Second)
	expect(t, ev, "EVENT", "ticket", ts.Get("ticket"))
	if ev.Event != "granted" {
		t.Fatalf("%q, want EVENT granted", ev.Line)
	}
	canceller.NoEvent(200 * time.Millisecond)
	for _, tk := range []string{tc.Get("ticket"), tl.Get("ticket")} {
		g.WaitEvent(10*time.Second, "dequeued "+tk, func(e e2etest.Event) bool {
			return e.Kind == events.Dequeued && e.Ticket == tk
		})
	}
}

// TestLineTooLong: a line over 4096 bytes is answered ERR line-too-long
// and the TCP connection is closed; other connections are unaffected.
func TestLineTooLong(t *testing.T) {
	t.Parallel()
	g := StartGateway(t, `
feature "cad" {
  seats = 1
}
`)
	c := g.Dial()
	r := c.Do("PING pad=" + strings.Repeat("x", 5000))
	expect(t, r, "ERR", "code", "line-too-long")
	// Closing with the rest of the line unread makes the kernel send a
	// reset: either is a closed connection.
	if _, err := c.readLine(5 * time.Second); !errors.Is(err, io.EOF) && !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("after line-too-long: %v, want the connection closed", err)
	}
	expect(t, g.Dial().Do("PING"), "PONG")
	expect(t, g.Dial().Do("FROB x=1"), "ERR", "code", "unknown-verb")
	expect(t, g.Dial().Do("CHECKOUT feature=cad feature=cad user=u host=h"), "ERR", "code", "bad-request")
}

// TestReloadBelowInUse lowers seats below the seats in use: the leases
// stay, and nothing is granted until in_use is below the new seats.
func TestReloadBelowInUse(t *testing.T) {
	t.Parallel()
	g := StartGateway(t, `
feature "cad" {
  seats = 3
}
`)
	c := g.Dial()
	leases := []string{c.checkout("cad", "a", "h"), c.checkout("cad", "b", "h"), c.checkout("cad", "c", "h")}
	g.SetFeatures(`
feature "cad" {
  seats = 1
}
`)
	ctx := t.Context()
	if err := g.Admin().Reload(ctx); err != nil {
		t.Fatalf("reload: %v", err)
	}
	if f := g.Feature("cad"); f.Seats != 1 || f.InUse != 3 {
		t.Fatalf("after the reload: seats=%d in_use=%d, want 1 and 3", f.Seats, f.InUse)
	}
	for _, l := range leases {
		expect(t, c.Do("HEARTBEAT lease="+l), "OK", "lease", l)
	}
	expect(t, c.Do("CHECKIN lease="+leases[0]), "OK")
	expect(t, c.Do("CHECKOUT feature=cad user=d host=h"), "DENIED", "reason", "no-seats", "in_use", "2", "seats", "1")
	expect(t, c.Do("CHECKIN lease="+leases[1]), "OK")
	expect(t, c.Do("CHECKOUT feature=cad user=d host=h"), "DENIED", "reason", "no-seats")
	expect(t, c.Do("CHECKIN lease="+leases[2]), "OK")
	expect(t, c.Do("CHECKOUT feature=cad user=d host=h"), "GRANTED")
	for _, e := range filterEvents(g.Events(), events.Checkout, "cad") {
		if e.InUse > e.Seats {
			t.Errorf("checkout event %s: in_use=%d > seats=%d", e.ID, e.InUse, e.Seats)
		}
	}
}

// TestGracefulRestart stops the gateway with SIGTERM and starts it again:
// it exits cleanly, leases survive, and the stream records both runs.
func TestGracefulRestart(t *testing.T) {
	t.Parallel()
	g := StartGateway(t, `
feature "cad" {
  seats = 2
}
`)
	lease := g.Dial().checkout("cad", "alice", "h")
	g.Stop()
	g.Restart()
	c := g.Dial()
	expect(t, c.Do("HEARTBEAT lease="+lease), "OK", "lease", lease)
	if f := g.Feature("cad"); f.InUse != 1 {
		t.Errorf("in_use=%d after the restart, want 1", f.InUse)
	}
	expect(t, c.Do("CHECKIN lease="+lease), "OK")
	if n := len(filterEvents(g.Events(), events.Checkout, "cad")); n != 1 {
		t.Errorf("%d checkout events, want 1 (a restart must not replay into the stream)", n)
	}
	// The lifecycle of both runs is in the stream too.
	count := map[string]int{}
	for _, s := range g.Subjects() {
		count[s]++
	}
	for subject, want := range map[string]int{
		"licensegw.gateway.started":              2,
		"licensegw.gateway.stopped":              1,
		"licensegw.plugins.concurrentlm.started": 2,
	} {
		if count[subject] != want {
			t.Errorf("%d messages on %s, want %d (stream subjects: %v)", count[subject], subject, want, count)
		}
	}
}

// TestConnectionLimit: beyond max_connections_per_ip a connection is
// answered too-many-requests and closed; closing one makes room.
func TestConnectionLimit(t *testing.T) {
	t.Parallel()
	g := StartGateway(t, `
feature "cad" {
  seats = 1
}
`, WithPluginConfig(`    max_connections_per_ip = 2`))
	a, b := g.Dial(), g.Dial()
	expect(t, a.Do("PING"), "PONG")
	expect(t, b.Do("PING"), "PONG")
	third := g.Dial()
	r, err := third.readLine(5 * time.Second)
	if err != nil {
		t.Fatalf("third connection: %v, want ERR too-many-requests", err)
	}
	expect(t, r, "ERR", "code", "too-many-requests")
	if _, err := third.readLine(5 * time.Second); !errors.Is(err, io.EOF) && !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("third connection after the refusal: %v, want it closed", err)
	}
	a.Close()
	e2etest.Eventually(t, 10*time.Second, "room for a new connection", func() error {
		c := g.Dial()
		defer c.Close()
		r, err := c.do("PING")
		if err != nil {
			return err
		}
		if r.Verb != "PONG" {
			return errors.New(r.Line)
		}
		return nil
	})
}

// TestLeaseIdentifiers: lease and ticket ids are opaque tokens of at most
// 64 characters, distinct, and not guessable from the feature name.
func TestLeaseIdentifiers(t *testing.T) {
	t.Parallel()
	g := StartGateway(t, `
feature "cad" {
  seats = 50
}
`)
	c := g.Dial()
	seen := map[string]bool{}
	named := 0 // ids with the feature's name in them: random ones do, rarely
	for range 50 {
		l := c.checkout("cad", "u", "h")
		if len(l) < 16 || len(l) > 64 {
			t.Errorf("lease id %q", l)
		}
		if strings.Contains(l, "cad") {
			named++
		}
		if seen[l] {
			t.Errorf("lease id %q given twice", l)
		}
		seen[l] = true
	}
	if named > 5 {
		t.Errorf("%d of 50 lease ids contain the feature name", named)
	}
	expect(t, c.Do("HEARTBEAT lease=not-a-lease"), "GONE", "lease", "not-a-lease", "reason", "unknown")
}
