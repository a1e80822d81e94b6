package flexlm_test

import (
	"bufio"
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/licensegw/licensegw/plugins/flexlm"
	"github.com/licensegw/licensegw/plugins/flexlm/client"
	"github.com/licensegw/licensegw/plugins/flexlm/internal/flextest"
	"github.com/licensegw/licensegw/plugins/flexlm/wire"
	"github.com/licensegw/licensegw/sdk"
	"github.com/licensegw/licensegw/sdk/sdktest"
)

func seats(ttl time.Duration) *sdktest.Seats {
	return sdktest.NewSeats(
		sdktest.Feature{Vendor: "acme", Name: "cad", Version: "2.0", Seats: 2, Queue: true, TTL: ttl, Borrow: true, MaxBorrow: 72 * time.Hour},
	)
}

func cfg() map[string]any {
	return map[string]any{"server_host": "gw-test", "vendors": []string{"acme"}}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return c
}

func dial(t *testing.T, srv *flextest.Server, user string) *client.Client {
	t.Helper()
	c, err := client.Dial(ctx(t), srv.LmgrdSpec(), client.Options{Vendor: "acme", User: user, Host: "h-" + user})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func inUse(t *testing.T, s sdk.Seats) int {
	t.Helper()
	fs, err := s.Status(context.Background(), sdk.StatusQuery{})
	if err != nil || len(fs) != 1 {
		t.Fatalf("status: %v %v", fs, err)
	}
	return fs[0].InUse
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestInfo(t *testing.T) {
	info := flexlm.New().Info()
	if info.Name != "flexlm" || info.APIVersion != sdk.APIVersion || len(info.Listeners) != 2 {
		t.Fatalf("info = %+v", info)
	}
	want := map[string]string{flexlm.ListenerLmgrd: ":27000", flexlm.ListenerVendor: ":27100"}
	for _, l := range info.Listeners {
		if want[l.Name] != l.Address || l.Network != "tcp" {
			t.Errorf("listener %+v", l)
		}
	}
	names := map[string]bool{}
	for _, a := range info.Config {
		names[a.Name] = true
	}
	for _, n := range []string{"license_file", "options_file", "server_host", "vendors", "allow_shutdown"} {
		if !names[n] {
			t.Errorf("schema lacks %s", n)
		}
	}
}

func TestConformance(t *testing.T) {
	sdktest.Conformance(t, flexlm.New(), sdktest.WithConfig(cfg()))
}

func TestServeNeedsListeners(t *testing.T) {
	err := flexlm.New().Serve(context.Background(), &sdk.Env{Config: sdk.NewConfig(nil), Seats: seats(time.Minute)})
	if !errors.Is(err, flexlm.ErrNoListener) {
		t.Errorf("Serve without listeners = %v, want ErrNoListener", err)
	}
}

func TestDisconnectGivesSeatsBack(t *testing.T) {
	s := seats(time.Minute)
	srv := flextest.Start(t, s, cfg())
	c := dial(t, srv, "alice")
	if _, err := c.Checkout(ctx(t), client.CheckoutRequest{Feature: "cad", Count: 2}); err != nil {
		t.Fatal(err)
	}
	if n := inUse(t, s); n != 2 {
		t.Fatalf("in use = %d, want 2", n)
	}
	// A second client is denied while the seats are held.
	_, err := dial(t, srv, "bob").Checkout(ctx(t), client.CheckoutRequest{Feature: "cad"})
	var denied *client.DeniedError
	if !errors.As(err, &denied) || denied.Reason != "no-seats" || denied.Seats != 2 {
		t.Fatalf("bob's checkout = %v, want no-seats", err)
	}
	c.Close()
	eventually(t, "seats given back on disconnect", func() bool { return inUse(t, s) == 0 })
}

func TestBorrowOutlivesConnection(t *testing.T) {
	s := seats(time.Minute)
	srv := flextest.Start(t, s, cfg())
	c := dial(t, srv, "alice")
	lic, err := c.Checkout(ctx(t), client.CheckoutRequest{Feature: "cad", Borrow: 24 * time.Hour})
	if err != nil || !lic.Borrowed {
		t.Fatalf("borrow = %+v, %v", lic, err)
	}
	// A licence that is not borrowed, on the same connection: its seat
	// coming back shows the plugin has cleaned up after the connection.
	if _, err := c.Checkout(ctx(t), client.CheckoutRequest{Feature: "cad"}); err != nil {
		t.Fatal(err)
	}
	c.Close()
	eventually(t, "the connection's plain licence given back", func() bool { return inUse(t, s) < 2 })
	fs, err := s.Status(context.Background(), sdk.StatusQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if fs[0].InUse != 1 || len(fs[0].Leases) != 1 || !fs[0].Leases[0].Borrowed {
		t.Errorf("after the borrower left: in use %d, leases %+v, want the borrowed one", fs[0].InUse, fs[0].Leases)
	}
}

func TestHeartbeatsKeepAndRemoveEnds(t *testing.T) {
	s := seats(600 * time.Millisecond)
	srv := flextest.Start(t, s, cfg())
	lic, err := dial(t, srv, "alice").Checkout(ctx(t), client.CheckoutRequest{Feature: "cad"})
	if err != nil {
		t.Fatal(err)
	}
	// Heartbeats keep the licence: wait until they have moved its expiry
	// past three TTLs after the grant, then it must still be held.
	granted := time.Now()
	eventually(t, "heartbeats past three TTLs", func() bool {
		fs, err := s.Status(context.Background(), sdk.StatusQuery{})
		return err == nil && len(fs[0].Leases) == 1 && fs[0].Leases[0].Expires.After(granted.Add(3*600*time.Millisecond))
	})
	select {
	case <-lic.Lost():
		t.Fatalf("licence lost while heartbeating: %v", lic.Err())
	default:
	}
	admin := dial(t, srv, "root")
	if n, err := admin.Remove(ctx(t), lic.Handle); err != nil || n != 1 {
		t.Fatalf("Remove = %d, %v", n, err)
	}
	select {
	case <-lic.Lost():
	case <-time.After(5 * time.Second):
		t.Fatal("licence not lost after lmremove")
	}
	var gone *client.GoneError
	if !errors.As(lic.Err(), &gone) || gone.Reason != "removed" {
		t.Errorf("lost because %v, want gone (removed)", lic.Err())
	}
	if err := lic.Checkin(ctx(t)); err == nil {
		t.Error("Checkin of a removed licence succeeded")
	}
	if _, err := admin.Remove(ctx(t), 99999); err == nil {
		t.Error("Remove of an unknown handle succeeded")
	}
}

func TestQueueCancelledByContext(t *testing.T) {
	s := seats(time.Minute)
	srv := flextest.Start(t, s, cfg())
	if _, err := dial(t, srv, "alice").Checkout(ctx(t), client.CheckoutRequest{Feature: "cad", Count: 2}); err != nil {
		t.Fatal(err)
	}
	bob := dial(t, srv, "bob")
	wctx, cancel := context.WithCancel(context.Background())
	queued := make(chan struct{})
	errc := make(chan error, 1)
	go func() {
		_, err := bob.Checkout(wctx, client.CheckoutRequest{Feature: "cad", Wait: time.Hour,
			OnQueued: func(int) { close(queued) }})
		errc <- err
	}()
	<-queued
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled checkout = %v", err)
	}
	eventually(t, "ticket cancelled", func() bool {
		fs, _ := s.Status(context.Background(), sdk.StatusQuery{})
		return len(fs[0].Tickets) == 0
	})
	// The connection still works.
	if _, err := bob.Status(ctx(t), ""); err != nil {
		t.Errorf("status after cancel: %v", err)
	}
}

func TestGatewayUnavailable(t *testing.T) {
	s := seats(time.Minute)
	srv := flextest.Start(t, s, cfg())
	c := dial(t, srv, "alice")
	s.FailWith(sdk.ErrUnavailable)
	_, err := c.Checkout(ctx(t), client.CheckoutRequest{Feature: "cad"})
	var se *client.ServerError
	if !errors.As(err, &se) || se.Code != wire.CodeUnavailable {
		t.Fatalf("checkout while unavailable = %v", err)
	}
	s.FailWith(nil)
	if _, err := c.Checkout(ctx(t), client.CheckoutRequest{Feature: "cad"}); err != nil {
		t.Errorf("checkout after recovery: %v", err)
	}
}

func TestUnknownFeatureDenied(t *testing.T) {
	srv := flextest.Start(t, seats(time.Minute), cfg())
	_, err := dial(t, srv, "alice").Checkout(ctx(t), client.CheckoutRequest{Feature: "nope"})
	var denied *client.DeniedError
	if !errors.As(err, &denied) || denied.Reason != "unknown-feature" {
		t.Errorf("checkout of an unknown feature = %v", err)
	}
}

// raw sends frames on a plain socket.
func raw(t *testing.T, addr *net.TCPAddr) (net.Conn, *bufio.Reader) {
	t.Helper()
	nc, err := net.DialTCP("tcp", nil, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	_ = nc.SetDeadline(time.Now().Add(5 * time.Second))
	return nc, bufio.NewReader(nc)
}

func TestWrongRoleAndBadFrames(t *testing.T) {
	srv := flextest.Start(t, seats(time.Minute), cfg())
	nc, r := raw(t, srv.Lmgrd)
	if err := wire.Write(nc, wire.New(wire.Checkout, 5).Str(wire.TFeature, "cad")); err != nil {
		t.Fatal(err)
	}
	f, err := wire.Read(r)
	if err != nil || f.Type != wire.Error || f.ID != 5 || f.GetInt(wire.TCode) != wire.CodeWrongRole {
		t.Fatalf("CHECKOUT to lmgrd = %v, %v", f, err)
	}
	// VENDOR_PORT names the vendor listener's real port.
	if err := wire.Write(nc, wire.New(wire.VendorPort, 6).Str(wire.TVendor, "acme")); err != nil {
		t.Fatal(err)
	}
	f, err = wire.Read(r)
	if err != nil || f.Type != wire.VendorPortOK || int(f.GetInt(wire.TPort)) != srv.Vendor.Port {
		t.Fatalf("VENDOR_PORT = %v, %v", f, err)
	}

	nc2, r2 := raw(t, srv.Vendor)
	if _, err := nc2.Write([]byte("GET / HTTP/1.0\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	f, err = wire.Read(r2)
	if err != nil || f.Type != wire.Error || f.GetInt(wire.TCode) != wire.CodeBadRequest {
		t.Fatalf("garbage = %v, %v; want an ERROR", f, err)
	}
	if _, err := wire.Read(r2); err == nil {
		t.Error("connection still open after a framing error")
	}
}

func TestStatusNumbersOtherProtocolsLeases(t *testing.T) {
	s := seats(time.Minute)
	srv := flextest.Start(t, s, cfg())
	// A lease taken through another protocol (straight from Seats).
	res, err := s.Checkout(context.Background(), sdk.CheckoutRequest{Feature: "cad", Client: sdk.Client{User: "clm", Host: "x"}})
	if err != nil || res.Outcome != sdk.Granted {
		t.Fatal(res, err)
	}
	c := dial(t, srv, "admin")
	fs, err := c.Status(ctx(t), "")
	if err != nil || len(fs) != 1 || len(fs[0].Leases) != 1 {
		t.Fatalf("status = %+v, %v", fs, err)
	}
	h := fs[0].Leases[0].Handle
	again, _ := c.Status(ctx(t), "")
	if again[0].Leases[0].Handle != h {
		t.Errorf("handle changed between status calls: %d then %d", h, again[0].Leases[0].Handle)
	}
	if n, err := c.RemoveUser(ctx(t), "cad", "clm", "x", ""); err != nil || n != 1 {
		t.Errorf("RemoveUser = %d, %v", n, err)
	}
	if inUse(t, s) != 0 {
		t.Error("lease not removed")
	}
}
