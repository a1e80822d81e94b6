package seats

import (
	"strconv"
	"testing"
	"time"

	"github.com/licensegw/licensegw/gateway/events"
)

func TestNewIDOption(t *testing.T) {
	n := 0
	e, err := New(Config{Features: []Feature{{Name: "cad", Seats: 1, Queue: true}}}, Options{NewID: func() string {
		n++
		return "id-" + strconv.Itoa(n)
	}})
	if err != nil {
		t.Fatal(err)
	}
	l := mustGrant(t, e, t0, req("cad", alice()))
	res, _ := e.Checkout(t0, CheckoutRequest{Feature: "cad", Client: alice(), Wait: time.Minute}, nil)
	if l.ID != "id-1" || res.Ticket != "id-2" {
		t.Errorf("ids %q, %q: the generator was not used", l.ID, res.Ticket)
	}
}

// TestHeartbeatBeforeTick: a lease past its expiry that no Tick has reaped
// is still live (its end has not been journaled) and a heartbeat renews it.
func TestHeartbeatBeforeTick(t *testing.T) {
	e := newEngine(t, Config{Features: []Feature{{Name: "cad", Seats: 1}}})
	l := mustGrant(t, e, t0, req("cad", alice()))
	late := at(DefaultLeaseTTL + time.Second)
	hb, err := e.Heartbeat(late, l.ID)
	if err != nil || !hb.Expires.Equal(late.Add(DefaultLeaseTTL)) {
		t.Fatalf("heartbeat: %+v %v", hb, err)
	}
	if evs := e.Tick(late, nil); len(evs) != 0 {
		t.Errorf("renewed lease expired: %+v", evs)
	}
}

// TestHotPathAllocations guards the benchmark's budget: a checkout and a
// checkin allocate only the lease identifier.
func TestHotPathAllocations(t *testing.T) {
	e := newEngine(t, Config{Features: []Feature{{Name: "cad", Seats: 10}}})
	evs := make([]events.Event, 0, 4)
	c := alice()
	allocs := testing.AllocsPerRun(1000, func() {
		res, out := e.Checkout(t0, CheckoutRequest{Feature: "cad", Client: c}, evs[:0])
		if _, err := e.Checkin(t0, res.Lease.ID, out[:0]); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 1 {
		t.Errorf("%v allocations per checkout+checkin, want at most 1", allocs)
	}
}
