package sentinel

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/licensegw/licensegw/plugins/sentinel/client"
	"github.com/licensegw/licensegw/plugins/sentinel/wire"
	"github.com/licensegw/licensegw/sdk"
	"github.com/licensegw/licensegw/sdk/sdktest"
)

// The tests here run two plugins on one gateway's seats, as the nodes of
// a licensegw cluster serve the same seats (each forwards to the leader),
// and give the client both.

// node is a plugin that a test can stop mid-session.
type node struct {
	addr string
	stop func()
}

func startNode(t *testing.T, seats sdk.Seats) *node {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- New().Serve(ctx, &sdk.Env{Name: "sentinel-test", Config: sdk.NewConfig(nil),
			PacketConns: map[string]net.PacketConn{ListenerName: conn}, Seats: seats})
	}()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("Serve did not return after cancellation")
		}
	}
	t.Cleanup(stop)
	return &node{addr: conn.LocalAddr().String(), stop: stop}
}

func listClient(t *testing.T, list string) *client.Client {
	t.Helper()
	c, err := client.Dial(list, client.Options{User: "u", Host: "h", Timeout: 50 * time.Millisecond, MaxTimeout: 400 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestFailoverToTheNextNode: a client served by one node of its list
// goes on with the other when that one stops: its token is refreshed and
// released there, and new checkouts are granted there.
func TestFailoverToTheNextNode(t *testing.T) {
	seats := sdktest.NewSeats(sdktest.Feature{Name: "cad", Seats: 3, TTL: time.Minute})
	a, b := startNode(t, seats), startNode(t, seats)
	c := listClient(t, a.addr+","+b.addr)
	ctx := testCtx(t)
	tok, _, err := c.Checkout(ctx, client.CheckoutRequest{Feature: "cad"})
	if err != nil {
		t.Fatal(err)
	}
	// Normally the first node; on a loaded machine its answer may come
	// after the first retransmission went to the second.
	if c.ServerName() == b.addr {
		a, b = b, a
	}

	a.stop()
	if _, err := c.Refresh(ctx, tok.Handle); err != nil {
		t.Fatalf("refresh after the first node stopped: %v", err)
	}
	if c.ServerName() != b.addr {
		t.Errorf("served by %s after the first node stopped, want %s", c.ServerName(), b.addr)
	}
	tok2, _, err := c.Checkout(ctx, client.CheckoutRequest{Feature: "cad"})
	if err != nil {
		t.Fatal(err)
	}
	if n := inUse(t, seats, "cad"); n != 2 {
		t.Errorf("in use = %d, want 2", n)
	}
	for _, h := range []string{tok.Handle, tok2.Handle} {
		if err := c.Release(ctx, h); err != nil {
			t.Errorf("release %s: %v", h, err)
		}
	}
	if n := inUse(t, seats, "cad"); n != 0 {
		t.Errorf("in use after releasing = %d", n)
	}
}

// grantThenDie is a node's view of the gateway that executes checkouts
// and then never answers, as a node that dies between the grant and its
// answer.
type grantThenDie struct {
	*sdktest.Seats
	granted chan *sdk.Checkout
	dead    chan struct{}
}

func (g *grantThenDie) Checkout(ctx context.Context, req sdk.CheckoutRequest) (*sdk.Checkout, error) {
	res, err := g.Seats.Checkout(ctx, req)
	if err == nil {
		g.granted <- res
	}
	select {
	case <-g.dead:
	case <-ctx.Done():
	}
	return nil, errors.New("the node died")
}

// TestRetriedCheckoutGetsTheSameLease: the first node executes a checkout
// but never answers; the client's retransmission goes to the second node
// with the same request id from the same socket, and the gateway gives it
// the lease it granted already: one seat taken, not two.
func TestRetriedCheckoutGetsTheSameLease(t *testing.T) {
	seats := sdktest.NewSeats(sdktest.Feature{Name: "cad", Seats: 3, TTL: time.Minute})
	dying := &grantThenDie{Seats: seats, granted: make(chan *sdk.Checkout, 4), dead: make(chan struct{})}
	t.Cleanup(func() { close(dying.dead) })
	a, b := startNode(t, dying), startNode(t, seats)
	c := listClient(t, a.addr+","+b.addr)
	tok, _, err := c.Checkout(testCtx(t), client.CheckoutRequest{Feature: "cad"})
	if err != nil {
		t.Fatal(err)
	}
	// Under load the second node may even execute first: either way the
	// first node's checkout, keyed alike, must name the same lease.
	var first *sdk.Checkout
	select {
	case first = <-dying.granted:
	case <-time.After(10 * time.Second):
		t.Fatal("the first node never executed the checkout")
	}
	if first.Grant == nil || tok.Handle != first.Grant.Lease {
		t.Errorf("the second node answered lease %q, want the first node's %+v", tok.Handle, first.Grant)
	}
	if c.ServerName() != b.addr {
		t.Errorf("answered by %s, want %s", c.ServerName(), b.addr)
	}
	if n := inUse(t, seats, "cad"); n != 1 {
		t.Errorf("in use = %d, want 1", n)
	}
}

// TestDeadListAnswersInBoundedTime: with every node down the client says
// so after its retransmissions, not later.
func TestDeadListAnswersInBoundedTime(t *testing.T) {
	seats := sdktest.NewSeats(sdktest.Feature{Name: "cad", Seats: 1})
	a, b := startNode(t, seats), startNode(t, seats)
	a.stop()
	b.stop()
	c, err := client.Dial(a.addr+","+b.addr, client.Options{Timeout: 50 * time.Millisecond, MaxTimeout: 200 * time.Millisecond, Attempts: 6})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	_, _, err = c.Checkout(testCtx(t), client.CheckoutRequest{Feature: "cad"})
	if !errors.Is(err, client.ErrNoAnswer) {
		t.Fatalf("checkout with every node down = %v, want ErrNoAnswer", err)
	}
	// Six waits of at most 50, 100, 200, 200, 200, 200 ms: well under
	// the bound, which leaves room for a loaded machine.
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("gave up after %v", d)
	}
}

// TestUnavailableNodeIsPassedOver: a node whose gateway cannot decide
// (no leader) answers unavailable; the client asks the next node at once.
func TestUnavailableNodeIsPassedOver(t *testing.T) {
	seats := sdktest.NewSeats(sdktest.Feature{Name: "cad", Seats: 1})
	cut := sdktest.NewSeats(sdktest.Feature{Name: "cad", Seats: 1})
	cut.FailWith(sdk.ErrUnavailable)
	a, b := startNode(t, cut), startNode(t, seats)
	c := listClient(t, a.addr+","+b.addr)
	if _, _, err := c.Checkout(testCtx(t), client.CheckoutRequest{Feature: "cad"}); err != nil {
		t.Fatalf("checkout = %v", err)
	}
	if n := inUse(t, seats, "cad"); n != 1 {
		t.Errorf("in use on the serving node's gateway = %d, want 1", n)
	}

	seats.FailWith(sdk.ErrUnavailable)
	if _, _, err := c.Checkout(testCtx(t), client.CheckoutRequest{Feature: "cad"}); !client.IsStatus(err, wire.Unavailable) {
		t.Errorf("checkout with both unavailable = %v, want unavailable", err)
	}
}
