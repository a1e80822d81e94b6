package seats

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/licensegw/licensegw/gateway/events"
)

func TestHeartbeatAndExpiry(t *testing.T) {
	e := newEngine(t, Config{Features: []Feature{{Name: "cad", Seats: 1, LeaseTTL: time.Minute}}})
	l := mustGrant(t, e, t0, req("cad", alice()))
	if got := e.NextDeadline(); !got.Equal(at(time.Minute)) {
		t.Fatalf("NextDeadline = %s", got)
	}
	hb, err := e.Heartbeat(at(50*time.Second), l.ID)
	if err != nil || !hb.Expires.Equal(at(110*time.Second)) {
		t.Fatalf("heartbeat: %+v %v", hb, err)
	}
	if got := e.NextDeadline(); !got.Equal(at(110 * time.Second)) {
		t.Fatalf("NextDeadline after heartbeat = %s", got)
	}
	if evs := e.Tick(at(109*time.Second), nil); len(evs) != 0 {
		t.Fatalf("tick before expiry: %+v", evs)
	}
	evs := e.Tick(at(2*time.Minute), nil)
	if len(evs) != 1 || evs[0].Kind != events.Expired || evs[0].Lease != l.ID || evs[0].HeldMS == nil || *evs[0].HeldMS != 120000 || evs[0].InUse != 0 {
		t.Fatalf("expiry events %+v", evs)
	}
	if !e.NextDeadline().IsZero() {
		t.Errorf("NextDeadline = %s with nothing left", e.NextDeadline())
	}
	var gone *GoneError
	if _, err := e.Heartbeat(at(3*time.Minute), l.ID); !errors.As(err, &gone) || gone.Reason != GoneExpired || gone.Lease != l.ID {
		t.Fatalf("heartbeat of expired lease: %v", err)
	}
	if _, err := e.Checkin(at(3*time.Minute), l.ID, nil); !errors.As(err, &gone) || gone.Reason != GoneExpired {
		t.Fatalf("checkin of expired lease: %v", err)
	}
}

func TestTombstones(t *testing.T) {
	e := newEngine(t, Config{Features: []Feature{{Name: "cad", Seats: 3}}})
	a := mustGrant(t, e, t0, req("cad", alice()))
	b := mustGrant(t, e, t0, req("cad", alice()))
	evs, err := e.Remove(t0, a.ID, nil)
	if err != nil || len(evs) != 1 || evs[0].Kind != events.Removed || evs[0].Lease != a.ID {
		t.Fatalf("remove: %+v %v", evs, err)
	}
	if _, err := e.Checkin(t0, b.ID, nil); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		id   string
		want Reason
	}{
		{a.ID, GoneRemoved},
		{b.ID, GoneUnknown}, // checked in: nobody should ask again
		{"L999", GoneUnknown},
	}
	for _, tt := range tests {
		_, err := e.Heartbeat(t0, tt.id)
		var gone *GoneError
		if !errors.As(err, &gone) || gone.Reason != tt.want {
			t.Errorf("heartbeat %s: %v, want gone %s", tt.id, err, tt.want)
		}
		if _, err := e.Remove(t0, tt.id, nil); !errors.As(err, &gone) {
			t.Errorf("remove %s: %v", tt.id, err)
		}
	}
}

func TestTombstoneCapacity(t *testing.T) {
	var ts tombstones
	for i := range TombstoneCapacity + 10 {
		ts.add(fmt.Sprint("L", i), GoneExpired)
	}
	if len(ts.m) != TombstoneCapacity || len(ts.ring) != TombstoneCapacity {
		t.Fatalf("%d tombstones kept, want %d", len(ts.m), TombstoneCapacity)
	}
	if ts.reason("L9") != GoneUnknown || ts.reason("L10") != GoneExpired || ts.reason(fmt.Sprint("L", TombstoneCapacity+9)) != GoneExpired {
		t.Error("the oldest were not the ones forgotten")
	}
	list := ts.list()
	if list[0].Lease != "L10" || list[len(list)-1].Lease != fmt.Sprint("L", TombstoneCapacity+9) {
		t.Errorf("list not oldest first: %v ... %v", list[0], list[len(list)-1])
	}
}

func TestBorrow(t *testing.T) {
	e := newEngine(t, Config{Features: []Feature{{Name: "cad", Seats: 1, Borrow: true, MaxBorrow: 48 * time.Hour, Queue: true}}})
	res, evs := e.Checkout(t0, CheckoutRequest{Feature: "cad", Client: alice(), Borrow: 24 * time.Hour}, nil)
	if res.Outcome != Granted || !res.Lease.Borrowed || !res.Lease.Expires.Equal(at(24*time.Hour)) {
		t.Fatalf("borrow: %+v", res)
	}
	if len(evs) != 1 || evs[0].Kind != events.Borrowed || evs[0].Expires == nil || !evs[0].Expires.Equal(at(24*time.Hour)) {
		t.Fatalf("borrow events %+v", evs)
	}
	// No heartbeat needed; a heartbeat changes nothing.
	if hb, err := e.Heartbeat(at(time.Hour), res.Lease.ID); err != nil || !hb.Expires.Equal(at(24*time.Hour)) {
		t.Fatalf("heartbeat of a borrow: %+v %v", hb, err)
	}
	if evs := e.Tick(at(23*time.Hour), nil); len(evs) != 0 {
		t.Fatalf("borrow ended early: %+v", evs)
	}
	w, _ := e.Checkout(at(23*time.Hour), CheckoutRequest{Feature: "cad", Client: who("bob", "h"), Wait: 2 * time.Hour}, nil)
	evs = e.Tick(at(24*time.Hour), nil)
	if got := kinds(evs); !slices.Equal(got, []events.Kind{events.Returned, events.Checkout}) {
		t.Fatalf("end of borrow: %v", got)
	}
	if evs[0].Reason != "ended" || evs[0].HeldMS == nil || *evs[0].HeldMS != (24*time.Hour).Milliseconds() || evs[1].Ticket != w.Ticket {
		t.Errorf("end of borrow events %+v", evs)
	}
	var gone *GoneError
	if _, err := e.Checkin(at(25*time.Hour), res.Lease.ID, nil); !errors.As(err, &gone) || gone.Reason != GoneExpired {
		t.Errorf("checkin after the borrow ended: %v", err)
	}

	// An early return.
	e = newEngine(t, Config{Features: []Feature{{Name: "cad", Seats: 1, Borrow: true}}})
	res, _ = e.Checkout(t0, CheckoutRequest{Feature: "cad", Client: alice(), Borrow: DefaultMaxBorrow}, nil)
	if res.Outcome != Granted {
		t.Fatalf("borrow within the default maximum: %+v", res)
	}
	evs, err := e.Checkin(at(time.Hour), res.Lease.ID, nil)
	if err != nil || len(evs) != 1 || evs[0].Kind != events.Returned || evs[0].Reason != "" || evs[0].InUse != 0 {
		t.Fatalf("return: %+v %v", evs, err)
	}
}

func TestStatus(t *testing.T) {
	cfg := Config{Features: []Feature{
		{Vendor: "b", Name: "x", Seats: 2, Queue: true},
		{Vendor: "a", Name: "y", Version: "10", Seats: 1},
		{Vendor: "a", Name: "y", Version: "9", Seats: 1},
	}}
	e := newEngine(t, cfg)
	mustGrant(t, e, at(time.Second), CheckoutRequest{Vendor: "b", Feature: "x", Client: who("late", "h")})
	mustGrant(t, e, t0, CheckoutRequest{Vendor: "b", Feature: "x", Client: who("early", "h")})
	e.Checkout(t0, CheckoutRequest{Vendor: "b", Feature: "x", Count: 2, Client: alice(), Wait: time.Minute}, nil)
	st := e.Status()
	var keys []string
	for _, p := range st {
		keys = append(keys, p.Feature.Vendor+"/"+p.Feature.Name+"/"+p.Feature.Version)
	}
	if !slices.Equal(keys, []string{"a/y/9", "a/y/10", "b/x/"}) {
		t.Fatalf("status order %v", keys)
	}
	x := st[2]
	if x.InUse != 2 || x.Queued != 2 || len(x.Leases) != 2 || x.Leases[0].Client.User != "early" || len(x.Tickets) != 1 || x.Tickets[0].Position != 1 {
		t.Errorf("status of b/x: %+v", x)
	}
	if l, tk := e.Counts(); l != 2 || tk != 1 {
		t.Errorf("Counts = %d, %d", l, tk)
	}
}
