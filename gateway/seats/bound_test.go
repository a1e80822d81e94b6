package seats

import (
	"testing"
	"time"

	"github.com/licensegw/licensegw/gateway/events"
)

func TestKeyedCheckoutIsIdempotent(t *testing.T) {
	e := newEngine(t, Config{Features: []Feature{{Name: "cad", Version: "1", Seats: 3}}})
	r := req("cad", alice())
	r.Key = "udp/10.1.2.3:5000/7"
	first := mustGrant(t, e, at(0), r)

	res, evs := e.Checkout(at(time.Second), r, nil)
	if res.Outcome != Granted || res.Lease.ID != first.ID || len(evs) != 0 {
		t.Fatalf("retransmission: %+v with events %v, want lease %s and no event", res, kinds(evs), first.ID)
	}
	if n, _ := e.Counts(); n != 1 {
		t.Fatalf("%d leases after a retransmission, want 1", n)
	}
	// Once the lease ended, the key is free: a new checkout gets a new lease.
	if _, err := e.Checkin(at(2*time.Second), first.ID, nil); err != nil {
		t.Fatal(err)
	}
	if again := mustGrant(t, e, at(3*time.Second), r); again.ID == first.ID {
		t.Fatal("a checked-in lease was handed out again")
	}
}

func TestKeysSurviveReplayAndSnapshot(t *testing.T) {
	cfg := Config{Features: []Feature{{Name: "cad", Version: "1", Seats: 3}}}
	e := newEngine(t, cfg)
	r := req("cad", alice())
	r.Key = "k"
	_, evs := e.Checkout(at(0), r, nil)
	if !evs[0].Bound && evs[0].Request != "k" {
		t.Fatalf("checkout event %+v does not carry the key", evs[0])
	}
	replayed := newEngine(t, cfg)
	for _, ev := range evs {
		if err := replayed.Apply(ev); err != nil {
			t.Fatal(err)
		}
	}
	restored := newEngine(t, cfg)
	if err := restored.Restore(e.State()); err != nil {
		t.Fatal(err)
	}
	for name, x := range map[string]*Engine{"replayed": replayed, "restored": restored} {
		res, out := x.Checkout(at(time.Second), r, nil)
		if res.Lease.ID != evs[0].Lease || len(out) != 0 {
			t.Errorf("%s engine: retransmission got %+v, want lease %s", name, res.Lease, evs[0].Lease)
		}
	}
}

func TestBoundLeasesEndWithTheirConnections(t *testing.T) {
	cfg := Config{Features: []Feature{{Name: "cad", Version: "1", Seats: 1, Queue: true}}}
	e := newEngine(t, cfg)
	bound := req("cad", alice()) // plugin "clm"
	bound.Bound = true
	l := mustGrant(t, e, at(0), bound)
	other := alice()
	other.Plugin = "flex"
	waiter := req("cad", other)
	waiter.Wait = time.Hour
	if res, _ := e.Checkout(at(0), waiter, nil); res.Outcome != Queued {
		t.Fatalf("waiter: %+v", res)
	}

	evs := e.ReleaseBound(at(time.Second), "flex", nil)
	if len(evs) != 0 {
		t.Fatalf("another plugin's exit released %v", kinds(evs))
	}
	evs = e.ReleaseBound(at(time.Second), "clm", nil)
	if got := kinds(evs); len(got) != 2 || got[0] != events.Checkin || got[1] != events.Checkout {
		t.Fatalf("release: %v, want checkin then the waiter's checkout", got)
	}
	if evs[0].Lease != l.ID || evs[0].Reason != string(Disconnected) {
		t.Fatalf("checkin event %+v", evs[0])
	}
}

func TestReviveEndsBoundLeases(t *testing.T) {
	cfg := Config{Features: []Feature{{Name: "cad", Version: "1", Seats: 2}}}
	e := newEngine(t, cfg)
	bound := req("cad", alice())
	bound.Bound = true
	b := mustGrant(t, e, at(0), bound)
	free := mustGrant(t, e, at(0), req("cad", who("bob", "ws-02")))

	evs := e.Revive(at(time.Minute), nil)
	if len(evs) != 1 || evs[0].Kind != events.Checkin || evs[0].Lease != b.ID {
		t.Fatalf("revive: %+v", evs)
	}
	if _, ok := e.Lease(free.ID); !ok {
		t.Fatal("an unbound lease did not survive the restart")
	}
}

func TestStatusOf(t *testing.T) {
	e := newEngine(t, Config{Features: []Feature{{Name: "cad", Version: "1", Seats: 3}, {Name: "viz", Version: "1", Seats: 3}}})
	mustGrant(t, e, at(0), req("cad", alice()))
	all := e.Status()
	if len(all) != 2 || len(all[0].Leases) != 1 {
		t.Fatalf("Status: %+v", all)
	}
	only := e.StatusOf(func(k PoolKey) bool { return k.Name == "cad" }, false)
	if len(only) != 1 || only[0].Feature.Name != "cad" || only[0].InUse != 1 || only[0].Leases != nil {
		t.Fatalf("StatusOf(cad, counts only): %+v", only)
	}
}
