package flexlm_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/licensegw/licensegw/plugins/flexlm/internal/flextest"
	"github.com/licensegw/licensegw/plugins/flexlm/wire"
	"github.com/licensegw/licensegw/sdk"
)

// plainInUse is the seats of feature plain in use.
func plainInUse(t *testing.T, s sdk.Seats) int {
	t.Helper()
	fs, err := s.Status(context.Background(), sdk.StatusQuery{Feature: "plain"})
	if err != nil || len(fs) != 1 {
		t.Fatalf("status: %v %v", fs, err)
	}
	return fs[0].InUse
}

// openConns is the plugin's connections_open gauge.
func openConns(srv *flextest.Server) float64 {
	for _, m := range srv.Env.Metrics.Snapshot() {
		if m.Name == "connections_open" {
			return m.Value
		}
	}
	return -1
}

// TestRequestKeyMovesTheLease: a client whose connection broke asks again
// on a new one with the same REQUEST_KEY while the old connection is still
// open on the server: it gets the same lease and handle, and when the old
// connection closes the lease is not checked in with it.
func TestRequestKeyMovesTheLease(t *testing.T) {
	srv, seats := conformanceServer(t)
	old := dialRaw(t, srv.Vendor)
	g := old.call(checkout(1, "plain").Str(wire.TRequestKey, "k-1"))
	wantType(t, g, wire.Granted, 1)

	cur := dialRaw(t, srv.Vendor)
	again := cur.call(checkout(1, "plain").Str(wire.TRequestKey, "k-1"))
	wantType(t, again, wire.Granted, 1)
	if again.GetStr(wire.TLease) != g.GetStr(wire.TLease) || again.GetInt(wire.THandle) != g.GetInt(wire.THandle) {
		t.Fatalf("asked again: lease %s handle %d, want %s %d", again.GetStr(wire.TLease), again.GetInt(wire.THandle),
			g.GetStr(wire.TLease), g.GetInt(wire.THandle))
	}
	if n := plainInUse(t, seats); n != 1 {
		t.Fatalf("in use = %d, want 1", n)
	}
	// Another key is another checkout: no seat left.
	wantType(t, cur.call(checkout(2, "plain").Str(wire.TRequestKey, "k-2")), wire.Denied, 2)

	old.nc.Close()
	deadline := time.Now().Add(10 * time.Second)
	for openConns(srv) != 1 {
		if time.Now().After(deadline) {
			t.Fatal("the old connection was never closed on the server")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if n := plainInUse(t, seats); n != 1 {
		t.Fatalf("in use after the old connection closed = %d, want the moved lease's 1", n)
	}
	hb := cur.call(wire.New(wire.Heartbeat, 3).Int(wire.THandle, g.GetInt(wire.THandle)))
	wantType(t, hb, wire.HeartbeatOK, 3)
	wantType(t, cur.call(wire.New(wire.Checkin, 4).Int(wire.THandle, g.GetInt(wire.THandle))), wire.OK, 4)
	if n := plainInUse(t, seats); n != 0 {
		t.Fatalf("in use after checkin = %d", n)
	}
}

func TestRequestKeyLimits(t *testing.T) {
	srv, _ := conformanceServer(t)
	c := dialRaw(t, srv.Vendor)
	wantError(t, c.call(checkout(1, "plain").Str(wire.TRequestKey, "")), wire.CodeBadRequest, 1)
	wantError(t, c.call(checkout(2, "plain").Str(wire.TRequestKey, strings.Repeat("k", 129))), wire.CodeBadRequest, 2)
	// Characters a gateway key may not hold are the gateway's refusal.
	wantError(t, c.call(checkout(3, "plain").Str(wire.TRequestKey, "a b")), wire.CodeBadRequest, 3)
	wantType(t, c.call(checkout(4, "plain").Str(wire.TRequestKey, strings.Repeat("k", 128))), wire.Granted, 4)
}
