package seats

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/licensegw/licensegw/gateway/events"
)

// scenario runs a little of everything and returns its events.
func scenario(t *testing.T, e *Engine) []events.Event {
	t.Helper()
	var evs []events.Event
	var res Result
	res, evs = e.Checkout(t0, CheckoutRequest{Feature: "cad", Count: 2, Client: who("alice", "h")}, evs)
	first := res.Lease.ID
	_, evs = e.Checkout(t0, CheckoutRequest{Feature: "cad", Client: who("bob", "h"), Borrow: time.Hour}, evs)
	_, evs = e.Checkout(t0, CheckoutRequest{Feature: "cad", Client: who("carol", "h"), Wait: time.Hour}, evs)
	_, evs = e.Checkout(t0, CheckoutRequest{Feature: "cad", Client: who("dave", "h"), Wait: time.Hour}, evs) // his reservation: granted past the queue
	_, evs = e.Checkout(t0, CheckoutRequest{Feature: "cad", Count: 2, Client: who("erin", "h"), Wait: time.Hour}, evs)
	_, evs = e.Checkout(t0, CheckoutRequest{Feature: "nope", Client: who("eve", "h")}, evs)
	evs, _ = e.Checkin(at(time.Minute), first, evs) // carol (head) gets a seat
	res, evs = e.Checkout(at(time.Minute), CheckoutRequest{Feature: "solo", Client: who("x", "h")}, evs)
	evs, _ = e.Remove(at(time.Minute), res.Lease.ID, evs)
	_, evs = e.Checkout(at(time.Minute), CheckoutRequest{Feature: "solo", Client: who("y", "h")}, evs)
	evs = e.Tick(at(10*time.Minute), evs) // y's lease expires (TTL 2m)
	return evs
}

func replayConfig() Config {
	return Config{Features: []Feature{
		{Name: "cad", Seats: 4, LeaseTTL: time.Hour, Queue: true, Borrow: true, Reserve: []Reservation{{Seats: 1, Who: Subject{Kind: User, Name: "dave"}}}},
		{Name: "solo", Seats: 1, LeaseTTL: 2 * time.Minute},
	}}
}

func TestReplay(t *testing.T) {
	e := newEngine(t, replayConfig())
	evs := scenario(t, e)
	want := map[events.Kind]int{events.Checkout: 5, events.Borrowed: 1, events.Queued: 2, events.Denied: 1, events.Checkin: 1, events.Removed: 1, events.Expired: 1}
	got := map[events.Kind]int{}
	for _, ev := range evs {
		got[ev.Kind]++
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("scenario events %v, want %v", got, want)
	}
	r := newEngine(t, replayConfig())
	for _, ev := range evs {
		if err := r.Apply(ev); err != nil {
			t.Fatalf("Apply(%+v): %v", ev, err)
		}
	}
	assertSameState(t, e.State(), r.State())
	// An event delivered twice (at-least-once delivery) changes nothing.
	d := newEngine(t, replayConfig())
	for _, ev := range evs {
		for range 2 {
			if err := d.Apply(ev); err != nil {
				t.Fatal(err)
			}
		}
	}
	assertSameState(t, e.State(), d.State())
	// The default counter continues after the replayed identifiers.
	res, _ := r.Checkout(at(time.Hour), CheckoutRequest{Feature: "solo", Client: alice()}, nil)
	if _, ok := e.Lease(res.Lease.ID); ok || res.Lease.ID == "" {
		t.Errorf("a restarted engine reissued %q", res.Lease.ID)
	}
}

func TestApplyErrors(t *testing.T) {
	e := newEngine(t, replayConfig())
	for _, ev := range []events.Event{
		{Kind: "bogus"},
		{Kind: events.Checkout, Feature: "cad", Count: 1},
		{Kind: events.Borrowed, Feature: "cad", Lease: "L1", Count: 1},
		{Kind: events.Queued, Feature: "cad", Ticket: "T1"},
		{Kind: events.Checkin},
	} {
		if err := e.Apply(ev); !errors.Is(err, ErrBadEvent) {
			t.Errorf("Apply(%+v) = %v, want ErrBadEvent", ev, err)
		}
	}
	// An event of a pool no longer configured makes a retired pool.
	if err := e.Apply(events.Event{Kind: events.Checkout, Time: t0, Vendor: "acme", Feature: "gone", Version: "2", Lease: "Lx", Count: 2, Seats: 5}); err != nil {
		t.Fatal(err)
	}
	st := e.Status()[0]
	if !st.Retired || st.InUse != 2 || st.Feature.Seats != 0 || st.Feature.Name != "gone" {
		t.Errorf("retired pool %+v", st)
	}
}

func TestRevive(t *testing.T) {
	e := newEngine(t, replayConfig())
	evs := scenario(t, e)
	r := newEngine(t, replayConfig())
	for _, ev := range evs {
		if err := r.Apply(ev); err != nil {
			t.Fatal(err)
		}
	}
	later := at(time.Hour + 30*time.Minute) // after the borrow's end
	out := r.Revive(later, nil)
	if len(out) != 1 || out[0].Kind != events.Dequeued || out[0].Reason != string(Restarted) || out[0].User != "erin" {
		t.Fatalf("revive events %+v", out)
	}
	for _, l := range r.State().Leases {
		if !l.Borrowed && !l.Expires.Equal(later.Add(l.TTL)) {
			t.Errorf("lease %s expires %s, want a fresh TTL", l.ID, l.Expires)
		}
	}
	out = r.Tick(later, nil)
	if len(out) != 1 || out[0].Kind != events.Returned || out[0].Reason != "ended" {
		t.Errorf("the past borrow did not end at the first tick: %+v", out)
	}
}

func TestStateJSONRoundTrip(t *testing.T) {
	e := newEngine(t, replayConfig())
	scenario(t, e)
	s := e.State()
	if len(s.Leases) == 0 || len(s.Tickets) == 0 || len(s.Tombstones) == 0 {
		t.Fatalf("scenario state too thin: %+v", s)
	}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var back State
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(s, back) {
		t.Fatalf("JSON round trip changed the state\n got %+v\nwant %+v", back, s)
	}
	r := newEngine(t, replayConfig())
	if err := r.Restore(back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(r.State(), s) {
		t.Fatalf("Restore: state differs\n got %+v\nwant %+v", r.State(), s)
	}
	if !r.NextDeadline().Equal(e.NextDeadline()) {
		t.Errorf("NextDeadline %s, want %s", r.NextDeadline(), e.NextDeadline())
	}
	if !reflect.DeepEqual(r.Status(), e.Status()) {
		t.Errorf("Status differs after Restore")
	}
	if err := r.Restore(State{Leases: []Lease{{ID: "a", Count: 1}, {ID: "a", Count: 1}}}); err == nil {
		t.Error("Restore accepted duplicate leases")
	}
}

// assertSameState compares two states, ignoring the expiry and TTL of leases
// that are not borrowed (heartbeats are not journaled) and the connection
// of keyed bound leases (nor is a rebind).
func assertSameState(t testing.TB, want, got State) {
	t.Helper()
	if err := sameState(want, got); err != nil {
		t.Fatal(err)
	}
}

func sameState(want, got State) error {
	norm := func(s State) State {
		out := s
		out.Leases = make([]Lease, len(s.Leases))
		for i, l := range s.Leases {
			if !l.Borrowed {
				l.Expires, l.TTL = time.Time{}, 0
			}
			if l.Bound && l.Key != "" {
				// The connection a keyed ask rebound it to is not
				// journaled either (rebind.go).
				l.Client.Node, l.Client.Plugin = "", ""
			}
			out.Leases[i] = l
		}
		if len(out.Tickets) == 0 {
			out.Tickets = nil
		}
		if len(out.Tombstones) == 0 {
			out.Tombstones = nil
		}
		if len(out.Leases) == 0 {
			out.Leases = nil
		}
		return out
	}
	w, g := norm(want), norm(got)
	if !reflect.DeepEqual(w, g) {
		return &stateDiff{want: w, got: g}
	}
	return nil
}

type stateDiff struct{ want, got State }

func (d *stateDiff) Error() string {
	b1, _ := json.MarshalIndent(d.want, "", " ")
	b2, _ := json.MarshalIndent(d.got, "", " ")
	return "replayed state differs\nwant " + string(b1) + "\n got " + string(b2)
}
