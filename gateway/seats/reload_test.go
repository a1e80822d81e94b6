package seats

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/licensegw/licensegw/gateway/events"
)

func TestReloadLowersSeats(t *testing.T) {
	cfg := Config{Features: []Feature{{Name: "cad", Seats: 3, Queue: true}}}
	e := newEngine(t, cfg)
	var ids []string
	for range 3 {
		ids = append(ids, mustGrant(t, e, t0, req("cad", alice())).ID)
	}
	w, _ := e.Checkout(t0, CheckoutRequest{Feature: "cad", Client: who("w", "h"), Wait: time.Hour}, nil)
	cfg.Features[0].Seats = 1
	evs, err := e.Reload(t0, cloneConfig(cfg), nil)
	if err != nil || len(evs) != 0 {
		t.Fatalf("reload: %+v %v", evs, err)
	}
	if l, _ := e.Counts(); l != 3 {
		t.Fatalf("reload lost leases: %d left", l)
	}
	evs, _ = e.Checkin(t0, ids[0], nil)
	evs, _ = e.Checkin(t0, ids[1], evs)
	if got := kinds(evs); !slices.Equal(got, []events.Kind{events.Checkin, events.Checkin}) {
		t.Fatalf("a grant while in use >= seats: %v", got)
	}
	evs, _ = e.Checkin(t0, ids[2], nil)
	if len(evs) != 2 || evs[1].Ticket != w.Ticket || evs[1].InUse != 1 || evs[1].Seats != 1 {
		t.Fatalf("the queue head was not served once a seat existed: %+v", evs)
	}
}

func TestReloadRaisesSeatsGrantsQueue(t *testing.T) {
	cfg := Config{Features: []Feature{{Name: "cad", Seats: 1, Queue: true}}}
	e := newEngine(t, cfg)
	mustGrant(t, e, t0, req("cad", alice()))
	w, _ := e.Checkout(t0, CheckoutRequest{Feature: "cad", Client: who("w", "h"), Wait: time.Hour}, nil)
	cfg.Features[0].Seats = 2
	evs, err := e.Reload(t0, cloneConfig(cfg), nil)
	if err != nil || len(evs) != 1 || evs[0].Kind != events.Checkout || evs[0].Ticket != w.Ticket {
		t.Fatalf("reload: %+v %v", evs, err)
	}
}

func TestReloadRetiresPool(t *testing.T) {
	cfg := Config{Features: []Feature{
		{Name: "cad", Seats: 1, Queue: true, Reserve: []Reservation{{Seats: 1, Who: Subject{Kind: User, Name: "alice"}}}},
		{Name: "other", Seats: 1},
	}}
	e := newEngine(t, cfg)
	l := mustGrant(t, e, t0, req("cad", alice()))
	w, _ := e.Checkout(t0, CheckoutRequest{Feature: "cad", Client: who("w", "h"), Wait: time.Hour}, nil)
	evs, err := e.Reload(t0, Config{Features: []Feature{{Name: "other", Seats: 1}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := kinds(evs); !slices.Equal(got, []events.Kind{events.Dequeued, events.Unreserved}) {
		t.Fatalf("reload events %v", got)
	}
	if evs[0].Ticket != w.Ticket || evs[0].Reason != string(FeatureGone) || evs[1].Reason != "user=alice" || evs[1].User != "alice" || evs[1].Count != 1 {
		t.Errorf("reload events %+v", evs)
	}
	if res, _ := e.Checkout(t0, req("cad", alice()), nil); res.Reason != UnknownFeature {
		t.Errorf("checkout of a retired feature: %+v", res)
	}
	st := e.Status()
	if len(st) != 2 || !st[0].Retired || st[0].InUse != 1 {
		t.Fatalf("status %+v", st)
	}
	if _, err := e.Heartbeat(t0, l.ID); err != nil {
		t.Errorf("heartbeat of a lease in a retired pool: %v", err)
	}
	if _, err := e.Checkin(t0, l.ID, nil); err != nil {
		t.Fatal(err)
	}
	if st := e.Status(); len(st) != 1 || st[0].Feature.Name != "other" {
		t.Errorf("retired pool kept after its last lease: %+v", st)
	}
}

func TestReloadReservations(t *testing.T) {
	cfg := Config{
		Features: []Feature{{Name: "cad", Seats: 4, Reserve: []Reservation{{Seats: 1, Who: Subject{Kind: User, Name: "a"}}, {Seats: 1, Who: Subject{Kind: Group, Name: "eng"}}}}},
		Groups:   map[string][]string{"eng": {"a", "b"}},
	}
	e := newEngine(t, cfg)
	l := mustGrant(t, e, t0, req("cad", who("b", "h")))
	if l.Reserved != 1 {
		t.Fatalf("Reserved %d", l.Reserved)
	}
	next := cloneConfig(cfg)
	next.Features[0].Reserve = []Reservation{{Seats: 1, Who: Subject{Kind: User, Name: "a"}}, {Seats: 2, Who: Subject{Kind: Host, Name: "lab"}}}
	evs, err := e.Reload(t0, next, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := kinds(evs); !slices.Equal(got, []events.Kind{events.Unreserved, events.Reserved}) {
		t.Fatalf("events %v", got)
	}
	if evs[0].Reason != "group=eng" || evs[1].Reason != "host=lab" || evs[1].Host != "lab" || evs[1].Count != 2 {
		t.Errorf("events %+v", evs)
	}
	if got, _ := e.Lease(l.ID); got.Reserved != 0 {
		t.Errorf("lease keeps a share of a removed reservation: %+v", got)
	}
	// 4 seats, 3 reserved, b holds the only unreserved one.
	if res, _ := e.Checkout(t0, req("cad", who("c", "h")), nil); res.Reason != ReservedSeats {
		t.Errorf("checkout after reload: %+v", res)
	}
}

func TestReloadInvalid(t *testing.T) {
	cfg := Config{Features: []Feature{{Name: "cad", Seats: 1}}}
	e := newEngine(t, cfg)
	l := mustGrant(t, e, t0, req("cad", alice()))
	evs, err := e.Reload(t0, Config{Features: []Feature{{Name: "cad", Seats: -5}}}, nil)
	if err == nil || !strings.Contains(err.Error(), "negative seats") || len(evs) != 0 {
		t.Fatalf("invalid reload: %v %+v", err, evs)
	}
	if e.Config().Features[0].Seats != 1 {
		t.Error("an invalid reload changed the configuration")
	}
	if _, ok := e.Lease(l.ID); !ok {
		t.Error("an invalid reload lost a lease")
	}
}

func TestReloadTTL(t *testing.T) {
	cfg := Config{Features: []Feature{{Name: "cad", Seats: 1, LeaseTTL: time.Minute}}}
	e := newEngine(t, cfg)
	l := mustGrant(t, e, t0, req("cad", alice()))
	cfg = cloneConfig(cfg)
	cfg.Features[0].LeaseTTL = 5 * time.Minute
	if _, err := e.Reload(t0, cfg, nil); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.Lease(l.ID); !got.Expires.Equal(at(time.Minute)) || got.TTL != 5*time.Minute {
		t.Errorf("after reload: %+v (expiry kept, next heartbeat uses the new TTL)", got)
	}
	hb, _ := e.Heartbeat(at(time.Second), l.ID)
	if !hb.Expires.Equal(at(5*time.Minute + time.Second)) {
		t.Errorf("heartbeat after reload: %+v", hb)
	}
}

func cloneConfig(c Config) Config {
	out := c
	out.Features = slices.Clone(c.Features)
	for i := range out.Features {
		f := &out.Features[i]
		f.Reserve = slices.Clone(f.Reserve)
		f.Max = slices.Clone(f.Max)
	}
	return out
}
