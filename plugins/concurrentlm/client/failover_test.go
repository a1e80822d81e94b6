package client

import (
	"context"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/licensegw/licensegw/plugins/concurrentlm"
	"github.com/licensegw/licensegw/sdk"
	"github.com/licensegw/licensegw/sdk/sdktest"
)

// TestServerListFailsOver: a client given several gateways connects to
// the first that answers, and when that one goes away, to the next.
func TestServerListFailsOver(t *testing.T) {
	seatsA, addrA := gateway(t, sdktest.Feature{Name: "cad", Seats: 5})
	seatsB, addrB := gateway(t, sdktest.Feature{Name: "cad", Seats: 5})
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadAddr := dead.Addr().String()
	dead.Close() // nobody listens there now
	pA := newProxy(t, addrA)

	c := dial(t, deadAddr+", "+pA.ln.Addr().String()+","+addrB, Options{ReconnectMin: time.Millisecond, ReconnectMax: 10 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := c.Checkout(ctx, CheckoutOptions{Feature: "cad", User: "u", Host: "h"}); err != nil {
		t.Fatal(err)
	}
	if a, _ := leases(t, seatsA, "cad"); a != 1 {
		t.Fatalf("gateway A holds %d leases, want 1 (the first that answers)", a)
	}

	// A goes away: a request on the lost connection fails, and the next
	// one reconnects, to B.
	pA.ln.Close()
	pA.cut()
	for {
		_, err := c.Checkout(ctx, CheckoutOptions{Feature: "cad", User: "u", Host: "h"})
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			t.Fatal(err)
		}
	}
	if b, _ := leases(t, seatsB, "cad"); b != 1 {
		t.Fatalf("gateway B holds %d leases after A went away, want 1", b)
	}
}

func TestServerListErrors(t *testing.T) {
	for _, list := range []string{"", " , ", "a:1648,nohostport"} {
		if _, err := Dial(context.Background(), list, Options{}); err == nil {
			t.Errorf("Dial(%q) succeeded", list)
		}
	}
}

// twoNodes serves the real plugin twice over one in-memory Seats, as two
// nodes of a cluster share the leader's accounting: a request key granted
// through one is found through the other.
func twoNodes(t *testing.T, fs ...sdktest.Feature) (seats *sdktest.Seats, a, b *switchable) {
	t.Helper()
	seats = sdktest.NewSeats(fs...)
	a, b = &switchable{Seats: seats}, &switchable{Seats: seats}
	a.addr = sdktest.Run(t, concurrentlm.New(), a, nil).Addr(concurrentlm.ListenerTCP)
	b.addr = sdktest.Run(t, concurrentlm.New(), b, nil).Addr(concurrentlm.ListenerTCP)
	return seats, a, b
}

// switchable is a node's Seats that can be made to answer "unavailable",
// as a cluster node without a quorum does; it counts the checkouts that
// reached it.
type switchable struct {
	sdk.Seats
	addr      string
	down      atomic.Bool
	checkouts atomic.Int64
}

func (s *switchable) Checkout(ctx context.Context, req sdk.CheckoutRequest) (*sdk.Checkout, error) {
	if s.down.Load() {
		return nil, sdk.ErrUnavailable
	}
	s.checkouts.Add(1)
	return s.Seats.Checkout(ctx, req)
}

func (s *switchable) Heartbeat(ctx context.Context, lease string) (sdk.LeaseState, error) {
	if s.down.Load() {
		return sdk.LeaseState{}, sdk.ErrUnavailable
	}
	return s.Seats.Heartbeat(ctx, lease)
}

// TestSilentServerFailsOver: the gateway behind A freezes (its answers
// stop coming back while its connection stays open, as when the gateway
// process is stopped and its plugin still holds the socket). A checkout
// that A executed but never answered is asked of B with the same request
// key and gets the same lease (one seat, not two), and the lease taken
// before the freeze goes on being renewed through B.
func TestSilentServerFailsOver(t *testing.T) {
	seats, a, b := twoNodes(t, sdktest.Feature{Name: "cad", Seats: 5, TTL: 3 * time.Second})
	pa := newProxy(t, a.addr)
	c := dial(t, pa.ln.Addr().String()+","+b.addr, Options{
		AnswerTimeout: 2 * time.Second, ReconnectMin: time.Millisecond, ReconnectMax: 10 * time.Millisecond,
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	held, err := c.Checkout(ctx, CheckoutOptions{Feature: "cad", User: "u", Host: "h"})
	if err != nil {
		t.Fatal(err)
	}
	first := held.Expires()
	c.mu.Lock()
	onA := c.sess.addr == pa.ln.Addr().String()
	c.mu.Unlock()
	if !onA {
		t.Fatal("the client left A before it froze: A's answer took over 2 s")
	}

	pa.freeze()
	l, err := c.Checkout(ctx, CheckoutOptions{Feature: "cad", User: "v", Host: "h"})
	if err != nil {
		t.Fatalf("checkout while A is frozen: %v", err)
	}
	if a.checkouts.Load() < 2 || b.checkouts.Load() < 1 {
		t.Fatalf("checkouts reaching A %d, B %d; want 2 and 1 (asked of A, unanswered, then of B)", a.checkouts.Load(), b.checkouts.Load())
	}
	if n, _ := leases(t, seats, "cad"); n != 2 {
		t.Fatalf("%d seats in use after a checkout asked of two nodes, want 2 (one per lease)", n)
	}

	// Only heartbeats through B can renew the first lease past its TTL.
	renewBy := time.Now().Add(30 * time.Second)
	for !held.Expires().After(first.Add(time.Second)) {
		if time.Now().After(renewBy) {
			t.Fatalf("the lease's expiry stayed at %v (first %v)", held.Expires(), first)
		}
		time.Sleep(50 * time.Millisecond)
	}
	select {
	case <-held.Done():
		t.Fatalf("lease ended: %v", held.Err())
	default:
	}
	for _, x := range []*Lease{held, l} {
		if err := x.Checkin(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n, _ := leases(t, seats, "cad"); n != 0 {
		t.Fatalf("%d seats in use after both checkins", n)
	}
}

// TestUnavailableFailsOver: a node answering "unavailable, retry" (no
// quorum) sends the request to the next node at once; a lone server that
// says it is retried on the same connection until it recovers.
func TestUnavailableFailsOver(t *testing.T) {
	seats, a, b := twoNodes(t, sdktest.Feature{Name: "cad", Seats: 5})
	c := dial(t, a.addr+","+b.addr, Options{ReconnectMin: time.Millisecond, ReconnectMax: 10 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	a.down.Store(true)
	l, err := c.Checkout(ctx, CheckoutOptions{Feature: "cad", User: "u", Host: "h"})
	if err != nil {
		t.Fatalf("checkout with A unavailable: %v", err)
	}
	if a.checkouts.Load() != 0 || b.checkouts.Load() != 1 {
		t.Fatalf("checkouts granted through A %d, B %d; want 0 and 1", a.checkouts.Load(), b.checkouts.Load())
	}
	if n, _ := leases(t, seats, "cad"); n != 1 {
		t.Fatalf("%d in use, want 1", n)
	}
	if err := l.Checkin(ctx); err != nil {
		t.Fatal(err)
	}

	// One server: "unavailable" is retried (with backoff) until it answers.
	lone := dial(t, b.addr, Options{ReconnectMin: 10 * time.Millisecond, ReconnectMax: 50 * time.Millisecond})
	b.down.Store(true)
	got := make(chan error, 1)
	go func() {
		_, err := lone.Checkout(ctx, CheckoutOptions{Feature: "cad", User: "w", Host: "h"})
		got <- err
	}()
	select {
	case err := <-got:
		t.Fatalf("checkout answered while the only server is unavailable: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	b.down.Store(false)
	if err := <-got; err != nil {
		t.Fatalf("checkout once the server is back: %v", err)
	}
}
