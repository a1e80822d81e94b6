package concurrentlm

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/licensegw/licensegw/plugins/concurrentlm/wire"
	"github.com/licensegw/licensegw/sdk"
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
	req := "CHECKOUT feature=cad user=a host=h nonce=n1 id=s1"
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
	want(t, parse(t, u.exchange("CHECKOUT feature=cad user=u host=h bind=conn id=b pad="+strings.Repeat("x", 100), 2*time.Second)), "ERR", "code", "bad-request", "id", "b")
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
	c := newUDPCache(2, 10, time.Minute)
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

func TestUDPCacheQuotaPerIP(t *testing.T) {
	c := newUDPCache(8, 2, time.Minute)
	now := time.Now()
	k := func(ip, id string) cacheKey { return cacheKey{from: netip.MustParseAddrPort(ip + ":1"), id: id} }
	for _, id := range []string{"a", "b"} {
		if _, st := c.begin(k("192.0.2.1", id), now); st != cacheMiss {
			t.Fatalf("%s: %v", id, st)
		}
	}
	if _, st := c.begin(k("192.0.2.1", "c"), now); st != cacheQuota {
		t.Fatalf("third entry of one IP: %v, want cacheQuota", st)
	}
	if _, st := c.begin(k("192.0.2.2", "c"), now); st != cacheMiss {
		t.Fatalf("another IP: %v, want cacheMiss", st)
	}
	// An aborted entry gives its share back; an expired one too.
	c.abort(k("192.0.2.1", "a"))
	if _, st := c.begin(k("192.0.2.1", "c"), now); st != cacheMiss {
		t.Fatalf("after abort: %v, want cacheMiss", st)
	}
	c.finish(k("192.0.2.1", "b"), []byte("x"))
	c.finish(k("192.0.2.1", "c"), []byte("x"))
	if _, st := c.begin(k("192.0.2.1", "d"), now.Add(61*time.Second)); st != cacheMiss {
		t.Fatalf("after the TTL: %v, want cacheMiss", st)
	}
}

// countingSeats counts the calls that would be journaled.
type countingSeats struct {
	sdk.Seats
	checkouts, checkins atomic.Int64
}

func (s *countingSeats) Checkout(ctx context.Context, req sdk.CheckoutRequest) (*sdk.Checkout, error) {
	s.checkouts.Add(1)
	return s.Seats.Checkout(ctx, req)
}

func (s *countingSeats) Checkin(ctx context.Context, lease string) error {
	s.checkins.Add(1)
	return s.Seats.Checkin(ctx, lease)
}

// An unpadded UDP CHECKOUT (signed: with nonce=) is refused before it reaches the gateway: no
// checkout and checkin pair is journaled for an answer that cannot be sent.
func TestUDPUnpaddedCheckoutIsNotExecuted(t *testing.T) {
	seats := &countingSeats{Seats: newSeats()}
	h := start(t, seats, nil)
	u := h.udpDial(t)
	for i, req := range []string{
		"CHECKOUT feature=cad user=a host=h nonce=x id=n1",
		"CHECKOUT feature=cad user=alice host=ws count=2 nonce=x id=n2",
		"CHECKOUT feature=cad user=a host=h count=1000000 nonce=x id=n3",
	} {
		got := u.exchange(req, 2*time.Second)
		want(t, parse(t, got), "ERR", "code", "too-large")
		if n := seats.checkouts.Load(); n != 0 {
			t.Fatalf("request %d: %d checkouts reached the gateway, want 0", i, n)
		}
	}
	if n := seats.checkins.Load(); n != 0 {
		t.Fatalf("%d checkins, want 0", n)
	}
	// Padded as the client library pads, the same request is granted once.
	got := u.exchange("CHECKOUT feature=cad user=a host=h id=n1 pad="+strings.Repeat("x", 200), 2*time.Second)
	want(t, parse(t, got), "GRANTED", "id", "n1")
	if n, m := seats.checkouts.Load(), seats.checkins.Load(); n != 1 || m != 0 {
		t.Fatalf("checkouts %d, checkins %d; want 1, 0", n, m)
	}
}

// One source address flooding the UDP port (PINGs and state-changing
// requests alike) does not make the answer cache refuse another address.
// The cache is made small so that the flood fills the old, global one in
// a fraction of a second.
func TestUDPFloodFromOneIPSparesOthers(t *testing.T) {
	seats := newSeats(sdktest.Feature{Vendor: "acme", Name: "cad", Version: "1.0", Seats: 1000})
	h := start(t, seats, map[string]any{"udp_cache_entries": float64(512), "udp_cache_entries_per_ip": float64(64)})
	server, err := net.ResolveUDPAddr("udp", h.udp)
	if err != nil {
		t.Fatal(err)
	}
	flood, err := net.DialUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 2)}, server)
	if err != nil {
		t.Skipf("no second loopback address: %v", err)
	}
	t.Cleanup(func() { flood.Close() })
	go func() { // drain the flood's answers
		buf := make([]byte, 2048)
		for {
			if _, err := flood.Read(buf); err != nil {
				return
			}
		}
	}()
	stop := make(chan struct{})
	var sent atomic.Int64
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(5 * time.Millisecond) // 10 datagrams a tick: ~2,000/s
		defer tick.Stop()
		for i := 0; ; {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			for range 10 {
				i++
				d := fmt.Sprintf("PING id=p%d", i)
				if i%4 == 0 { // state-changing requests are cached: they use up the flood's share
					d = fmt.Sprintf("HEARTBEAT lease=nope%d id=h%d pad=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", i, i)
				}
				if _, err := flood.Write([]byte(d)); err == nil {
					sent.Add(1)
				}
			}
		}
	})
	t.Cleanup(func() { close(stop); wg.Wait() })

	victim := h.udpDial(t)
	// The flood is past twice the old global cache's 512 entries before
	// the victim starts.
	eventually(t, "1,024 datagrams of flood", func() bool { return sent.Load() >= 1024 })
	for i := range 10 {
		req := fmt.Sprintf("CHECKOUT feature=cad user=v host=h id=v%d pad=%s", i, strings.Repeat("x", 200))
		got := victim.exchange(req, 2*time.Second)
		if got == "" {
			t.Fatalf("checkout %d: no answer", i)
		}
		want(t, parse(t, got), "GRANTED", "id", fmt.Sprintf("v%d", i))
		time.Sleep(100 * time.Millisecond)
	}
	if n := sent.Load(); n < 1000 {
		t.Fatalf("the flood sent only %d datagrams", n)
	}
	t.Logf("flood: %d datagrams from 127.0.0.2 during the victim's 10 checkouts", sent.Load())
}
