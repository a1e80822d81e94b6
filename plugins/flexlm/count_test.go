package flexlm_test

import (
	"testing"
	"time"

	"github.com/licensegw/licensegw/plugins/flexlm/client"
	"github.com/licensegw/licensegw/plugins/flexlm/internal/flextest"
	"github.com/licensegw/licensegw/plugins/flexlm/wire"
)

// CHECKOUT's COUNT is 64-bit end to end: a count past 32 bits is denied
// as more than the feature has (reason count, with the feature's real
// counts), never truncated into a small grant; a missing or zero COUNT is
// a bad request, not silently 1.
func TestCheckoutCount(t *testing.T) {
	s := seats(time.Minute)
	srv := flextest.Start(t, s, cfg())
	holder := dial(t, srv, "holder")
	if _, err := holder.Checkout(ctx(t), client.CheckoutRequest{Feature: "cad", Count: 1}); err != nil {
		t.Fatal(err)
	}
	nc, r := raw(t, srv.Vendor)
	checkout := func(id uint32, count *int64) *wire.Frame {
		t.Helper()
		f := wire.New(wire.Checkout, id).Str(wire.TFeature, "cad").Str(wire.TUser, "u").Str(wire.THost, "h")
		if count != nil {
			f.Int(wire.TCount, *count)
		}
		if err := wire.Write(nc, f); err != nil {
			t.Fatal(err)
		}
		ans, err := wire.Read(r)
		if err != nil || ans.ID != id {
			t.Fatalf("answer %v, %v", ans, err)
		}
		return ans
	}
	n := func(v int64) *int64 { return &v }
	for _, c := range []int64{1 << 32, 1<<32 + 1, 1 << 31, 1<<63 - 1, 3} {
		ans := checkout(1, n(c))
		if ans.Type != wire.Denied || ans.GetStr(wire.TReason) != "count" {
			t.Fatalf("COUNT %d: %v reason %q, want DENIED count", c, ans.Type, ans.GetStr(wire.TReason))
		}
		if ans.GetInt(wire.TInUse) != 1 || ans.GetInt(wire.TSeats) != 2 {
			t.Errorf("COUNT %d: IN_USE %d SEATS %d, want 1 and 2", c, ans.GetInt(wire.TInUse), ans.GetInt(wire.TSeats))
		}
	}
	for _, c := range []*int64{nil, n(0), n(-1), n(-1 << 63)} {
		if ans := checkout(2, c); ans.Type != wire.Error || ans.GetInt(wire.TCode) != wire.CodeBadRequest {
			t.Errorf("COUNT %v: %v code %d, want ERROR %d", c, ans.Type, ans.GetInt(wire.TCode), wire.CodeBadRequest)
		}
	}
	if got := inUse(t, s); got != 1 {
		t.Fatalf("in use %d after the refused checkouts, want 1", got)
	}
	// The connection still serves.
	if ans := checkout(3, n(1)); ans.Type != wire.Granted || ans.GetInt(wire.TCount) != 1 {
		t.Fatalf("COUNT 1: %v", ans)
	}
}
