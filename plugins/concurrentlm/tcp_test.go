package concurrentlm

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/licensegw/licensegw/plugins/concurrentlm/wire"
	"github.com/licensegw/licensegw/sdk"
	"github.com/licensegw/licensegw/sdk/sdktest"
)

func TestHelloAndSignedGrant(t *testing.T) {
	seats := newSeats()
	h := start(t, seats, nil)
	c := h.dial(t)

	hello := c.call("HELLO client=cad version=2024.1 proto=1")
	want(t, hello, "OK", "server", Product, "proto", "1", "ttl", "120")
	key, err := base64.RawURLEncoding.DecodeString(hello.Get("key"))
	if err != nil || len(key) != ed25519.PublicKeySize {
		t.Fatalf("key=%q: %v", hello.Get("key"), err)
	}

	g := c.call("CHECKOUT feature=cad user=alice host=ws-01 nonce=n-42 id=7")
	want(t, g, "GRANTED", "feature", "cad", "count", "1", "ttl", "120", "id", "7")
	// The exact text of the contract, built here independently of sdk.GrantText.
	text := fmt.Sprintf("CLM1 lease=%s feature=cad count=1 user=alice host=ws-01 expires=%s nonce=n-42", g.Get("lease"), g.Get("expires"))
	sig, err := base64.RawURLEncoding.DecodeString(g.Get("sig"))
	if err != nil {
		t.Fatalf("sig=%q: %v", g.Get("sig"), err)
	}
	if !ed25519.Verify(key, []byte(text), sig) {
		t.Fatalf("signature does not verify over %q", text)
	}
	if strings.Contains(g.Get("expires"), ".") || !strings.HasSuffix(g.Get("expires"), "Z") {
		t.Errorf("expires=%q is not RFC 3339 UTC seconds", g.Get("expires"))
	}

	lease := g.Get("lease")
	want(t, c.call("HEARTBEAT lease="+lease), "OK", "lease", lease, "ttl", "120")
	want(t, c.call("CHECKIN lease="+lease+" id=x"), "OK", "lease", lease, "id", "x")
	want(t, c.call("CHECKIN lease="+lease), "GONE", "lease", lease, "reason", "unknown")
	want(t, c.call("PING id=p"), "PONG", "id", "p")
	want(t, c.call("QUIT"), "BYE")
	c.expectClosed()
}

func TestDenials(t *testing.T) {
	seats := &scripted{Seats: newSeats()}
	h := start(t, seats, nil)
	c := h.dial(t)
	reasons := []string{"no-seats", "unknown-feature", "expired", "not-started", "version", "excluded",
		"limit", "reserved", "count", "queue-full", "timeout"}
	for _, reason := range reasons {
		t.Run(reason, func(t *testing.T) {
			seats.deny(&sdk.Denial{Reason: reason, Message: "because " + reason, InUse: 3, Seats: 4})
			m := c.call("CHECKOUT feature=cad user=u host=h id=" + reason)
			want(t, m, "DENIED", "reason", reason, "message", "because "+reason, "id", reason)
			_, hasInUse := m.Lookup("in_use")
			if counted := countedReason(reason); counted {
				want(t, m, "DENIED", "in_use", "3", "seats", "4")
			} else if hasInUse {
				t.Errorf("%s carries in_use=", reason)
			}
		})
	}
	// And the real in-memory Seats' own denials.
	seats.deny(nil)
	want(t, c.call("CHECKOUT feature=nope user=u host=h"), "DENIED", "reason", "unknown-feature")
	want(t, c.call("CHECKOUT feature=cad user=u host=h count=5"), "DENIED", "reason", "count")
	want(t, c.call("CHECKOUT feature=cad user=u host=h version=3.0"), "DENIED", "reason", "version")
	want(t, c.call("CHECKOUT feature=cad user=u host=h count=2"), "GRANTED")
	want(t, c.call("CHECKOUT feature=cad user=u host=h"), "DENIED", "reason", "no-seats", "in_use", "2", "seats", "2")
}

func TestGoneReasons(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	var clock atomic.Int64
	clock.Store(now.UnixNano())
	seats := newSeats(sdktest.Feature{Name: "cad", Seats: 5, TTL: time.Minute}).WithClock(func() time.Time { return time.Unix(0, clock.Load()) })
	h := start(t, seats, nil)
	c := h.dial(t)
	a := c.call("CHECKOUT feature=cad user=u host=h").Get("lease")
	b := c.call("CHECKOUT feature=cad user=u host=h").Get("lease")
	if err := seats.Remove(context.Background(), a, sdk.Client{Addr: "test"}); err != nil {
		t.Fatal(err)
	}
	want(t, c.call("HEARTBEAT lease="+a), "GONE", "lease", a, "reason", "removed")
	want(t, c.call("HEARTBEAT lease=nosuch"), "GONE", "lease", "nosuch", "reason", "unknown")
	clock.Store(now.Add(2 * time.Minute).UnixNano())
	want(t, c.call("HEARTBEAT lease="+b), "GONE", "lease", b, "reason", "expired")
}

// TestRequestKey: a CHECKOUT asked again with the same request= (over
// another connection, or as a datagram) gets the lease the first ask got,
// not a second seat; another key gets another seat.
func TestRequestKey(t *testing.T) {
	seats := newSeats(sdktest.Feature{Name: "cad", Seats: 5})
	h := start(t, seats, nil)
	first := h.dial(t).call("CHECKOUT feature=cad user=u host=h request=k-1")
	want(t, first, "GRANTED", "feature", "cad")
	lease := first.Get("lease")
	want(t, h.dial(t).call("CHECKOUT feature=cad user=u host=h request=k-1"), "GRANTED", "lease", lease)
	line := h.udpDial(t).exchange("CHECKOUT feature=cad user=u host=h request=k-1 id=u1 pad="+strings.Repeat("x", 200), 5*time.Second)
	udp, err := wire.ParseMessage(line)
	if err != nil {
		t.Fatalf("UDP answer %q: %v", line, err)
	}
	want(t, udp, "GRANTED", "lease", lease)
	other := h.dial(t).call("CHECKOUT feature=cad user=u host=h request=k-2")
	if other.Get("lease") == lease {
		t.Fatalf("another request key got the same lease %s", lease)
	}
	fs, err := seats.Status(context.Background(), sdk.StatusQuery{Feature: "cad"})
	if err != nil || len(fs) != 1 || fs[0].InUse != 2 {
		t.Fatalf("status %+v %v, want 2 in use", fs, err)
	}
}

func TestErrors(t *testing.T) {
	seats := newSeats()
	h := start(t, seats, nil)
	c := h.dial(t)
	tests := []struct{ line, code string }{
		{"FROB id=1", "unknown-verb"},
		{"CHECKOUT feature=cad id=2", "bad-request"},
		{"CHECKOUT feature=cad user=u host=h count=0", "bad-request"},
		{"CHECKOUT feature=cad user=u host=h count=+1", "bad-request"},
		{"CHECKOUT feature=cad user=u host=h count=0001", "bad-request"},
		{"CHECKOUT feature=cad user=u host=h count=01", "bad-request"},
		{"CHECKOUT feature=cad user=u host=h count=1000001", "bad-request"},
		{"CHECKOUT feature=cad user=u host=h count=4294967297", "bad-request"},
		{"CHECKOUT feature=cad user=u host=h pid=+42", "bad-request"},
		{"CHECKOUT feature=cad user=u host=h wait=030", "bad-request"},
		{"CHECKOUT feature=cad user=u host=h wait=-1", "bad-request"},
		{"CHECKOUT feature=cad user=u host=h bind=forever", "bad-request"},
		{"CHECKOUT feature=cad user=u host=h request=a.b", "bad-request"},
		{"CHECKOUT feature=cad user=u host=h request=", "bad-request"},
		{"CHECKOUT feature=cad user=u host=h nonce=\"a b\"", "bad-request"},
		{"HEARTBEAT", "bad-request"},
		{"PING id=1 id=2", "bad-request"},
		{`PING x="unterminated`, "bad-request"},
	}
	for _, tt := range tests {
		m := c.call(tt.line)
		want(t, m, "ERR", "code", tt.code)
		if m.Get("message") == "" {
			t.Errorf("%q: ERR without message", tt.line)
		}
	}
	// The connection survived all of that.
	want(t, c.call("PING"), "PONG")

	seats.FailWith(sdk.ErrUnavailable)
	want(t, c.call("CHECKOUT feature=cad user=u host=h id=9"), "ERR", "code", "unavailable", "id", "9")
	want(t, c.call("HEARTBEAT lease=x"), "ERR", "code", "unavailable")
	seats.FailWith(nil)
}

// inFlight counts the slow (f0) checkouts running at once. With hold set,
// each waits until another is in flight with it, so that overlap is
// observed rather than timed; if none comes within 5 s every hold is
// released and the peak says so.
type inFlight struct {
	mu      sync.Mutex
	n, peak int
	hold    bool
	overlap chan struct{}
	once    sync.Once
}

func newInFlight(hold bool) *inFlight { return &inFlight{hold: hold, overlap: make(chan struct{})} }

func (f *inFlight) delay(feature string) time.Duration {
	if feature != "f0" {
		return 0
	}
	f.mu.Lock()
	f.n++
	f.peak = max(f.peak, f.n)
	if f.n >= 2 {
		f.once.Do(func() { close(f.overlap) })
	}
	f.mu.Unlock()
	if f.hold {
		select {
		case <-f.overlap:
		case <-time.After(5 * time.Second):
			f.once.Do(func() { close(f.overlap) })
		}
	} else {
		time.Sleep(2 * time.Millisecond)
	}
	f.mu.Lock()
	f.n--
	f.mu.Unlock()
	return 0
}

func (f *inFlight) maxSeen() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.peak
}

// TestPipeliningKeepsOrder: pipelined requests of one connection are
// answered in the order sent, and run one after the other (a pipelined
// CHECKIN then CHECKOUT must find the seat free), even when some are slow.
func TestPipeliningKeepsOrder(t *testing.T) {
	seats := &scripted{Seats: newSeats(sdktest.Feature{Name: "f0", Seats: 100}, sdktest.Feature{Name: "f1", Seats: 100})}
	slow := newInFlight(false)
	seats.delay = slow.delay
	h := start(t, seats, nil)
	c := h.dial(t)
	const n = 40
	var lines []string
	for i := range n {
		switch i % 4 {
		case 0, 1:
			lines = append(lines, fmt.Sprintf("CHECKOUT feature=f%d user=u host=h id=r%d", i%2, i))
		case 2:
			lines = append(lines, fmt.Sprintf("PING id=r%d", i))
		case 3:
			lines = append(lines, fmt.Sprintf("STATUS feature=f1 id=r%d", i))
		}
	}
	c.send(lines...)
	for i := range n {
		m := c.msg()
		if m.Word == "FEATURE" {
			want(t, m, "FEATURE", "id", fmt.Sprintf("r%d", i))
			m = c.msg()
			want(t, m, "END", "count", "1")
		}
		if got := m.Get("id"); got != fmt.Sprintf("r%d", i) {
			t.Fatalf("answer %d: %s id=%s, want id=r%d", i, m.Word, got, i)
		}
	}
	if p := slow.maxSeen(); p != 1 {
		t.Errorf("%d slow checkouts of one connection ran at once, want them one after the other", p)
	}
}

// TestConnectionsRunConcurrently: a slow checkout on one connection does not
// hold up another connection's: both are in flight at once.
func TestConnectionsRunConcurrently(t *testing.T) {
	seats := &scripted{Seats: newSeats(sdktest.Feature{Name: "f0", Seats: 100})}
	slow := newInFlight(true)
	seats.delay = slow.delay
	h := start(t, seats, nil)
	a, b := h.dial(t), h.dial(t)
	a.send("CHECKOUT feature=f0 user=a host=h id=a")
	b.send("CHECKOUT feature=f0 user=b host=h id=b")
	want(t, a.msg(), "GRANTED", "id", "a")
	want(t, b.msg(), "GRANTED", "id", "b")
	if p := slow.maxSeen(); p < 2 {
		t.Errorf("at most %d slow checkout in flight: one connection's held up the other's", p)
	}
}

func TestQueueFIFOAndEvents(t *testing.T) {
	seats := newSeats(sdktest.Feature{Name: "solo", Seats: 1, Queue: true})
	h := start(t, seats, nil)
	holder := h.dial(t)
	lease := holder.call("CHECKOUT feature=solo user=a host=h").Get("lease")

	var waiters []*client
	var tickets []string
	for i := range 3 {
		w := h.dial(t)
		m := w.call(fmt.Sprintf("CHECKOUT feature=solo user=w%d host=h wait=60 id=q%d", i, i))
		want(t, m, "QUEUED", "position", fmt.Sprint(i+1), "id", fmt.Sprintf("q%d", i))
		waiters = append(waiters, w)
		tickets = append(tickets, m.Get("ticket"))
	}
	if _, q := inUse(t, seats, "solo"); q != 3 {
		t.Fatalf("queued = %d, want 3", q)
	}
	// Each checkin hands the seat to the next waiter, in order.
	for i, w := range waiters {
		want(t, holder.call("CHECKIN lease="+lease), "OK")
		ev := w.msg()
		want(t, ev, "EVENT", "ticket", tickets[i], "feature", "solo", "count", "1", "id", fmt.Sprintf("q%d", i))
		if ev.Sub != "granted" || ev.Get("lease") == "" {
			t.Fatalf("waiter %d: %+v", i, ev)
		}
		lease = ev.Get("lease")
		// The waiter's connection still serves requests after the EVENT.
		want(t, w.call("HEARTBEAT lease="+lease), "OK")
	}
}

func TestQueueCancelAndClose(t *testing.T) {
	seats := newSeats(sdktest.Feature{Name: "solo", Seats: 1, Queue: true})
	h := start(t, seats, nil)
	holder := h.dial(t)
	want(t, holder.call("CHECKOUT feature=solo user=a host=h"), "GRANTED")

	w1 := h.dial(t)
	t1 := w1.call("CHECKOUT feature=solo user=b host=h wait=60").Get("ticket")
	want(t, w1.call("CANCEL ticket="+t1), "OK", "ticket", t1)
	want(t, w1.call("CANCEL ticket="+t1), "GONE", "ticket", t1)
	// No EVENT denied follows a client's own CANCEL: the next line is PONG.
	want(t, w1.call("PING"), "PONG")

	w2 := h.dial(t)
	want(t, w2.call("CHECKOUT feature=solo user=c host=h wait=60"), "QUEUED")
	if _, q := inUse(t, seats, "solo"); q != 1 {
		t.Fatalf("queued = %d, want 1", q)
	}
	w2.nc.Close()
	eventually(t, "ticket cancelled on close", func() bool { _, q := inUse(t, seats, "solo"); return q == 0 })
}

func TestQueueTimeoutEvent(t *testing.T) {
	seats := newSeats(sdktest.Feature{Name: "solo", Seats: 1, Queue: true})
	h := start(t, seats, nil)
	holder := h.dial(t)
	want(t, holder.call("CHECKOUT feature=solo user=a host=h"), "GRANTED")
	w := h.dial(t)
	want(t, w.call("CHECKOUT feature=solo user=b host=h wait=1 id=t"), "QUEUED")
	time.Sleep(1100 * time.Millisecond)
	seats.Expire() // sdktest evaluates wait deadlines lazily
	ev := w.msg()
	want(t, ev, "EVENT", "reason", "timeout", "id", "t")
	if ev.Sub != "denied" {
		t.Fatalf("got %+v", ev)
	}
}

func TestTicketLimitPerConnection(t *testing.T) {
	seats := newSeats(sdktest.Feature{Name: "solo", Seats: 1, Queue: true})
	h := start(t, seats, map[string]any{"max_tickets_per_connection": float64(2)})
	holder := h.dial(t)
	want(t, holder.call("CHECKOUT feature=solo user=a host=h"), "GRANTED")
	w := h.dial(t)
	want(t, w.call("CHECKOUT feature=solo user=b host=h wait=60"), "QUEUED")
	want(t, w.call("CHECKOUT feature=solo user=b host=h wait=60"), "QUEUED")
	want(t, w.call("CHECKOUT feature=solo user=b host=h wait=60"), "DENIED", "reason", "no-seats")
}

func TestBindConn(t *testing.T) {
	seats := newSeats()
	h := start(t, seats, nil)
	c := h.dial(t)
	want(t, c.call("CHECKOUT feature=cad user=u host=h bind=conn"), "GRANTED")
	free := c.call("CHECKOUT feature=cad user=u host=h").Get("lease")
	if n, _ := inUse(t, seats, "cad"); n != 2 {
		t.Fatalf("in use %d", n)
	}
	c.nc.Close()
	eventually(t, "bind=conn lease released", func() bool { n, _ := inUse(t, seats, "cad"); return n == 1 })
	// The unbound lease survived the connection.
	want(t, h.dial(t).call("HEARTBEAT lease="+free), "OK")
}

func TestHeartbeatFromNewConnection(t *testing.T) {
	seats := newSeats()
	h := start(t, seats, nil)
	c1 := h.dial(t)
	lease := c1.call("CHECKOUT feature=cad user=u host=h").Get("lease")
	c1.nc.Close()
	c2 := h.dial(t)
	want(t, c2.call("HEARTBEAT lease="+lease), "OK", "lease", lease)
	want(t, c2.call("CHECKIN lease="+lease), "OK")
	if n, _ := inUse(t, seats, "cad"); n != 0 {
		t.Fatalf("in use %d", n)
	}
}

func TestStatusTCP(t *testing.T) {
	seats := newSeats(sdktest.Feature{Vendor: "acme", Name: "cad", Version: "1.0", Seats: 3},
		sdktest.Feature{Vendor: "acme", Name: "cad", Version: "2.0", Seats: 1},
		sdktest.Feature{Vendor: "other", Name: "sim", Seats: 1})
	h := start(t, seats, nil)
	c := h.dial(t)
	c.send("STATUS feature=cad")
	want(t, c.msg(), "FEATURE", "name", "cad", "vendor", "acme", "version", "1.0", "seats", "3", "in_use", "0", "queued", "0", "expires", "permanent")
	want(t, c.msg(), "FEATURE", "version", "2.0")
	want(t, c.msg(), "END", "count", "2")
	c.send("STATUS")
	for range 3 {
		want(t, c.msg(), "FEATURE")
	}
	want(t, c.msg(), "END", "count", "3")
	want(t, c.call("STATUS feature=none"), "END", "count", "0")
}

func TestLineTooLongClosesOnlyThatConnection(t *testing.T) {
	h := start(t, newSeats(), nil)
	good := h.dial(t)
	bad := h.dial(t)
	bad.send("PING pad=" + strings.Repeat("x", 5000))
	want(t, bad.msg(), "ERR", "code", "line-too-long")
	bad.expectClosed()
	want(t, good.call("PING"), "PONG")
	// One byte over, with CR LF: the same.
	bad2 := h.dial(t)
	bad2.send("PING pad=" + strings.Repeat("x", 4097-len("PING pad=")) + "\r")
	want(t, bad2.msg(), "ERR", "code", "line-too-long")
	bad2.expectClosed()
	// Exactly 4096 bytes is still fine.
	want(t, good.call("PING pad="+strings.Repeat("x", 4096-len("PING pad="))), "PONG")
}

func TestRateLimit(t *testing.T) {
	h := start(t, newSeats(), map[string]any{"rate": float64(5), "burst": float64(10)})
	c := h.dial(t)
	var lines []string
	for i := range 30 {
		lines = append(lines, fmt.Sprintf("PING id=%d", i))
	}
	c.send(lines...)
	limited := 0
	for i := range 30 {
		m := c.msg()
		if m.Get("id") != fmt.Sprint(i) {
			t.Fatalf("answer %d has id %q", i, m.Get("id"))
		}
		if m.Word == "ERR" {
			want(t, m, "ERR", "code", "too-many-requests")
			limited++
		}
	}
	if limited < 15 {
		t.Fatalf("%d of 30 limited, want at least 15 (burst 10)", limited)
	}
	// Another address is not affected: its whole burst passes while this
	// one is still limited (at 5/s, refilling 10 would take 2 s).
	other := h.dialFrom(t, "127.0.0.2")
	lines = lines[:10]
	other.send(lines...)
	for i := range 10 {
		want(t, other.msg(), "PONG", "id", fmt.Sprint(i))
	}
	// The limited address recovers as its bucket refills.
	eventually(t, "the limited address answered again", func() bool { return c.call("PING").Word == "PONG" })
}

func TestConnectionLimits(t *testing.T) {
	h := start(t, newSeats(), map[string]any{"max_connections_per_ip": float64(2)})
	a, b := h.dial(t), h.dial(t)
	want(t, a.call("PING"), "PONG")
	want(t, b.call("PING"), "PONG")
	c := h.dial(t)
	want(t, c.msg(), "ERR", "code", "too-many-requests")
	c.expectClosed()
	a.nc.Close()
	eventually(t, "a slot frees up", func() bool {
		d := h.dial(t)
		d.send("PING")
		line, err := d.recvErr(time.Second)
		return err == nil && line == "PONG"
	})
}

func TestIdleTimeout(t *testing.T) {
	h := start(t, newSeats(), map[string]any{"idle_timeout": 300 * time.Millisecond})
	idle := h.dial(t)
	bound := h.dial(t)
	want(t, idle.call("PING"), "PONG")
	want(t, bound.call("CHECKOUT feature=cad user=u host=h bind=conn"), "GRANTED")
	idle.expectClosed()
	time.Sleep(500 * time.Millisecond)
	want(t, bound.call("PING"), "PONG") // holding a bind=conn lease: kept
}

func TestConformance(t *testing.T) {
	sdktest.Conformance(t, New())
}

// concurrency counts Checkout calls in progress at once.
type concurrency struct {
	sdk.Seats
	mu       sync.Mutex
	now, max int
}

func (c *concurrency) Checkout(ctx context.Context, req sdk.CheckoutRequest) (*sdk.Checkout, error) {
	c.mu.Lock()
	c.now++
	c.max = max(c.max, c.now)
	c.mu.Unlock()
	time.Sleep(30 * time.Millisecond)
	defer func() { c.mu.Lock(); c.now--; c.mu.Unlock() }()
	return c.Seats.Checkout(ctx, req)
}

// TestPipelinedRequestsRunOneAtATime: a connection's requests take effect
// in the order they were sent, one after the other, whatever is pipelined.
func TestPipelinedRequestsRunOneAtATime(t *testing.T) {
	seats := &concurrency{Seats: newSeats(sdktest.Feature{Name: "f", Seats: 100})}
	h := start(t, seats, map[string]any{"max_pipelined": 3})
	c := h.dial(t)
	var lines []string
	for i := range 12 {
		lines = append(lines, fmt.Sprintf("CHECKOUT feature=f user=u host=h id=%d", i))
	}
	c.send(lines...)
	for i := range 12 {
		want(t, c.msg(), "GRANTED", "id", fmt.Sprint(i))
	}
	seats.mu.Lock()
	defer seats.mu.Unlock()
	if seats.max != 1 {
		t.Fatalf("%d checkouts of one connection ran at once, want 1", seats.max)
	}
}

func TestClientThatDoesNotReadIsDropped(t *testing.T) {
	seats := newSeats()
	h := start(t, seats, map[string]any{"write_timeout": 300 * time.Millisecond, "rate": 0})
	c := h.dial(t)
	if tc, ok := c.nc.(*net.TCPConn); ok {
		_ = tc.SetReadBuffer(4096)
	}
	// Send STATUS requests without reading until the server gives up.
	line := []byte(strings.Repeat("STATUS\n", 100))
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		_ = c.nc.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
		if _, err := c.nc.Write(line); err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue // our side is full too; the server is still deciding
			}
			return // reset by the server: dropped
		}
	}
	// Still not failed writing? Drain: the stream must end, not go on forever.
	_ = c.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.Copy(io.Discard, c.nc); err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatal("connection of a client that does not read was not dropped")
		}
	}
}

// A client that is still sending when its line is found too long must read
// the ERR all the same: the server half-closes and drains before closing,
// so no TCP reset overtakes the answer.
func TestLineTooLongSurvivesAStreamingClient(t *testing.T) {
	h := start(t, newSeats(), nil)
	for i := range 5 {
		c := h.dial(t)
		// 200 KiB without LF, written while the server answers: the tail is
		// still arriving (or unread) when the server decides.
		go func() { _, _ = c.nc.Write([]byte("PING pad=" + strings.Repeat("x", 200<<10))) }()
		// A client busy elsewhere reads its answer late: by then the
		// server has long closed.
		time.Sleep(300 * time.Millisecond)
		line, err := c.recvErr(10 * time.Second)
		if err != nil {
			t.Fatalf("try %d: the line-too-long ERR was lost: %v (read %q)", i, err, line)
		}
		m, err := wire.ParseMessage(line)
		if err != nil {
			t.Fatalf("try %d: %q: %v", i, line, err)
		}
		want(t, m, "ERR", "code", "line-too-long")
		// The end is an orderly FIN, not a reset.
		if rest, err := c.recvErr(5 * time.Second); !errors.Is(err, io.EOF) {
			t.Fatalf("try %d: after the ERR: %q, %v; want EOF (a reset can destroy the ERR in flight)", i, rest, err)
		}
	}
}

// A line longer than the small read buffer an idle connection keeps is
// read whole, with the lines pipelined around it, in order; and the
// connection still refuses a line past 4096 bytes afterwards.
func TestLongLineBetweenPipelinedLines(t *testing.T) {
	h := start(t, newSeats(), nil)
	c := h.dial(t)
	for _, pad := range []int{smallRead - 20, smallRead, smallRead + 1, 3 * smallRead, 4096 - len("PING id=b pad=")} {
		c.send("PING id=a", "PING id=b pad="+strings.Repeat("x", pad), "PING id=c")
		for _, id := range []string{"a", "b", "c"} {
			want(t, c.msg(), "PONG", "id", id)
		}
	}
	c.send("PING pad=" + strings.Repeat("x", 5000))
	want(t, c.msg(), "ERR", "code", "line-too-long")
	c.expectClosed()
}
