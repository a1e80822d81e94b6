package concurrentlm

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/licensegw/licensegw/plugins/concurrentlm/wire"
	"github.com/licensegw/licensegw/sdk/sdktest"
)

func parse(t *testing.T, s string) wire.Message {
	t.Helper()
	m, err := wire.ParseMessage(s)
	if err != nil {
		t.Fatalf("answer %q: %v", s, err)
	}
	return m
}

func TestUDPRetransmitTakesOneSeat(t *testing.T) {
	seats := newSeats()
	h := start(t, seats, nil)
	u := h.udpDial(t)
	req := "CHECKOUT feature=cad user=alice host=ws-01 id=u1 pad=" + strings.Repeat("p", 60)
	first := u.exchange(req, 2*time.Second)
	want(t, parse(t, first), "GRANTED", "id", "u1")
	if strings.HasSuffix(first, "\n") {
		t.Errorf("UDP answer ends in LF: %q", first)
	}
	for range 3 {
		if again := u.exchange(req, 2*time.Second); again != first {
			t.Fatalf("retransmit answered %q, want the same %q", again, first)
		}
	}
	if n, _ := inUse(t, seats, "cad"); n != 1 {
		t.Fatalf("in use %d after retransmits, want 1", n)
	}
	// A new id is a new request.
	want(t, parse(t, u.exchange(strings.Replace(req, "id=u1", "id=u2", 1), 2*time.Second)), "GRANTED", "id", "u2")
	if n, _ := inUse(t, seats, "cad"); n != 2 {
		t.Fatalf("in use %d, want 2", n)
	}
}

func TestUDPAmplificationBound(t *testing.T) {
	seats := newSeats()
	h := start(t, seats, nil)
	u := h.udpDial(t)

	// A small CHECKOUT cannot carry a signed GRANTED: too-large, and no seat
	// is kept for an answer the client never saw.
	req := "CHECKOUT feature=cad user=a host=h id=s1"
	got := u.exchange(req, 2*time.Second)
	if len(got) > 3*len(req) {
		t.Fatalf("answer of %d bytes to %d", len(got), len(req))
	}
	want(t, parse(t, got), "ERR", "code", "too-large", "id", "s1")
	if n, _ := inUse(t, seats, "cad"); n != 0 {
		t.Fatalf("in use %d after too-large, want 0", n)
	}
	// The same id, padded, runs afresh and is granted.
	padded := req + " pad=" + strings.Repeat("x", 40)
	got = u.exchange(padded, 2*time.Second)
	if len(got) > 3*len(padded) {
		t.Fatalf("answer of %d bytes to %d", len(got), len(padded))
	}
	want(t, parse(t, got), "GRANTED", "id", "s1")

	// HELLO's answer is long: a bare HELLO gets too-large...
	want(t, parse(t, u.exchange("HELLO id=1", 2*time.Second)), "ERR", "code", "too-large", "id", "1")
	// ...and a datagram too small even for the ERR gets nothing at all.
	if got := u.exchange("PING", 500*time.Millisecond); got != "" {
		t.Fatalf("4-byte PING without id answered %q", got)
	}
	// PING fits.
	if got := u.exchange("PING id=1", 2*time.Second); got != "PONG id=1" {
		t.Fatalf("PING answered %q", got)
	}
}

func TestUDPNeedsID(t *testing.T) {
	h := start(t, newSeats(), nil)
	u := h.udpDial(t)
	req := "CHECKOUT feature=cad user=alice host=ws-01"
	want(t, parse(t, u.exchange(req, 2*time.Second)), "ERR", "code", "bad-request")
	// bind=conn and STATUS without feature= make no sense over UDP.
	want(t, parse(t, u.exchange("CHECKOUT feature=cad user=u host=h bind=conn id=b", 2*time.Second)), "ERR", "code", "bad-request", "id", "b")
	want(t, parse(t, u.exchange("STATUS id=st pad=xxxxxxxxxxxxxxxxxxxxxxxx", 2*time.Second)), "ERR", "code", "bad-request", "id", "st")
}

func TestUDPStatusAndHeartbeat(t *testing.T) {
	seats := newSeats()
	h := start(t, seats, nil)
	u := h.udpDial(t)
	pad := " pad=" + strings.Repeat("x", 60)
	got := u.exchange("STATUS feature=cad id=s"+pad, 2*time.Second)
	want(t, parse(t, got), "FEATURE", "name", "cad", "seats", "2", "id", "s")
	if strings.Contains(got, "END") || strings.Count(got, "\n") > 0 {
		t.Fatalf("UDP STATUS answered more than one FEATURE line: %q", got)
	}
	// A queue wait over UDP is not offered: the answer is immediate.
	lease := parse(t, u.exchange("CHECKOUT feature=cad user=u host=h wait=30 id=c"+pad, 2*time.Second)).Get("lease")
	want(t, parse(t, u.exchange("HEARTBEAT lease="+lease+" id=hb", 2*time.Second)), "OK", "lease", lease, "id", "hb")
	want(t, parse(t, u.exchange("CHECKIN lease="+lease+" id=ci", 2*time.Second)), "OK", "lease", lease, "id", "ci")
	// The retransmitted CHECKIN gets the remembered OK, not GONE.
	want(t, parse(t, u.exchange("CHECKIN lease="+lease+" id=ci", 2*time.Second)), "OK", "lease", lease, "id", "ci")
}

func TestUDPCacheBounded(t *testing.T) {
	c := newUDPCache(2, time.Minute)
	now := time.Now()
	k := func(id string) cacheKey { return cacheKey{from: netip.MustParseAddrPort("127.0.0.1:1"), id: id} }
	if _, st := c.begin(k("a"), now); st != cacheMiss {
		t.Fatal(st)
	}
	if _, st := c.begin(k("a"), now); st != cachePending {
		t.Fatal(st)
	}
	c.finish(k("a"), []byte("PONG id=a"))
	if r, st := c.begin(k("a"), now); st != cacheHit || string(r) != "PONG id=a" {
		t.Fatal(st, string(r))
	}
	c.begin(k("b"), now)
	if _, st := c.begin(k("c"), now.Add(59*time.Second)); st != cacheFull {
		t.Fatalf("full cache of young entries: %v, want cacheFull", st)
	}
	c.finish(k("b"), []byte("x"))
	if _, st := c.begin(k("c"), now.Add(61*time.Second)); st != cacheMiss {
		t.Fatalf("after the TTL: %v, want cacheMiss", st)
	}
	if c.len() != 1 {
		t.Fatalf("len %d, want 1", c.len())
	}
}

// FuzzDatagram: any datagram through the UDP handler never panics and is
// never answered with more than three times its size.
func FuzzDatagram(f *testing.F) {
	for _, s := range []string{
		"PING id=1", "HELLO id=1 pad=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "CHECKOUT feature=cad user=u host=h id=2",
		"CHECKOUT feature=cad user=u host=h id=3 pad=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
		"STATUS feature=cad id=4 pad=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "HEARTBEAT lease=x id=5",
		"CANCEL ticket=t id=6", "QUIT id=7", "x", "\n", "PING", "FROB id=9",
	} {
		f.Add([]byte(s))
	}
	seats := sdktest.NewSeats(sdktest.Feature{Vendor: "acme", Name: "cad", Version: "1.0", Seats: 1 << 30})
	s := newServer(context.Background(), seats, nil, DefaultLimits())
	from := netip.MustParseAddrPort("192.0.2.1:5000")
	f.Fuzz(func(t *testing.T, d []byte) {
		out := s.handleDatagram(context.Background(), d, from, nil)
		if len(out) > 3*len(d) {
			t.Fatalf("%d-byte datagram %q answered with %d bytes %q", len(d), d, len(out), out)
		}
		if len(out) > 0 {
			if _, err := wire.ParseMessage(string(out)); err != nil {
				t.Fatalf("answer %q does not parse: %v", out, err)
			}
		}
	})
}
