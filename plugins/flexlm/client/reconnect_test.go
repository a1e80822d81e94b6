package client_test

import (
	"context"
	"errors"
	"io"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/licensegw/licensegw/plugins/flexlm/client"
	"github.com/licensegw/licensegw/plugins/flexlm/internal/flextest"
	"github.com/licensegw/licensegw/sdk"
	"github.com/licensegw/licensegw/sdk/sdktest"
)

// front is a stable lmgrd address in front of plugin instances that come
// and go (each sdktest.Run binds new ports): what a client sees of a
// licence server that restarts. Its connections end with the backend's.
type front struct {
	ln net.Listener

	mu      sync.Mutex
	backend string // "" while no server runs
}

func newFront(t *testing.T) *front {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &front{ln: ln}
	t.Cleanup(func() { ln.Close() })
	go f.serve()
	return f
}

func (f *front) spec() string {
	return strconv.Itoa(f.ln.Addr().(*net.TCPAddr).Port) + "@127.0.0.1"
}

// point sends new connections to srv (nil: refuse them).
func (f *front) point(srv *flextest.Server) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.backend = ""
	if srv != nil {
		f.backend = srv.Lmgrd.String()
	}
}

func (f *front) serve() {
	for {
		nc, err := f.ln.Accept()
		if err != nil {
			return
		}
		f.mu.Lock()
		backend := f.backend
		f.mu.Unlock()
		if backend == "" {
			nc.Close()
			continue
		}
		bc, err := net.Dial("tcp", backend)
		if err != nil {
			nc.Close()
			continue
		}
		pipe := func(dst, src net.Conn) {
			_, _ = io.Copy(dst, src)
			dst.Close()
			src.Close()
		}
		go pipe(bc, nc)
		go pipe(nc, bc)
	}
}

// restartable is a plugin that can be stopped and started again behind a
// front, with the same seats (the gateway outlives the plugin).
type restartable struct {
	t     *testing.T
	seats *sdktest.Seats
	cfg   map[string]any
	front *front
	srv   *flextest.Server
}

func newRestartable(t *testing.T, seats *sdktest.Seats, cfg map[string]any) *restartable {
	r := &restartable{t: t, seats: seats, cfg: cfg, front: newFront(t)}
	r.start()
	return r
}

func (r *restartable) start() {
	r.srv = flextest.Start(r.t, r.seats, r.cfg)
	r.front.point(r.srv)
}

func (r *restartable) stop() {
	r.front.point(nil)
	if err := r.srv.Stop(); err != nil {
		r.t.Fatal(err)
	}
}

func reconnectSeats(seats int) *sdktest.Seats {
	return sdktest.NewSeats(sdktest.Feature{Vendor: "acme", Name: "cad", Version: "2.0", Seats: seats, Queue: true,
		TTL: 600 * time.Millisecond, Borrow: true})
}

func reconnectCfg() map[string]any {
	return map[string]any{"server_host": "gw-r", "vendors": []string{"acme"}}
}

func fastOptions(user string) client.Options {
	return client.Options{Vendor: "acme", User: user, Host: "h-" + user, Display: ":0",
		MinBackoff: 10 * time.Millisecond, MaxBackoff: 100 * time.Millisecond}
}

func dialOpts(t *testing.T, spec string, o client.Options) *client.Client {
	t.Helper()
	c, err := client.Dial(ctx(t), spec, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// leases reports the seats' leases of cad.
func leases(t *testing.T, s sdk.Seats) (inUse int, ls []sdk.LeaseInfo) {
	t.Helper()
	fs, err := s.Status(context.Background(), sdk.StatusQuery{Feature: "cad"})
	if err != nil || len(fs) != 1 {
		t.Fatalf("status: %+v, %v", fs, err)
	}
	return fs[0].InUse, fs[0].Leases
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func notLost(t *testing.T, l *client.License) {
	t.Helper()
	select {
	case <-l.Lost():
		t.Fatalf("licence lost: %v", l.Err())
	default:
	}
}

func TestReconnectChecksOutAgainAfterRestart(t *testing.T) {
	seats := reconnectSeats(3)
	r := newRestartable(t, seats, reconnectCfg())
	c := dialOpts(t, r.front.spec(), fastOptions("erin"))
	lic, err := c.Checkout(ctx(t), client.CheckoutRequest{Feature: "cad", Count: 2})
	if err != nil {
		t.Fatal(err)
	}
	before := lic.Current()

	r.stop()
	// The stopped plugin gave the seats back with the connections.
	if n, _ := leases(t, seats); n != 0 {
		t.Fatalf("in use with the plugin stopped = %d, want 0", n)
	}
	notLost(t, lic) // reconnecting is not losing
	r.start()

	waitFor(t, "the licence checked out again", func() bool { return lic.Current().Reacquired == 1 })
	after := lic.Current()
	if after.Lease == before.Lease || after.Lease == "" {
		t.Errorf("lease after reconnecting = %q (before %q), want a new one", after.Lease, before.Lease)
	}
	n, ls := leases(t, seats)
	if n != 2 || len(ls) != 1 || ls[0].Lease != after.Lease || ls[0].Count != 2 ||
		ls[0].Client.User != "erin" || ls[0].Client.Host != "h-erin" || ls[0].Client.Display != ":0" {
		t.Fatalf("seats after reconnecting: in use %d, leases %+v; want erin's 2 under %s", n, ls, after.Lease)
	}
	// Heartbeats go on on the new connection: wait until they have moved
	// the lease's expiry three TTLs (600 ms) past now, then it must be held.
	mark := time.Now()
	waitFor(t, "heartbeats on the new connection past three TTLs", func() bool {
		_, ls := leases(t, seats)
		return len(ls) == 1 && ls[0].Expires.After(mark.Add(3*600*time.Millisecond))
	})
	notLost(t, lic)
	if n, _ := leases(t, seats); n != 2 {
		t.Fatalf("in use after several TTLs = %d, want 2", n)
	}
	if err := lic.Checkin(ctx(t)); err != nil {
		t.Fatal(err)
	}
	if n, _ := leases(t, seats); n != 0 {
		t.Errorf("in use after checkin = %d", n)
	}
}

func TestReconnectDeniedLosesTheLicence(t *testing.T) {
	seats := reconnectSeats(1)
	r := newRestartable(t, seats, reconnectCfg())
	c := dialOpts(t, r.front.spec(), fastOptions("erin"))
	lic, err := c.Checkout(ctx(t), client.CheckoutRequest{Feature: "cad"})
	if err != nil {
		t.Fatal(err)
	}
	r.stop()
	// Somebody else takes the seat while the server is away.
	res, err := seats.Checkout(ctx(t), sdk.CheckoutRequest{Feature: "cad", Client: sdk.Client{User: "zed"}})
	if err != nil || res.Outcome != sdk.Granted {
		t.Fatalf("zed's checkout = %+v, %v", res, err)
	}
	r.start()
	select {
	case <-lic.Lost():
	case <-time.After(5 * time.Second):
		t.Fatal("licence not lost though its seat was taken")
	}
	var denied *client.DeniedError
	if err := lic.Err(); !errors.Is(err, client.ErrNotReacquired) || !errors.As(err, &denied) || denied.Reason != "no-seats" {
		t.Errorf("lost because %v, want ErrNotReacquired and no-seats", err)
	}
	if err := lic.Checkin(ctx(t)); err == nil {
		t.Error("Checkin of a lost licence succeeded")
	}
	// The client itself is connected again.
	if _, err := c.Status(ctx(t), "cad"); err != nil {
		t.Errorf("Status after reconnecting: %v", err)
	}
	if n, ls := leases(t, seats); n != 1 || ls[0].Client.User != "zed" {
		t.Errorf("seats: %d in use, %+v; want zed's only", n, ls)
	}
}

func TestReconnectRequeuesAWaitingCheckout(t *testing.T) {
	seats := reconnectSeats(1)
	// The holder took its seat through another protocol: it outlives the
	// plugin.
	res, err := seats.Checkout(ctx(t), sdk.CheckoutRequest{Feature: "cad", Client: sdk.Client{User: "zed"}})
	if err != nil || res.Outcome != sdk.Granted {
		t.Fatalf("zed's checkout = %+v, %v", res, err)
	}
	r := newRestartable(t, seats, reconnectCfg())
	c := dialOpts(t, r.front.spec(), fastOptions("erin"))
	queued := make(chan int, 16)
	got := make(chan error, 1)
	var lic *client.License
	go func() {
		var err error
		lic, err = c.Checkout(context.Background(), client.CheckoutRequest{Feature: "cad", Wait: time.Minute,
			OnQueued: func(p int) { queued <- p }})
		got <- err
	}()
	if p := <-queued; p != 1 {
		t.Fatalf("first position %d", p)
	}
	r.stop()
	r.start()
	select {
	case p := <-queued:
		if p != 1 {
			t.Errorf("position after re-queueing = %d", p)
		}
	case err := <-got:
		t.Fatalf("checkout ended instead of queueing again: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("not queued again after the restart")
	}
	if err := seats.Checkin(ctx(t), res.Grant.Lease); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-got:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("not granted after the holder left")
	}
	if n, ls := leases(t, seats); n != 1 || ls[0].Lease != lic.Current().Lease {
		t.Errorf("seats: %d in use, %+v; want erin's %s", n, ls, lic.Current().Lease)
	}
}

func TestServerClosingTheConnectionIsABlip(t *testing.T) {
	// The server closes connections idle for 300ms; heartbeats come every
	// TTL/3 = 1s, so the vendor connection keeps being cut while erin
	// holds the only seat.
	seats := sdktest.NewSeats(sdktest.Feature{Vendor: "acme", Name: "cad", Version: "2.0", Seats: 1, TTL: 3 * time.Second})
	cfg := reconnectCfg()
	cfg["idle_timeout"] = 300 * time.Millisecond
	srv := flextest.Start(t, seats, cfg)
	c := dialOpts(t, srv.LmgrdSpec(), fastOptions("erin"))
	lic, err := c.Checkout(ctx(t), client.CheckoutRequest{Feature: "cad"})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "two reconnections", func() bool { return lic.Current().Reacquired >= 2 })
	notLost(t, lic)
	waitFor(t, "erin's seat held under the current lease", func() bool {
		n, ls := leases(t, seats)
		return n == 1 && len(ls) == 1 && ls[0].Lease == lic.Current().Lease
	})
}

func TestNoReconnect(t *testing.T) {
	seats := reconnectSeats(2)
	r := newRestartable(t, seats, reconnectCfg())
	o := fastOptions("erin")
	o.NoReconnect = true
	c := dialOpts(t, r.front.spec(), o)
	lic, err := c.Checkout(ctx(t), client.CheckoutRequest{Feature: "cad"})
	if err != nil {
		t.Fatal(err)
	}
	// A client that does reconnect, through the same restart: once it has
	// its licence back, erin's client had every chance to do the same.
	control, err := dialOpts(t, r.front.spec(), fastOptions("carl")).Checkout(ctx(t), client.CheckoutRequest{Feature: "cad"})
	if err != nil {
		t.Fatal(err)
	}
	r.stop()
	r.start()
	waitFor(t, "the reconnecting client's licence back", func() bool { return control.Current().Reacquired >= 1 })
	select {
	case <-lic.Lost():
	case <-time.After(5 * time.Second):
		t.Fatal("licence not lost with reconnection off")
	}
	if !errors.Is(lic.Err(), client.ErrClosed) {
		t.Errorf("lost because %v, want ErrClosed", lic.Err())
	}
	_, ls := leases(t, seats)
	for _, l := range ls {
		if l.Client.User == "erin" {
			t.Errorf("erin holds %+v after the restart with reconnection off", l)
		}
	}
	if n := lic.Current().Reacquired; n != 0 {
		t.Errorf("reacquired %d times with reconnection off", n)
	}
}

func TestReconnectGivesUp(t *testing.T) {
	seats := reconnectSeats(1)
	r := newRestartable(t, seats, reconnectCfg())
	o := fastOptions("erin")
	o.GiveUpAfter = 300 * time.Millisecond
	c := dialOpts(t, r.front.spec(), o)
	lic, err := c.Checkout(ctx(t), client.CheckoutRequest{Feature: "cad"})
	if err != nil {
		t.Fatal(err)
	}
	r.stop()
	select {
	case <-lic.Lost():
	case <-time.After(5 * time.Second):
		t.Fatal("licence not lost after giving up")
	}
	if !errors.Is(lic.Err(), client.ErrClosed) {
		t.Errorf("lost because %v, want ErrClosed", lic.Err())
	}
	// Calls connect again once the server is back.
	r.start()
	if _, err := c.Checkout(ctx(t), client.CheckoutRequest{Feature: "cad"}); err != nil {
		t.Errorf("checkout after the server came back: %v", err)
	}
}

func TestReconnectKeepsABorrowedLicence(t *testing.T) {
	seats := reconnectSeats(1)
	r := newRestartable(t, seats, reconnectCfg())
	c := dialOpts(t, r.front.spec(), fastOptions("erin"))
	lic, err := c.Checkout(ctx(t), client.CheckoutRequest{Feature: "cad", Borrow: time.Hour})
	if err != nil || !lic.Borrowed {
		t.Fatalf("borrow = %+v, %v", lic, err)
	}
	lease := lic.Current().Lease
	r.stop()
	// A borrowed licence outlives the plugin: nothing to check out again.
	if n, _ := leases(t, seats); n != 1 {
		t.Fatalf("in use with the plugin stopped = %d, want the borrowed seat", n)
	}
	r.start()
	waitFor(t, "the borrowed licence found again", func() bool { return lic.Current().Reacquired == 1 })
	if got := lic.Current().Lease; got != lease {
		t.Errorf("lease after reconnecting = %q, want the borrowed %q", got, lease)
	}
	if n, _ := leases(t, seats); n != 1 {
		t.Errorf("in use after reconnecting = %d, want 1", n)
	}
	// It is returned under the handle the new plugin gave it.
	if err := lic.Checkin(ctx(t)); err != nil {
		t.Fatal(err)
	}
	if n, _ := leases(t, seats); n != 0 {
		t.Errorf("in use after returning the borrowed licence = %d", n)
	}
}
