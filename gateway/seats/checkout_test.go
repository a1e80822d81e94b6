package seats

import (
	"testing"
	"time"

	"github.com/licensegw/licensegw/gateway/events"
)

func TestCheckoutDenials(t *testing.T) {
	cfg := Config{
		Features: []Feature{
			{Name: "cad", Version: "2024.1", Seats: 2},
			{Name: "future", Seats: 5, Start: at(time.Hour)},
			{Name: "old", Seats: 5, Expiry: at(0)},
			{Name: "vip", Seats: 5, Include: []Subject{{Kind: Group, Name: "eng"}}},
			{Name: "nobob", Seats: 5, Exclude: []Subject{{Kind: User, Name: "bob"}, {Kind: Internet, Name: "192.168.*.*"}}},
			{Name: "capped", Seats: 5, Max: []Limit{{Seats: 1, Who: Subject{Kind: HostGroup, Name: "lab"}}}},
			{Name: "kept", Seats: 3, Reserve: []Reservation{{Seats: 2, Who: Subject{Kind: User, Name: "carol"}}}},
			{Name: "lend", Seats: 5, Borrow: true, MaxBorrow: 24 * time.Hour},
		},
		Groups:     map[string][]string{"eng": {"alice"}},
		HostGroups: map[string][]string{"lab": {"lab-1", "lab-2"}},
	}
	tests := []struct {
		name   string
		before []CheckoutRequest // granted first
		req    CheckoutRequest
		want   Reason
		inUse  int // for no-seats, reserved, limit, count
		seats  int
	}{
		{"unknown feature", nil, req("nope", alice()), UnknownFeature, 0, 0},
		{"unknown vendor", nil, CheckoutRequest{Vendor: "acme", Feature: "cad", Client: alice()}, UnknownFeature, 0, 0},
		{"version too high", nil, CheckoutRequest{Feature: "cad", Version: "2025", Client: alice()}, VersionTooHigh, 0, 0},
		{"not started", nil, req("future", alice()), NotStarted, 0, 0},
		{"expired", nil, req("old", alice()), LicenceExpired, 0, 0},
		{"not included", nil, req("vip", who("bob", "h")), Excluded, 0, 0},
		{"excluded user", nil, req("nobob", who("bob", "h")), Excluded, 0, 0},
		{"excluded internet", nil, req("nobob", Client{User: "al", Addr: "192.168.0.9:1"}), Excluded, 0, 0},
		{"count", nil, CheckoutRequest{Feature: "cad", Count: 3, Client: alice()}, TooMany, 0, 2},
		{"count after one", []CheckoutRequest{req("cad", alice())}, CheckoutRequest{Feature: "cad", Count: 3, Client: alice()}, TooMany, 1, 2},
		{"count beyond 32 bits", nil, CheckoutRequest{Feature: "cad", Count: 1 << 32, Client: alice()}, TooMany, 0, 2},
		{"borrow not allowed", nil, CheckoutRequest{Feature: "cad", Borrow: time.Hour, Client: alice()}, BorrowRefused, 0, 0},
		{"borrow too long", nil, CheckoutRequest{Feature: "lend", Borrow: 25 * time.Hour, Client: alice()}, BorrowRefused, 0, 0},
		{"limit", []CheckoutRequest{req("capped", who("x", "lab-1"))}, req("capped", who("y", "lab-2")), LimitReached, 1, 5},
		{"no seats", []CheckoutRequest{req("cad", alice()), req("cad", alice())}, req("cad", alice()), NoSeats, 2, 2},
		{"reserved", nil, CheckoutRequest{Feature: "kept", Count: 2, Client: alice()}, ReservedSeats, 0, 3},
		{"reserved after one", []CheckoutRequest{req("kept", alice())}, req("kept", alice()), ReservedSeats, 1, 3},
		{"no seats beats reserved", []CheckoutRequest{req("kept", alice()), {Feature: "kept", Count: 2, Client: who("carol", "h")}}, req("kept", alice()), NoSeats, 3, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEngine(t, cfg)
			for _, b := range tt.before {
				mustGrant(t, e, t0, b)
			}
			res, evs := e.Checkout(t0, tt.req, nil)
			if res.Outcome != Denied || res.Reason != tt.want {
				t.Fatalf("got outcome %v reason %q (%s), want denied %q", res.Outcome, res.Reason, res.Message, tt.want)
			}
			if res.Message == "" {
				t.Error("no message")
			}
			if res.InUse != tt.inUse || res.Seats != tt.seats {
				t.Errorf("in_use/seats = %d/%d, want %d/%d", res.InUse, res.Seats, tt.inUse, tt.seats)
			}
			if len(evs) != 1 {
				t.Fatalf("events: %+v", evs)
			}
			ev := evs[0]
			if ev.Kind != events.Denied || ev.Reason != string(tt.want) || ev.Feature != tt.req.Feature || ev.User != tt.req.Client.User || ev.Vendor == "" || ev.Lease != "" {
				t.Errorf("denied event: %+v", ev)
			}
			if l, _ := e.Counts(); l != len(tt.before) {
				t.Errorf("leases = %d after a denial, want %d", l, len(tt.before))
			}
		})
	}
}

// TestCheckOrder checks that a request failing several checks is denied for
// the first in the documented order.
func TestCheckOrder(t *testing.T) {
	cfg := Config{Features: []Feature{{
		Name: "f", Seats: 1, Start: at(time.Hour), Expiry: at(2 * time.Hour),
		Exclude: []Subject{{Kind: User, Name: "bob"}},
	}}}
	e := newEngine(t, cfg)
	r := CheckoutRequest{Feature: "f", Count: 5, Client: who("bob", "h"), Borrow: time.Hour}
	for _, step := range []struct {
		now  time.Time
		want Reason
	}{
		{at(0), NotStarted},
		{at(3 * time.Hour), LicenceExpired},
	} {
		if res, _ := e.Checkout(step.now, r, nil); res.Reason != step.want {
			t.Errorf("at %s: reason %q, want %q", step.now, res.Reason, step.want)
		}
	}
	now := at(90 * time.Minute)
	if res, _ := e.Checkout(now, r, nil); res.Reason != Excluded {
		t.Errorf("reason %q, want excluded", res.Reason)
	}
	r.Client.User = "al"
	if res, _ := e.Checkout(now, r, nil); res.Reason != TooMany {
		t.Errorf("reason %q, want count", res.Reason)
	}
	r.Count = 1
	if res, _ := e.Checkout(now, r, nil); res.Reason != BorrowRefused {
		t.Errorf("reason %q, want borrow", res.Reason)
	}
	r.Borrow = 0
	mustGrant(t, e, now, r)
}

func TestVersionSelection(t *testing.T) {
	cfg := Config{Features: []Feature{
		{Vendor: "acme", Name: "cad", Version: "1.9", Seats: 1},
		{Vendor: "acme", Name: "cad", Version: "1.10", Seats: 1},
		{Vendor: "acme", Name: "cad", Version: "2.0", Seats: 1},
		{Vendor: "other", Name: "cad", Version: "3", Seats: 1},
	}}
	e := newEngine(t, cfg)
	tests := []struct {
		vendor, version string
		want            string // version of the pool granted, "" for a denial
		reason          Reason
	}{
		{"acme", "1.5", "1.9", ""},    // lowest that fits
		{"acme", "1.5", "1.10", ""},   // 1.9 full: next up (numeric: 1.10 > 1.9)
		{"acme", "1.10", "2.0", ""},   // 1.10 full
		{"acme", "1.10", "", NoSeats}, // all full
		{"acme", "2.1", "", VersionTooHigh},
		{"", "2.1", "3", ""}, // any vendor
		{"", "", "", NoSeats},
	}
	for i, tt := range tests {
		res, evs := e.Checkout(t0, CheckoutRequest{Vendor: tt.vendor, Feature: "cad", Version: tt.version, Client: alice()}, nil)
		if tt.want != "" {
			if res.Outcome != Granted || res.Lease.Pool.Version != tt.want {
				t.Fatalf("#%d: got %v %+v (%s), want version %s", i, res.Outcome, res.Lease.Pool, res.Reason, tt.want)
			}
			if evs[0].Version != tt.want || evs[0].InUse != 1 || evs[0].Seats != 1 {
				t.Errorf("#%d: event %+v", i, evs[0])
			}
			continue
		}
		if res.Outcome != Denied || res.Reason != tt.reason {
			t.Fatalf("#%d: got %v %q, want %q", i, res.Outcome, res.Reason, tt.reason)
		}
	}
}

func TestGrantEvent(t *testing.T) {
	e := newEngine(t, Config{Features: []Feature{{Name: "cad", Version: "1", Seats: 3, LeaseTTL: time.Minute}}})
	c := alice()
	c.Display, c.Project = ":0", "apollo"
	res, evs := e.Checkout(t0, CheckoutRequest{Feature: "cad", Count: 2, Client: c}, nil)
	if res.Outcome != Granted {
		t.Fatal(res)
	}
	l := res.Lease
	if l.ID != "L1" || l.Count != 2 || l.TTL != time.Minute || !l.Expires.Equal(at(time.Minute)) || l.Client != c || l.Borrowed {
		t.Errorf("lease %+v", l)
	}
	want := events.Event{
		Time: t0, Kind: events.Checkout, Vendor: "local", Feature: "cad", Version: "1", Lease: "L1", Count: 2,
		User: "alice", Host: "ws-01", Display: ":0", Project: "apollo", Protocol: "concurrent-lm", Plugin: "clm",
		Client: "10.1.2.3:5000", InUse: 2, Seats: 3,
	}
	if len(evs) != 1 || evs[0] != want {
		t.Errorf("event\n got %+v\nwant %+v", evs, want)
	}
	if got, ok := e.Lease("L1"); !ok || got != l {
		t.Errorf("Lease(L1) = %+v, %v", got, ok)
	}
	// Events are appended to the slice given.
	evs, _ = e.Checkin(at(time.Second), "L1", evs)
	if len(evs) != 2 || evs[1].Kind != events.Checkin || evs[1].HeldMS == nil || *evs[1].HeldMS != 1000 || evs[1].InUse != 0 {
		t.Errorf("checkin events %+v", evs)
	}
}

func TestSubjects(t *testing.T) {
	cfg := Config{
		Features: []Feature{
			{Name: "user", Seats: 9, Include: []Subject{{Kind: User, Name: "alice"}}},
			{Name: "host", Seats: 9, Include: []Subject{{Kind: Host, Name: "ws-01"}}},
			{Name: "display", Seats: 9, Include: []Subject{{Kind: Display, Name: ":0"}}},
			{Name: "project", Seats: 9, Include: []Subject{{Kind: Project, Name: "apollo"}}},
			{Name: "group", Seats: 9, Include: []Subject{{Kind: Group, Name: "eng"}}},
			{Name: "hostgroup", Seats: 9, Include: []Subject{{Kind: HostGroup, Name: "lab"}}},
			{Name: "internet", Seats: 9, Include: []Subject{{Kind: Internet, Name: "10.1.*.*"}}},
		},
		Groups:     map[string][]string{"eng": {"alice", "bob"}},
		HostGroups: map[string][]string{"lab": {"ws-01"}},
	}
	e := newEngine(t, cfg)
	in := Client{User: "alice", Host: "ws-01", Display: ":0", Project: "apollo", Addr: "10.1.200.3:6000"}
	out := Client{User: "eve", Host: "ws-99", Display: ":1", Project: "gemini", Addr: "10.2.0.1:6000"}
	for _, f := range cfg.Features {
		if res, _ := e.Checkout(t0, req(f.Name, in), nil); res.Outcome != Granted {
			t.Errorf("%s: %v %s for a matching client", f.Name, res.Outcome, res.Reason)
		}
		if res, _ := e.Checkout(t0, req(f.Name, out), nil); res.Reason != Excluded {
			t.Errorf("%s: %v %s for a client that does not match", f.Name, res.Outcome, res.Reason)
		}
	}
	for _, addr := range []string{"10.1.0.0", "[10.1.0.0]:80", "10.1.0.0:1"} {
		m := compileSubject(Subject{Kind: Internet, Name: "10.1.*.*"}, nil, nil)
		if !m.match(&Client{Addr: addr}) {
			t.Errorf("internet 10.1.*.* does not match %q", addr)
		}
	}
	for _, addr := range []string{"", "::1", "[::1]:80", "10.1.0:1", "10.1.0.256:1", "x"} {
		m := compileSubject(Subject{Kind: Internet, Name: "*.*.*.*"}, nil, nil)
		if m.match(&Client{Addr: addr}) {
			t.Errorf("internet *.*.*.* matches %q", addr)
		}
	}
}
