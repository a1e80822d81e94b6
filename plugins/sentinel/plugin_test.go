package sentinel

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/licensegw/licensegw/plugins/sentinel/client"
	"github.com/licensegw/licensegw/plugins/sentinel/wire"
	"github.com/licensegw/licensegw/sdk"
	"github.com/licensegw/licensegw/sdk/sdktest"
)

func TestInfo(t *testing.T) {
	info := New().Info()
	if info.Name != "sentinel" || info.APIVersion == 0 || len(info.Listeners) != 1 ||
		info.Listeners[0] != (sdk.ListenerSpec{Name: "udp", Network: "udp", Address: ":5093"}) {
		t.Errorf("Info = %+v", info)
	}
	names := map[string]bool{}
	for _, a := range info.Config {
		names[a.Name] = true
	}
	for _, want := range []string{"reservation_file", "rate_limit", "cache_size", "cache_ttl", "queue_wait", "ticket_lifetime"} {
		if !names[want] {
			t.Errorf("config schema lacks %s", want)
		}
	}
}

func TestCheckoutRefreshRelease(t *testing.T) {
	seats := sdktest.NewSeats(sdktest.Feature{Name: "cad_pro", Version: "2024.1", Seats: 3, TTL: 5 * time.Minute})
	r := serve(t, seats, nil, nil)
	c := r.dial(t, "alice")
	ctx := testCtx(t)

	tok, q, err := c.Checkout(ctx, client.CheckoutRequest{Feature: "cad_pro", Version: "2024", Count: 2})
	if err != nil || q != nil {
		t.Fatalf("Checkout = %v, %v, %v", tok, q, err)
	}
	if tok.Count != 2 || tok.Lifetime != 5*time.Minute || tok.Commuter || tok.Handle == "" {
		t.Errorf("token = %+v", tok)
	}
	if n := inUse(t, seats, "cad_pro"); n != 2 {
		t.Errorf("in use = %d, want 2", n)
	}
	if _, err := c.Refresh(ctx, tok.Handle); err != nil {
		t.Errorf("Refresh: %v", err)
	}
	if err := c.Release(ctx, tok.Handle); err != nil {
		t.Errorf("Release: %v", err)
	}
	if n := inUse(t, seats, "cad_pro"); n != 0 {
		t.Errorf("in use after release = %d", n)
	}
	if _, err := c.Refresh(ctx, tok.Handle); !client.IsStatus(err, wire.Gone) {
		t.Errorf("Refresh after release = %v, want gone", err)
	}
}

func TestDenials(t *testing.T) {
	seats := sdktest.NewSeats(sdktest.Feature{Name: "cad", Version: "1.0", Seats: 1})
	r := serve(t, seats, nil, nil)
	c := r.dial(t, "bob")
	ctx := testCtx(t)
	if _, _, err := c.Checkout(ctx, client.CheckoutRequest{Feature: "cad"}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		req  client.CheckoutRequest
		want wire.Status
	}{
		{"no seats", client.CheckoutRequest{Feature: "cad"}, wire.NoSeats},
		{"unknown", client.CheckoutRequest{Feature: "nope"}, wire.UnknownFeature},
		{"version", client.CheckoutRequest{Feature: "cad", Version: "2.0"}, wire.VersionTooHigh},
		{"too many", client.CheckoutRequest{Feature: "cad", Count: 2}, wire.TooMany},
		{"no queue", client.CheckoutRequest{Feature: "cad", Queue: true}, wire.NoSeats},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := c.Checkout(ctx, tt.req)
			var se *client.StatusError
			if !errors.As(err, &se) || se.Status != tt.want {
				t.Fatalf("Checkout = %v, want %v", err, tt.want)
			}
			if tt.want == wire.NoSeats && (se.InUse != 1 || se.Seats != 1) {
				t.Errorf("denial says %d of %d in use", se.InUse, se.Seats)
			}
		})
	}
}

// TestLifetimeExpiry: a client that stops refreshing loses its token when
// the lifetime runs out, and a refreshing one keeps it.
func TestLifetimeExpiry(t *testing.T) {
	clock := newFakeClock()
	seats := sdktest.NewSeats(sdktest.Feature{Name: "solver", Seats: 2, TTL: 30 * time.Second}).WithClock(clock.Now)
	r := serve(t, seats, nil, clock.Now)
	silent, busy := r.dial(t, "silent"), r.dial(t, "busy")
	ctx := testCtx(t)
	a, _, err := silent.Checkout(ctx, client.CheckoutRequest{Feature: "solver"})
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := busy.Checkout(ctx, client.CheckoutRequest{Feature: "solver"})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		clock.Add(20 * time.Second)
		if _, err := busy.Refresh(ctx, b.Handle); err != nil {
			t.Fatalf("refresh within the lifetime: %v", err)
		}
	}
	if n := inUse(t, seats, "solver"); n != 1 {
		t.Errorf("in use after 60s = %d, want 1 (the silent client's token reclaimed)", n)
	}
	_, err = silent.Refresh(ctx, a.Handle)
	var se *client.StatusError
	if !errors.As(err, &se) || se.Status != wire.Gone || se.Reason != "expired" {
		t.Errorf("late refresh = %v, want gone (expired)", err)
	}
	// The reclaimed token is free for someone else.
	if _, _, err := silent.Checkout(ctx, client.CheckoutRequest{Feature: "solver"}); err != nil {
		t.Errorf("checkout of the reclaimed token: %v", err)
	}
}

func TestCommuter(t *testing.T) {
	clock := newFakeClock()
	seats := sdktest.NewSeats(sdktest.Feature{Name: "cad", Seats: 2, TTL: 30 * time.Second, Borrow: true, MaxBorrow: 14 * day}).WithClock(clock.Now)
	r := serve(t, seats, nil, clock.Now)
	c := r.dial(t, "carol")
	ctx := testCtx(t)

	tok, err := c.Commute(ctx, "cad", "", 1, 3)
	if err != nil {
		t.Fatal(err)
	}
	if !tok.Commuter || !tok.Expires.Equal(clock.Now().Add(3*day)) {
		t.Errorf("commuter token = %+v", tok)
	}
	clock.Add(2 * day) // far past the lifetime, without a refresh
	if n := inUse(t, seats, "cad"); n != 1 {
		t.Fatalf("commuter token gone after 2 days: in use %d", n)
	}
	fs, err := c.Features(ctx, "cad")
	if err != nil || len(fs) != 1 || fs[0].CommuterInUse != 1 || !fs[0].Commuter || fs[0].MaxCommuterDays != 14 {
		t.Errorf("Features = %+v, %v", fs, err)
	}
	if err := c.ReturnCommuter(ctx, tok.Handle); err != nil {
		t.Fatal(err)
	}
	if n := inUse(t, seats, "cad"); n != 0 {
		t.Errorf("in use after return = %d", n)
	}
	// Longer than allowed, and zero days.
	if _, err := c.Commute(ctx, "cad", "", 1, 15); !client.IsStatus(err, wire.CommuterRefused) && !client.IsStatus(err, wire.Excluded) {
		t.Errorf("15-day commute = %v, want a refusal", err)
	}
	if _, err := c.Commute(ctx, "cad", "", 1, 0); !client.IsStatus(err, wire.BadRequest) {
		t.Errorf("0-day commute = %v, want bad-request", err)
	}
	// A commuter token left out expires when its days pass.
	if _, err := c.Commute(ctx, "cad", "", 1, 1); err != nil {
		t.Fatal(err)
	}
	clock.Add(day + time.Second)
	if n := inUse(t, seats, "cad"); n != 0 {
		t.Errorf("in use after the commuter days = %d", n)
	}
}

func TestQueue(t *testing.T) {
	seats := sdktest.NewSeats(sdktest.Feature{Name: "cad", Seats: 1, Queue: true})
	r := serve(t, seats, nil, nil)
	a, b := r.dial(t, "alice"), r.dial(t, "bob")
	ctx := testCtx(t)
	tokA, _, err := a.Checkout(ctx, client.CheckoutRequest{Feature: "cad"})
	if err != nil {
		t.Fatal(err)
	}
	_, place, err := b.Checkout(ctx, client.CheckoutRequest{Feature: "cad", Queue: true, Wait: time.Minute})
	if err != nil || place == nil || place.Position != 1 {
		t.Fatalf("queued checkout = %+v, %v", place, err)
	}
	if tok, again, err := b.Poll(ctx, place.Ticket); err != nil || tok != nil || again.Position != 1 {
		t.Fatalf("poll while waiting = %v %+v %v", tok, again, err)
	}
	fs, err := a.Features(ctx, "cad")
	if err != nil || fs[0].Queued != 1 {
		t.Errorf("queued count = %+v, %v", fs, err)
	}
	if err := a.Release(ctx, tokA.Handle); err != nil {
		t.Fatal(err)
	}
	tokB, err := b.WaitQueued(ctx, place.Ticket, 10*time.Millisecond)
	if err != nil || tokB.Count != 1 {
		t.Fatalf("WaitQueued = %+v, %v", tokB, err)
	}
	if _, err := b.Refresh(ctx, tokB.Handle); err != nil {
		t.Errorf("refresh of the queued grant: %v", err)
	}
	// Leaving the queue.
	_, place, err = a.Checkout(ctx, client.CheckoutRequest{Feature: "cad", Queue: true})
	if err != nil || place == nil {
		t.Fatalf("second queued checkout = %+v, %v", place, err)
	}
	if err := a.CancelQueued(ctx, place.Ticket); err != nil {
		t.Fatal(err)
	}
	// Polling one's own cancelled ticket says so, as for any ticket that
	// left the queue.
	var se *client.StatusError
	if _, _, err := a.Poll(ctx, place.Ticket); !errors.As(err, &se) || se.Status != wire.Dequeued || se.Reason != "cancelled" {
		t.Errorf("poll after cancel = %v, want dequeued (cancelled)", err)
	}
	if err := a.CancelQueued(ctx, place.Ticket); !client.IsStatus(err, wire.UnknownTicket) {
		t.Errorf("second cancel = %v, want unknown-ticket", err)
	}
}

func TestDiscovery(t *testing.T) {
	cad := serve(t, sdktest.NewSeats(sdktest.Feature{Name: "cad", Seats: 1}), map[string]any{"server_name": "gw-cad"}, nil)
	other := serve(t, sdktest.NewSeats(sdktest.Feature{Name: "other", Seats: 1}), nil, nil)
	ctx := testCtx(t)
	// Generous: under -race on a loaded 2-core machine 50 ms was too short
	// for an answer that does come. Only the unserved feature waits it out.
	opts := client.Options{Timeout: 250 * time.Millisecond, Attempts: 4}
	f, err := client.Discover(ctx, "cad", []string{other.addr, cad.addr}, opts)
	if err != nil {
		t.Fatal(err)
	}
	if f.Addr.String() != cad.addr || f.Server.Name != "gw-cad" || f.Server.Features != 1 {
		t.Errorf("found %v %+v, want %s", f.Addr, f.Server, cad.addr)
	}
	if _, err := client.Discover(ctx, "nope", []string{other.addr, cad.addr}, opts); !errors.Is(err, client.ErrNoServer) {
		t.Errorf("discover of an unserved feature = %v, want ErrNoServer", err)
	}
	if st := other.plugin.Stats(); st.Silent == 0 {
		t.Errorf("the server without the feature answered? stats %+v", st)
	}
}

func TestReservationFileGroups(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sentinel.rsv")
	if err := os.WriteFile(path, []byte("cad:designers:1:alice ws-01\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := serve(t, sdktest.NewSeats(sdktest.Feature{Name: "cad", Seats: 2}), map[string]any{"reservation_file": path}, nil)
	info, err := r.dial(t, "x").ServerInfo(testCtx(t))
	if err != nil || info.Storage != path {
		t.Errorf("ServerInfo = %+v, %v; want storage %s", info, err, path)
	}
}

func TestBadConfig(t *testing.T) {
	for name, cfg := range map[string]map[string]any{
		"short cache ttl":  {"cache_ttl": 10 * time.Second},
		"missing rsv file": {"reservation_file": filepath.Join(t.TempDir(), "none.rsv")},
		"zero rate":        {"rate_limit": 0.0},
	} {
		t.Run(name, func(t *testing.T) {
			conn, err := net.ListenPacket("udp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			err = New().Serve(testCtx(t), &sdk.Env{
				Config:      sdk.NewConfig(cfg),
				PacketConns: map[string]net.PacketConn{ListenerName: conn},
				Seats:       sdktest.NewSeats(),
			})
			if err == nil {
				t.Fatal("Serve accepted the config")
			}
		})
	}
}
