package seats

import (
	"testing"
)

func TestReservations(t *testing.T) {
	cfg := Config{
		Features: []Feature{{Name: "cad", Seats: 4, Reserve: []Reservation{
			{Seats: 2, Who: Subject{Kind: Group, Name: "eng"}},
			{Seats: 1, Who: Subject{Kind: User, Name: "carol"}},
		}}},
		Groups: map[string][]string{"eng": {"alice", "bob"}},
	}
	type step struct {
		c        Client
		count    int
		want     Reason // "" = granted
		reserved int    // Lease.Reserved when granted
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"outsiders get only the unreserved seat", []step{
			{who("dave", "h"), 1, "", 0},
			{who("dave", "h"), 1, ReservedSeats, 0},
			{who("alice", "h"), 1, "", 1},
			{who("bob", "h"), 1, "", 1},
			{who("carol", "h"), 1, "", 1},
			{who("alice", "h"), 1, NoSeats, 0},
		}},
		{"a holder uses its reservation first, then unreserved seats", []step{
			{who("alice", "h"), 3, "", 2},
			{who("dave", "h"), 1, ReservedSeats, 0}, // carol's seat is left
			{who("carol", "h"), 1, "", 1},
		}},
		{"a holder whose reservation is used takes unreserved seats", []step{
			{who("alice", "h"), 2, "", 2},
			{who("bob", "h"), 1, "", 0},
			{who("dave", "h"), 1, ReservedSeats, 0},
			{who("bob", "h"), 1, ReservedSeats, 0}, // carol's seat only
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEngine(t, cfg)
			for i, s := range tt.steps {
				res, _ := e.Checkout(t0, CheckoutRequest{Feature: "cad", Count: s.count, Client: s.c}, nil)
				if s.want == "" {
					if res.Outcome != Granted {
						t.Fatalf("step %d: %v %s, want granted", i, res.Outcome, res.Reason)
					}
					if res.Lease.Reserved != s.reserved {
						t.Errorf("step %d: Reserved = %d, want %d", i, res.Lease.Reserved, s.reserved)
					}
					continue
				}
				if res.Outcome != Denied || res.Reason != s.want {
					t.Fatalf("step %d: %v %s, want %s", i, res.Outcome, res.Reason, s.want)
				}
			}
		})
	}
}

// TestReservationMovesOnRelease checks the canonical share: when a lease
// holding a reserved seat ends, a later lease of the same holder takes the
// seat over, so the unreserved seat it held frees for anyone.
func TestReservationMovesOnRelease(t *testing.T) {
	e := newEngine(t, Config{Features: []Feature{{Name: "cad", Seats: 2, Reserve: []Reservation{{Seats: 1, Who: Subject{Kind: User, Name: "alice"}}}}}})
	a1 := mustGrant(t, e, t0, req("cad", who("alice", "h")))
	a2 := mustGrant(t, e, t0, req("cad", who("alice", "h")))
	if a1.Reserved != 1 || a2.Reserved != 0 {
		t.Fatalf("reserved shares %d, %d", a1.Reserved, a2.Reserved)
	}
	if _, err := e.Checkin(t0, a1.ID, nil); err != nil {
		t.Fatal(err)
	}
	if l, _ := e.Lease(a2.ID); l.Reserved != 1 {
		t.Errorf("after release the remaining lease has Reserved %d, want 1", l.Reserved)
	}
	mustGrant(t, e, t0, req("cad", who("bob", "h")))
	st := e.Status()[0]
	if st.InUse != 2 || st.Reserved != 0 || len(st.ReservedUse) != 1 || st.ReservedUse[0] != 1 {
		t.Errorf("status %+v", st)
	}
}

func TestLimits(t *testing.T) {
	cfg := Config{
		Features: []Feature{{Name: "cad", Seats: 10, Max: []Limit{
			{Seats: 3, Who: Subject{Kind: Group, Name: "eng"}},
			{Seats: 1, Who: Subject{Kind: User, Name: "bob"}},
			{Seats: 0, Who: Subject{Kind: Host, Name: "kiosk"}},
		}}},
		Groups: map[string][]string{"eng": {"alice", "bob"}},
	}
	e := newEngine(t, cfg)
	mustGrant(t, e, t0, CheckoutRequest{Feature: "cad", Count: 2, Client: who("alice", "h")})
	b := mustGrant(t, e, t0, req("cad", who("bob", "h")))
	for _, tt := range []struct {
		c     Client
		count int
		want  Reason
	}{
		{who("bob", "h"), 1, LimitReached},   // bob's own MAX 1
		{who("alice", "h"), 1, LimitReached}, // eng's MAX 3 (2 + 1 held)
		{who("dave", "kiosk"), 1, LimitReached},
		{who("dave", "h"), 7, ""},
	} {
		res, _ := e.Checkout(t0, CheckoutRequest{Feature: "cad", Count: tt.count, Client: tt.c, Wait: 60e9}, nil)
		if tt.want == "" {
			if res.Outcome != Granted {
				t.Errorf("%+v: %v %s, want granted", tt.c, res.Outcome, res.Reason)
			}
			continue
		}
		if res.Outcome != Denied || res.Reason != tt.want || res.InUse == 0 || res.Seats != 10 {
			t.Errorf("%+v: %+v, want denied %s with counts (a limit does not queue)", tt.c, res, tt.want)
		}
	}
	if _, err := e.Checkin(t0, b.ID, nil); err != nil {
		t.Fatal(err)
	}
	// dave holds 7 of 10, alice 2: one left, and eng is below its MAX again.
	mustGrant(t, e, t0, req("cad", who("alice", "h")))
}

// TestOverlappingReservations is the case a first-fit rule gets wrong: a
// client matching two reservations must not strand a seat of the one that
// another client needs.
func TestOverlappingReservations(t *testing.T) {
	cfg := Config{Features: []Feature{{Name: "cad", Seats: 3, Reserve: []Reservation{
		{Seats: 1, Who: Subject{Kind: User, Name: "u1"}},
		{Seats: 2, Who: Subject{Kind: Host, Name: "h2"}},
	}}}}
	e := newEngine(t, cfg)
	first := mustGrant(t, e, t0, req("cad", who("u1", "h1")))
	both := mustGrant(t, e, t0, CheckoutRequest{Feature: "cad", Count: 2, Client: who("u1", "h2")})
	if first.Reserved != 1 || both.Reserved != 2 {
		t.Fatalf("shares %d, %d, want 1, 2", first.Reserved, both.Reserved)
	}
	if _, err := e.Checkin(t0, first.ID, nil); err != nil {
		t.Fatal(err)
	}
	// u1@h2 sits in the host reservation, so u1's own seat is free for u1
	// anywhere, and for nobody else.
	if res, _ := e.Checkout(t0, req("cad", who("u9", "h9")), nil); res.Reason != ReservedSeats {
		t.Errorf("an outsider: %+v, want reserved", res)
	}
	again := mustGrant(t, e, t0, req("cad", who("u1", "h1")))
	if again.Reserved != 1 {
		t.Errorf("u1's share %d, want 1", again.Reserved)
	}
	st := e.Status()[0]
	if st.Reserved != 0 || st.ReservedUse[0] != 1 || st.ReservedUse[1] != 2 {
		t.Errorf("status %+v", st)
	}
}

// TestReservationFlowIsOptimal: whatever the order of grants, every seat a
// reservation can cover is covered.
func TestReservationFlowIsOptimal(t *testing.T) {
	cfg := Config{
		Features: []Feature{{Name: "cad", Seats: 4, Reserve: []Reservation{
			{Seats: 1, Who: Subject{Kind: Group, Name: "g"}},
			{Seats: 1, Who: Subject{Kind: User, Name: "b"}},
			{Seats: 1, Who: Subject{Kind: Host, Name: "x"}},
		}}},
		Groups: map[string][]string{"g": {"a", "b"}},
	}
	e := newEngine(t, cfg)
	// b@x matches all three; a@x two; then a lone c@x one.
	mustGrant(t, e, t0, req("cad", who("b", "x")))
	mustGrant(t, e, t0, req("cad", who("a", "x")))
	mustGrant(t, e, t0, req("cad", who("c", "x")))
	st := e.Status()[0]
	if st.Reserved != 0 {
		t.Fatalf("status %+v: all three reservations should be in use", st)
	}
	for _, l := range st.Leases {
		if l.Reserved != 1 {
			t.Errorf("lease %s of %s: Reserved %d, want 1", l.ID, l.Client.User, l.Reserved)
		}
	}
}
