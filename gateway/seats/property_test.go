package seats

import (
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/licensegw/licensegw/gateway/events"
	"pgregory.net/rapid"
)

// propStates are the states TestProperties must reach, each in at least the
// given share of its cases: a property test that never fills a queue cannot
// catch a queue that admits one too many, whatever its invariants say.
func propStates() []struct {
	name string
	min  float64
} {
	return []struct {
		name string
		min  float64
	}{
		{"queue full", 0.05}, {"queue 2 deep", 0.07}, {"ticket promoted", 0.15},
		{"ticket timeout", 0.07}, {"MaxWait capped", 0.10}, {"lease expired", 0.15},
		{"heartbeat extended", 0.20}, {"heartbeat outlived first expiry", 0.04},
		{"borrow ended", 0.04}, {"borrow given back", 0.08}, {"released bound", 0.15},
		{"denied no-seats", 0.20}, {"denied reserved", 0.15}, {"denied limit", 0.08},
		{"denied excluded", 0.25}, {"denied not-started", 0.10}, {"denied expired", 0.04},
		{"denied borrow", 0.25}, {"denied count", 0.50}, {"denied version", 0.50},
		{"denied unknown-feature", 0.50}, {"granted under include", 0.15},
		{"MAX reached", 0.06}, {"retired pool with leases", 0.08},
		{"removed", 0.30}, {"key retransmitted", 0.15}, {"revived tickets", 0.08},
		{"bound lease rebound", 0.01},
	}
}

// TestProperties runs random operation sequences through the engine and
// checks every step against a model built from the configuration, the
// requests and the events; a twin restored from a snapshot must answer the
// same, and the events alone must rebuild the state. It then asserts that
// the runs reached every state of propStates often enough.
func TestProperties(t *testing.T) {
	reached := map[string]int{}
	cases := 0
	// Three runs of rapid's checks (100 each by default, -rapid.checks):
	// enough cases for the shares below to be stable, still seconds.
	for range 3 {
		rapid.Check(t, func(t *rapid.T) {
			m := runProperty(t)
			cases++
			for s := range m.seen {
				reached[s]++
			}
		})
		if t.Failed() {
			return
		}
	}
	for _, s := range propStates() {
		t.Logf("%-32s %4d of %d cases", s.name, reached[s.name], cases)
		if share := float64(reached[s.name]) / float64(cases); share < s.min && cases >= 100 {
			t.Errorf("state %q reached in %d of %d cases, want at least %.0f%%", s.name, reached[s.name], cases, 100*s.min)
		}
	}
}

// propOps weights the operations: mostly checkouts, then the ways a lease
// ends and time moves.
var propOps = []string{
	"checkout", "checkout", "checkout", "checkout", "checkout",
	"heartbeat", "heartbeat", "checkin", "checkin", "remove", "cancel",
	"advance", "deadline", "tick", "tick", "reload", "release",
}

// runProperty runs one random sequence and returns the model it built.
func runProperty(t *rapid.T) *propModel {
	cfg := genConfig(t)
	orig := cloneConfig(cfg)
	e, err := New(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	m := newPropModel(cfg)
	now := t0
	var ticketIDs []string
	prev := map[PoolKey]poolUse{}
	var evs []events.Event
	// pick mostly chooses a live lease, sometimes one that ended or one
	// that never existed.
	pick := func(ids []string, label string) string {
		switch live := slices.Sorted(maps.Keys(m.live)); {
		case oneIn(t, 10, label+"bogus"):
			return "nope"
		case len(live) > 0 && !oneIn(t, 3, label+"ended"):
			return rapid.SampledFrom(live).Draw(t, label)
		case len(ids) > 0:
			return rapid.SampledFrom(ids).Draw(t, label)
		}
		return "nope"
	}
	steps := 40 + rapid.IntRange(0, 120).Draw(t, "steps")
	// From a random step on, a twin restored from a JSON snapshot runs the
	// same operations and must answer exactly the same.
	snapAt := rapid.IntRange(0, steps).Draw(t, "snapshot")
	var twin *Engine
	for step := range steps {
		if step == snapAt {
			twin = restoredTwin(t, e, cfg)
		}
		evs = evs[:0]
		reload, ticked := false, false
		var again func(x *Engine) []events.Event // the same operation on the twin
		switch op := rapid.SampledFrom(propOps).Draw(t, "op"); op {
		case "checkout":
			evs, again = propCheckout(t, e, m, now, evs)
			if id := lastTicket(evs); id != "" {
				ticketIDs = append(ticketIDs, id)
			}
		case "heartbeat":
			id := pick(m.ids, "hb")
			before := m.expires[id]
			hb, err := e.Heartbeat(now, id)
			again = func(x *Engine) []events.Event {
				if got, err2 := x.Heartbeat(now, id); got != hb || fmt.Sprint(err2) != fmt.Sprint(err) {
					t.Fatalf("twin heartbeat %+v %v, want %+v %v", got, err2, hb, err)
				}
				return nil
			}
			_, live := m.live[id]
			if (err == nil) != live {
				t.Fatalf("heartbeat %s: %v, live %v", id, err, live)
			}
			if live {
				m.heartbeat(id, now)
				if m.expires[id].After(before) {
					m.seen["heartbeat extended"] = true
				}
			}
		case "checkin":
			id := pick(m.ids, "ci")
			evs, err = e.Checkin(now, id, evs)
			checkGone(t, m, id, err)
			again = sameError(t, err, func(x *Engine) ([]events.Event, error) { return x.Checkin(now, id, nil) })
		case "remove":
			id := pick(m.ids, "rm")
			evs, err = e.Remove(now, id, evs)
			checkGone(t, m, id, err)
			if err == nil {
				m.seen["removed"] = true
			}
			again = sameError(t, err, func(x *Engine) ([]events.Event, error) { return x.Remove(now, id, nil) })
		case "cancel":
			id := pick(ticketIDs, "cancel")
			reason := rapid.SampledFrom([]Reason{Cancelled, Disconnected}).Draw(t, "reason")
			evs, err = e.Cancel(now, id, reason, evs)
			again = sameError(t, err, func(x *Engine) ([]events.Event, error) { return x.Cancel(now, id, reason, nil) })
			if _, waiting := m.tickets[id]; (err == nil) != waiting {
				t.Fatalf("cancel %s: %v, waiting %v", id, err, waiting)
			}
		case "advance":
			now = now.Add(time.Duration(rapid.IntRange(0, 600).Draw(t, "advance")) * time.Second)
		case "deadline":
			// Exactly to the next deadline, or just short of it: the
			// boundaries of expiry.
			if d := e.NextDeadline(); d.After(now) {
				now = d.Add(-time.Duration(rapid.IntRange(0, 1).Draw(t, "short")) * time.Millisecond)
			}
		case "tick":
			evs = e.Tick(now, evs)
			again = func(x *Engine) []events.Event { return x.Tick(now, nil) }
			if d := e.NextDeadline(); !d.IsZero() && !d.After(now) {
				t.Fatalf("after Tick(%s) NextDeadline is %s", now, d)
			}
			ticked = true
		case "reload":
			cfg = mutate(t, cfg, orig)
			evs, err = e.Reload(now, cfg, evs)
			if err != nil {
				t.Fatalf("reload: %v", err)
			}
			m.reload(cfg)
			again = sameError(t, nil, func(x *Engine) ([]events.Event, error) { return x.Reload(now, cfg, nil) })
			reload = true
		case "release":
			plugin := rapid.SampledFrom(propPlugins).Draw(t, "plugin")
			evs = e.ReleaseBound(now, plugin, evs)
			again = func(x *Engine) []events.Event { return x.ReleaseBound(now, plugin, nil) }
			checkReleased(t, m, plugin, evs)
		}
		m.observe(t, evs)
		prev = checkInvariants(t, e, m, prev, reload, now, ticked)
		if twin != nil && again != nil {
			if out := again(twin); !reflect.DeepEqual(normEvents(out), normEvents(evs)) {
				t.Fatalf("twin events\n got %+v\nwant %+v", out, evs)
			}
			if got, want := normEmpty(twin.State()), normEmpty(e.State()); !reflect.DeepEqual(got, want) {
				t.Fatalf("twin state\n got %+v\nwant %+v", got, want)
			}
		}
	}
	checkReplay(t, e, m, cfg, now)
	return m
}

// lastTicket is the ticket of the last event, if it queued one.
func lastTicket(evs []events.Event) string {
	if len(evs) == 0 || evs[len(evs)-1].Kind != events.Queued {
		return ""
	}
	return evs[len(evs)-1].Ticket
}

// sameError returns a twin operation that must fail exactly as the engine's
// did (err) and returns the twin's events.
func sameError(t *rapid.T, err error, op func(x *Engine) ([]events.Event, error)) func(x *Engine) []events.Event {
	return func(x *Engine) []events.Event {
		out, err2 := op(x)
		if fmt.Sprint(err2) != fmt.Sprint(err) {
			t.Fatalf("twin error %v, want %v", err2, err)
		}
		return out
	}
}

// propCheckout draws and makes a checkout, checks its result against the
// model and returns the events and the same operation for the
// twin.
func propCheckout(t *rapid.T, e *Engine, m *propModel, now time.Time, evs []events.Event) ([]events.Event, func(x *Engine) []events.Event) {
	r := genRequest(t)
	var res Result
	res, evs = e.Checkout(now, r, evs)
	again := func(x *Engine) []events.Event {
		got, out := x.Checkout(now, r, nil)
		if !reflect.DeepEqual(got, res) {
			t.Fatalf("twin checkout %+v, want %+v", got, res)
		}
		return out
	}
	retransmit := false
	if r.Key != "" {
		for id := range m.live {
			if l, ok := e.Lease(id); ok && l.Key == r.Key && id != res.Lease.ID {
				t.Fatalf("key %s granted %s while %s holds it", r.Key, res.Lease.ID, id)
			}
		}
		_, retransmit = m.live[res.Lease.ID]
	}
	switch {
	case retransmit:
		// The key's lease is still live: the same lease, no event, no
		// seat.
		if res.Outcome != Granted || len(evs) != 0 {
			t.Fatalf("retransmission of %s: %+v, events %+v", r.Key, res, evs)
		}
		m.seen["key retransmitted"] = true
		if ev := m.live[res.Lease.ID]; ev.Bound && r.Bound {
			// A bound lease moves to the connection that asked again.
			ev.Plugin = r.Client.Plugin
			m.live[res.Lease.ID] = ev
			m.seen["bound lease rebound"] = true
		}
	case res.Outcome == Granted:
		if len(evs) != 1 || evs[0].Lease != res.Lease.ID {
			t.Fatalf("grant events %+v", evs)
		}
		// A new request passes waiting tickets only on its own
		// reservation.
		if q := m.queues[res.Lease.Pool]; len(q) > 0 && res.Lease.Reserved != res.Lease.Count {
			t.Fatalf("%+v granted past waiting tickets %v", res.Lease, q)
		}
		if r.Borrow > 0 && (!res.Lease.Borrowed || !res.Lease.Expires.Equal(now.Add(r.Borrow))) {
			t.Fatalf("borrow for %s granted %+v", r.Borrow, res.Lease)
		}
	case res.Outcome == Queued:
		tk, ok := e.TicketInfo(res.Ticket)
		f, configured := m.feature(tk.Pool)
		if !ok || !configured || r.Borrow > 0 || res.Position < 1 || len(evs) != 1 || evs[0].Ticket != res.Ticket {
			t.Fatalf("queue result %+v for %+v, events %+v", res, r, evs)
		}
		wait := r.Wait
		if f.MaxWait > 0 && f.MaxWait < wait {
			wait = f.MaxWait
			m.seen["MaxWait capped"] = true
		}
		m.deadlines[res.Ticket] = now.Add(wait)
	case res.Outcome == Denied:
		if len(evs) != 1 || evs[0].Reason != string(res.Reason) {
			t.Fatalf("denial events %+v", evs)
		}
		if res.Reason == QueueFull {
			k := evKey(evs[0])
			if f, _ := m.feature(k); len(m.queues[k]) < maxQueueOf(f) {
				t.Fatalf("%s denied queue-full with %d of %d waiting", k, len(m.queues[k]), maxQueueOf(f))
			}
			m.seen["queue full"] = true
		}
	default:
		t.Fatalf("checkout outcome %v", res.Outcome)
	}
	return evs, again
}

// checkReleased checks that releasing plugin's connections ended exactly
// the leases bound to them (never a borrow that is not bound).
func checkReleased(t *rapid.T, m *propModel, plugin string, evs []events.Event) {
	want := map[string]bool{}
	for id, ev := range m.live {
		if ev.Bound && ev.Plugin == plugin {
			want[id] = true
		}
	}
	got := 0
	for _, ev := range evs {
		if ev.Kind != events.Checkin {
			continue
		}
		if !want[ev.Lease] || ev.Reason != string(Disconnected) {
			t.Fatalf("releasing %s ended %+v", plugin, ev)
		}
		got++
	}
	if got != len(want) {
		t.Fatalf("releasing %s ended %d of its %d bound leases", plugin, got, len(want))
	}
	if got > 0 {
		m.seen["released bound"] = true
	}
}

// checkReplay rebuilds the state from the events alone, revives it as a
// restart does, and round-trips a snapshot through JSON.
func checkReplay(t *rapid.T, e *Engine, m *propModel, cfg Config, now time.Time) {
	r, err := New(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range m.all {
		if err := r.Apply(ev); err != nil {
			t.Fatalf("Apply(%+v): %v", ev, err)
		}
	}
	if err := sameState(e.State(), r.State()); err != nil {
		t.Fatal(err)
	}
	// Revive after the replay: every ticket dequeued, every bound lease
	// checked in (their connections are gone), fresh TTLs, borrows kept.
	waiting, bound, borrowed := len(e.State().Tickets), 0, 0
	for _, l := range e.State().Leases {
		switch {
		case l.Bound:
			bound++
		case l.Borrowed:
			borrowed++
		}
	}
	out := r.Revive(now, nil)
	dequeued, checkins := 0, 0
	for _, ev := range out {
		switch {
		case ev.Kind == events.Dequeued && ev.Reason == string(Restarted):
			dequeued++
		case ev.Kind == events.Checkin && ev.Reason == string(Disconnected):
			checkins++
		default:
			t.Fatalf("Revive event %+v", ev)
		}
	}
	if dequeued != waiting || checkins != bound {
		t.Fatalf("Revive dequeued %d of %d tickets and checked in %d of %d bound leases", dequeued, waiting, checkins, bound)
	}
	if dequeued > 0 {
		m.seen["revived tickets"] = true
	}
	kept := 0
	for _, l := range r.State().Leases {
		if l.Borrowed {
			kept++
		} else if !l.Expires.Equal(now.Add(l.TTL)) {
			t.Fatalf("revived lease %+v has no fresh TTL", l)
		}
	}
	if kept < borrowed {
		t.Fatalf("Revive kept %d of %d borrowed leases", kept, borrowed)
	}
	if _, tk := r.Counts(); tk != 0 {
		t.Fatalf("%d tickets after Revive", tk)
	}
	// Snapshot: State survives JSON and Restore.
	b, err := json.Marshal(e.State())
	if err != nil {
		t.Fatal(err)
	}
	var s State
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	if err := r.Restore(s); err != nil {
		t.Fatal(err)
	}
	if got, want := r.State(), e.State(); !reflect.DeepEqual(normEmpty(got), normEmpty(want)) {
		t.Fatalf("Restore(JSON(State)) differs:\n got %+v\nwant %+v", got, want)
	}
	if !r.NextDeadline().Equal(e.NextDeadline()) {
		t.Fatalf("restored NextDeadline %s, want %s", r.NextDeadline(), e.NextDeadline())
	}
}

// restoredTwin returns a fresh engine restored from a JSON snapshot of e.
func restoredTwin(t *rapid.T, e *Engine, cfg Config) *Engine {
	b, err := json.Marshal(e.State())
	if err != nil {
		t.Fatal(err)
	}
	var s State
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	twin, err := New(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := twin.Restore(s); err != nil {
		t.Fatal(err)
	}
	return twin
}

func normEvents(evs []events.Event) []events.Event {
	if len(evs) == 0 {
		return nil
	}
	return evs
}

func normEmpty(s State) State {
	if len(s.Leases) == 0 {
		s.Leases = nil
	}
	if len(s.Tickets) == 0 {
		s.Tickets = nil
	}
	if len(s.Tombstones) == 0 {
		s.Tombstones = nil
	}
	return s
}

func checkGone(t *rapid.T, m *propModel, id string, err error) {
	if _, live := m.live[id]; live {
		if err != nil {
			t.Fatalf("%s is live but: %v", id, err)
		}
		return
	}
	gone, ok := err.(*GoneError)
	if !ok {
		t.Fatalf("%s: %v, want *GoneError", id, err)
	}
	want := GoneUnknown
	switch m.ended[id] {
	case events.Expired:
		want = GoneExpired
	case events.Removed:
		want = GoneRemoved
	case events.Returned:
		want = "" // expired when the borrow ended, unknown when given back
	}
	if want != "" && gone.Reason != want {
		t.Fatalf("%s ended by %s: gone reason %s, want %s", id, m.ended[id], gone.Reason, want)
	}
}
