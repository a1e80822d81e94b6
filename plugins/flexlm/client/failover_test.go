package client_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/licensegw/licensegw/plugins/flexlm/client"
	"github.com/licensegw/licensegw/plugins/flexlm/internal/flextest"
	"github.com/licensegw/licensegw/plugins/flexlm/wire"
	"github.com/licensegw/licensegw/sdk"
	"github.com/licensegw/licensegw/sdk/sdktest"
)

// The tests here run two or three plugins on one gateway's seats, as the
// nodes of a licensegw cluster serve the same seats (each forwards to the
// leader), and give the client all of them as a FlexLM triad.

// triad is "port@127.0.0.1,..." of the servers.
func triad(servers ...*flextest.Server) string {
	parts := make([]string, len(servers))
	for i, s := range servers {
		parts[i] = s.LmgrdSpec()
	}
	return strings.Join(parts, ",")
}

// deadSpec is port@127.0.0.1 where nobody listens any more.
func deadSpec(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return fmt.Sprintf("%d@127.0.0.1", port)
}

func failoverCtx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// TestTriadFailsOverMidSession: a client given a triad whose first server
// is down is served by the second; when that one stops, the client
// connects to the third, checks its licence out again there, and goes on
// heartbeating it; new checkouts are served there.
func TestTriadFailsOverMidSession(t *testing.T) {
	seats := reconnectSeats(3)
	b := flextest.Start(t, seats, reconnectCfg())
	c3 := flextest.Start(t, seats, reconnectCfg())
	cl := dialOpts(t, deadSpec(t)+","+triad(b, c3), fastOptions("erin"))
	if got := cl.Address().Port; got != b.Lmgrd.Port {
		t.Fatalf("connected to port %d, want the first live server's %d", got, b.Lmgrd.Port)
	}
	lic, err := cl.Checkout(failoverCtx(t), client.CheckoutRequest{Feature: "cad"})
	if err != nil {
		t.Fatal(err)
	}

	if err := b.Stop(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the licence checked out again on the third server", func() bool { return lic.Current().Reacquired >= 1 })
	notLost(t, lic)
	if got := cl.Address().Port; got != c3.Lmgrd.Port {
		t.Errorf("connected to port %d after the failover, want %d", got, c3.Lmgrd.Port)
	}
	waitFor(t, "erin's seat held under the current lease", func() bool {
		n, ls := leases(t, seats)
		return n == 1 && len(ls) == 1 && ls[0].Lease == lic.Current().Lease && ls[0].Client.User == "erin"
	})
	// Heartbeats go on on the third server past three TTLs.
	mark := time.Now()
	waitFor(t, "heartbeats past three TTLs", func() bool {
		_, ls := leases(t, seats)
		return len(ls) == 1 && ls[0].Expires.After(mark.Add(3*600*time.Millisecond))
	})
	notLost(t, lic)
	if _, err := cl.Checkout(failoverCtx(t), client.CheckoutRequest{Feature: "cad"}); err != nil {
		t.Fatalf("checkout after the failover: %v", err)
	}
	if n, _ := leases(t, seats); n != 2 {
		t.Errorf("in use = %d, want 2", n)
	}
}

// grantThenHang is a node's view of the gateway on which checkouts are
// executed but never answered, as when a node dies between the grant and
// its answer.
type grantThenHang struct {
	*sdktest.Seats
	granted chan *sdk.Checkout
	dead    chan struct{}
}

func (g *grantThenHang) Checkout(ctx context.Context, req sdk.CheckoutRequest) (*sdk.Checkout, error) {
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

// TestRetriedCheckoutGetsTheSameLease: the first server executes a
// checkout and never answers; after RequestTimeout the client asks the
// second with the same request key, and the gateway answers the lease it
// granted already: one seat taken, not two.
func TestRetriedCheckoutGetsTheSameLease(t *testing.T) {
	// A TTL well past RequestTimeout: the first grant must outlive the
	// wait for its answer.
	seats := sdktest.NewSeats(sdktest.Feature{Vendor: "acme", Name: "cad", Version: "2.0", Seats: 3, TTL: time.Minute})
	hang := &grantThenHang{Seats: seats, granted: make(chan *sdk.Checkout, 4), dead: make(chan struct{})}
	a := flextest.Start(t, hang, reconnectCfg())
	t.Cleanup(func() { close(hang.dead) }) // runs before a stops
	b := flextest.Start(t, seats, reconnectCfg())
	o := fastOptions("erin")
	o.RequestTimeout = time.Second
	cl := dialOpts(t, triad(a, b), o)
	lic, err := cl.Checkout(failoverCtx(t), client.CheckoutRequest{Feature: "cad", Count: 2})
	if err != nil {
		t.Fatal(err)
	}
	var first *sdk.Checkout
	select {
	case first = <-hang.granted:
	case <-time.After(10 * time.Second):
		t.Fatal("the first server never executed the checkout")
	}
	if first.Grant == nil || lic.Current().Lease != first.Grant.Lease {
		t.Errorf("the second server answered lease %q, want the first one's %+v", lic.Current().Lease, first.Grant)
	}
	if got := cl.Address().Port; got != b.Lmgrd.Port {
		t.Errorf("served by port %d, want the second server's %d", got, b.Lmgrd.Port)
	}
	if n, _ := leases(t, seats); n != 2 {
		t.Errorf("in use = %d, want the one checkout's 2", n)
	}
	if err := lic.Checkin(failoverCtx(t)); err != nil {
		t.Fatal(err)
	}
	if n, _ := leases(t, seats); n != 0 {
		t.Errorf("in use after checkin = %d", n)
	}
}

// TestUnavailableServerIsPassedOver: a server whose gateway cannot decide
// answers ERROR -96; the client asks the next server of the triad. With
// every server unavailable, the checkout ends with -96 after
// RetryUnavailable.
func TestUnavailableServerIsPassedOver(t *testing.T) {
	cut := reconnectSeats(1)
	cut.FailWith(sdk.ErrUnavailable)
	seats := reconnectSeats(1)
	a := flextest.Start(t, cut, reconnectCfg())
	b := flextest.Start(t, seats, reconnectCfg())
	o := fastOptions("erin")
	o.RetryUnavailable = 500 * time.Millisecond
	cl := dialOpts(t, triad(a, b), o)
	if _, err := cl.Checkout(failoverCtx(t), client.CheckoutRequest{Feature: "cad"}); err != nil {
		t.Fatalf("checkout = %v", err)
	}
	if got := cl.Address().Port; got != b.Lmgrd.Port {
		t.Errorf("served by port %d, want %d", got, b.Lmgrd.Port)
	}
	if n, _ := leases(t, seats); n != 1 {
		t.Errorf("in use = %d, want 1", n)
	}

	seats.FailWith(sdk.ErrUnavailable)
	start := time.Now()
	_, err := cl.Checkout(failoverCtx(t), client.CheckoutRequest{Feature: "cad"})
	var se *client.ServerError
	if !errors.As(err, &se) || se.Code != wire.CodeUnavailable {
		t.Fatalf("checkout with every server unavailable = %v, want ERROR -96", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("gave up after %v", d)
	}
}

// flakySeats answers heartbeats "unavailable" once cut is set, as a node
// that lost its cluster's leader.
type flakySeats struct {
	*sdktest.Seats
	cut atomic.Bool
}

func (f *flakySeats) Heartbeat(ctx context.Context, lease string) (sdk.LeaseState, error) {
	if f.cut.Load() {
		return sdk.LeaseState{}, sdk.ErrUnavailable
	}
	return f.Seats.Heartbeat(ctx, lease)
}

// TestHeartbeatsUnansweredFailOver: when the server in use stops
// renewing (it answers -96 to every heartbeat), the client takes it for
// dead after two thirds of the TTL, connects to the next server of the
// triad and holds its licence there before the lease expires.
func TestHeartbeatsUnansweredFailOver(t *testing.T) {
	seats := sdktest.NewSeats(sdktest.Feature{Vendor: "acme", Name: "cad", Version: "2.0", Seats: 1, TTL: 6 * time.Second})
	flaky := &flakySeats{Seats: seats}
	a := flextest.Start(t, flaky, reconnectCfg())
	b := flextest.Start(t, seats, reconnectCfg())
	cl := dialOpts(t, triad(a, b), fastOptions("erin"))
	lic, err := cl.Checkout(failoverCtx(t), client.CheckoutRequest{Feature: "cad"})
	if err != nil {
		t.Fatal(err)
	}
	flaky.cut.Store(true)
	deadline := time.Now().Add(20 * time.Second)
	for lic.Current().Reacquired == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the client never left the server that does not renew")
		}
		time.Sleep(20 * time.Millisecond)
	}
	notLost(t, lic)
	if got := cl.Address().Port; got != b.Lmgrd.Port {
		t.Errorf("served by port %d, want %d", got, b.Lmgrd.Port)
	}
	n, ls := leases(t, seats)
	if n != 1 || len(ls) != 1 || ls[0].Lease != lic.Current().Lease || ls[0].Client.User != "erin" {
		t.Errorf("seats: %d in use, %+v; want erin's %s", n, ls, lic.Current().Lease)
	}
}

// TestDeadTriad: a triad of which no server listens fails to dial at once
// with every server's error; a triad that dies under a licence loses it
// after GiveUpAfter, not later.
func TestDeadTriad(t *testing.T) {
	d1, d2 := deadSpec(t), deadSpec(t)
	start := time.Now()
	_, err := client.Dial(failoverCtx(t), d1+","+d2, fastOptions("erin"))
	if err == nil || !strings.Contains(err.Error(), strings.TrimSuffix(d1, "@127.0.0.1")) ||
		!strings.Contains(err.Error(), strings.TrimSuffix(d2, "@127.0.0.1")) {
		t.Fatalf("Dial of a dead triad = %v, want both servers' errors", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("Dial gave up after %v", d)
	}

	seats := reconnectSeats(1)
	a := flextest.Start(t, seats, reconnectCfg())
	o := fastOptions("erin")
	o.GiveUpAfter = 500 * time.Millisecond
	cl := dialOpts(t, triad(a)+","+d1, o)
	lic, err := cl.Checkout(failoverCtx(t), client.CheckoutRequest{Feature: "cad"})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Stop(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-lic.Lost():
	case <-time.After(15 * time.Second):
		t.Fatal("licence not lost after giving up")
	}
	if !errors.Is(lic.Err(), client.ErrClosed) {
		t.Errorf("lost because %v, want ErrClosed", lic.Err())
	}
}

// TestLeaseReleasedUnderTheClient: a lease the gateway checks in behind
// the client's back (as when it releases a dead node's connection-bound
// leases after the client moved) is answered GONE reason unknown; the
// client checks the licence out again instead of losing it. A removed
// lease is still lost.
func TestLeaseReleasedUnderTheClient(t *testing.T) {
	seats := reconnectSeats(2)
	srv := flextest.Start(t, seats, reconnectCfg())
	cl := dialOpts(t, srv.LmgrdSpec(), fastOptions("erin"))
	lic, err := cl.Checkout(failoverCtx(t), client.CheckoutRequest{Feature: "cad"})
	if err != nil {
		t.Fatal(err)
	}
	old := lic.Current().Lease
	if err := seats.Checkin(failoverCtx(t), old); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the licence checked out again", func() bool { return lic.Current().Reacquired == 1 })
	notLost(t, lic)
	n, ls := leases(t, seats)
	if n != 1 || len(ls) != 1 || ls[0].Lease == old || ls[0].Lease != lic.Current().Lease || ls[0].Client.User != "erin" {
		t.Fatalf("seats: %d in use, %+v; want erin's new lease %s", n, ls, lic.Current().Lease)
	}

	if err := seats.Remove(failoverCtx(t), lic.Current().Lease, sdk.Client{Addr: "admin"}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-lic.Lost():
	case <-time.After(10 * time.Second):
		t.Fatal("a removed licence was not lost")
	}
	var gone *client.GoneError
	if !errors.As(lic.Err(), &gone) || gone.Reason != "removed" {
		t.Errorf("lost because %v, want GONE removed", lic.Err())
	}
}

// cutSeats answers checkouts "unavailable" once cut is set.
type cutSeats struct {
	*sdktest.Seats
	cut atomic.Bool
}

func (c *cutSeats) Checkout(ctx context.Context, req sdk.CheckoutRequest) (*sdk.Checkout, error) {
	if c.cut.Load() {
		return nil, sdk.ErrUnavailable
	}
	return c.Seats.Checkout(ctx, req)
}

// TestRecheckoutUnavailableFailsOver: a licence released under the client
// whose server answers the re-checkout "unavailable" is checked out again
// on the next server of the triad, not lost.
func TestRecheckoutUnavailableFailsOver(t *testing.T) {
	seats := reconnectSeats(2)
	cut := &cutSeats{Seats: seats}
	a := flextest.Start(t, cut, reconnectCfg())
	b := flextest.Start(t, seats, reconnectCfg())
	cl := dialOpts(t, triad(a, b), fastOptions("erin"))
	lic, err := cl.Checkout(failoverCtx(t), client.CheckoutRequest{Feature: "cad"})
	if err != nil {
		t.Fatal(err)
	}
	cut.cut.Store(true)
	if err := seats.Checkin(failoverCtx(t), lic.Current().Lease); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the licence checked out again", func() bool { return lic.Current().Reacquired >= 1 })
	notLost(t, lic)
	if got := cl.Address().Port; got != b.Lmgrd.Port {
		t.Errorf("served by port %d, want %d", got, b.Lmgrd.Port)
	}
	if n, ls := leases(t, seats); n != 1 || len(ls) != 1 || ls[0].Lease != lic.Current().Lease {
		t.Errorf("seats: %d in use, %+v; want erin's %s", n, ls, lic.Current().Lease)
	}
}
