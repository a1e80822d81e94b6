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

var (
	propUsers  = []string{"u1", "u2", "u3", "u4"}
	propHosts  = []string{"h1", "h2", "h3"}
	propGroups = map[string][]string{"g1": {"u1", "u2"}, "g2": {"u3"}}
	propHGs    = map[string][]string{"lab": {"h1"}}
)

func genSubject(t *rapid.T, label string) Subject {
	switch rapid.IntRange(0, 4).Draw(t, label+"kind") {
	case 0:
		return Subject{User, rapid.SampledFrom(propUsers).Draw(t, label+"user")}
	case 1:
		return Subject{Host, rapid.SampledFrom(propHosts).Draw(t, label+"host")}
	case 2:
		return Subject{Group, rapid.SampledFrom([]string{"g1", "g2"}).Draw(t, label+"group")}
	case 3:
		return Subject{HostGroup, "lab"}
	}
	return Subject{Internet, rapid.SampledFrom([]string{"10.0.*.*", "10.*.1.*"}).Draw(t, label+"net")}
}

func genFeature(t *rapid.T, name, version string) Feature {
	f := Feature{
		Name: name, Version: version,
		Seats:    rapid.IntRange(0, 6).Draw(t, "seats"),
		LeaseTTL: time.Duration(rapid.IntRange(0, 3).Draw(t, "ttl")) * time.Minute,
		Queue:    rapid.IntRange(0, 3).Draw(t, "queue") > 0,
		MaxQueue: rapid.IntRange(0, 4).Draw(t, "maxqueue"),
		MaxWait:  time.Duration(rapid.IntRange(0, 300).Draw(t, "maxwait")) * time.Second,
		Borrow:   rapid.Bool().Draw(t, "borrow"),
	}
	if f.Borrow {
		f.MaxBorrow = time.Duration(rapid.IntRange(0, 3600).Draw(t, "maxborrow")) * time.Second
	}
	left := f.Seats
	for i := range rapid.IntRange(0, 2).Draw(t, "nreserve") {
		if left == 0 {
			break
		}
		n := rapid.IntRange(1, left).Draw(t, "reserve")
		left -= n
		f.Reserve = append(f.Reserve, Reservation{n, genSubject(t, fmt.Sprint("res", i))})
	}
	if rapid.IntRange(0, 2).Draw(t, "hasmax") == 0 {
		f.Max = append(f.Max, Limit{rapid.IntRange(0, 4).Draw(t, "max"), genSubject(t, "max")})
	}
	if rapid.IntRange(0, 5).Draw(t, "exclude") == 0 {
		f.Exclude = []Subject{genSubject(t, "excl")}
	}
	return f
}

func genConfig(t *rapid.T) Config {
	cfg := Config{Groups: propGroups, HostGroups: propHGs}
	cfg.Features = append(cfg.Features, genFeature(t, "cad", "1"))
	if rapid.Bool().Draw(t, "cad2") {
		cfg.Features = append(cfg.Features, genFeature(t, "cad", "2.0"))
	}
	cfg.Features = append(cfg.Features, genFeature(t, "sim", ""))
	if rapid.Bool().Draw(t, "viz") {
		f := genFeature(t, "viz", "3")
		f.Vendor = "acme"
		cfg.Features = append(cfg.Features, f)
	}
	return cfg
}

// mutate returns cfg with new seat counts (reservations trimmed to fit) and
// now and then a pool removed or added back.
func mutate(t *rapid.T, cfg, orig Config) Config {
	out := cloneConfig(cfg)
	for i := range out.Features {
		f := &out.Features[i]
		f.Seats = rapid.IntRange(0, 6).Draw(t, "newseats")
		sum := 0
		var keep []Reservation
		for _, r := range f.Reserve {
			if sum+r.Seats <= f.Seats {
				keep = append(keep, r)
				sum += r.Seats
			}
		}
		f.Reserve = keep
	}
	switch rapid.IntRange(0, 5).Draw(t, "shape") {
	case 0:
		if len(out.Features) > 1 {
			i := rapid.IntRange(0, len(out.Features)-1).Draw(t, "drop")
			out.Features = slices.Delete(out.Features, i, i+1)
		}
	case 1:
		for _, f := range orig.Features {
			if !slices.ContainsFunc(out.Features, func(g Feature) bool { return g.key() == f.key() }) {
				out.Features = append(out.Features, f)
				break
			}
		}
	}
	return out
}

// propModel is what the test knows from the events alone.
type propModel struct {
	live    map[string]events.Event // lease -> the event that created it
	ended   map[string]events.Kind  // lease -> how it ended
	queues  map[PoolKey][]string    // tickets, head first
	tickets map[string]PoolKey
	ids     []string // every lease ever granted, directly or from a queue
	all     []events.Event
}

func evKey(ev events.Event) PoolKey {
	return PoolKey{Vendor: ev.Vendor, Name: ev.Feature, Version: ev.Version}
}

// observe checks each new event against the model and updates it.
func (m *propModel) observe(t *rapid.T, evs []events.Event) {
	for _, ev := range evs {
		if ev.Time.IsZero() || ev.Vendor == "" || ev.ID != "" || ev.Schema != "" {
			t.Fatalf("event fields: %+v", ev)
		}
		switch ev.Kind {
		case events.Checkout, events.Borrowed:
			if ev.InUse > ev.Seats {
				t.Fatalf("%s brings in_use %d above seats %d", ev.Kind, ev.InUse, ev.Seats)
			}
			if _, dup := m.live[ev.Lease]; dup || m.ended[ev.Lease] != "" || ev.Lease == "" {
				t.Fatalf("lease id %q reused", ev.Lease)
			}
			if ev.Ticket != "" {
				q := m.queues[evKey(ev)]
				if len(q) == 0 || q[0] != ev.Ticket {
					t.Fatalf("grant of ticket %s out of queue order %v", ev.Ticket, q)
				}
				m.queues[evKey(ev)] = q[1:]
				delete(m.tickets, ev.Ticket)
			}
			m.live[ev.Lease] = ev
			m.ids = append(m.ids, ev.Lease)
		case events.Checkin, events.Expired, events.Removed, events.Returned:
			if _, ok := m.live[ev.Lease]; !ok {
				t.Fatalf("%s of a lease not live: %s", ev.Kind, ev.Lease)
			}
			if ev.HeldMS == nil || *ev.HeldMS < 0 || ev.Ticket != "" {
				t.Fatalf("%s without held_ms or with a ticket: %+v", ev.Kind, ev)
			}
			delete(m.live, ev.Lease)
			m.ended[ev.Lease] = ev.Kind
		case events.Queued:
			k := evKey(ev)
			m.queues[k] = append(m.queues[k], ev.Ticket)
			m.tickets[ev.Ticket] = k
			if ev.Queued <= 0 || ev.Expires == nil {
				t.Fatalf("queued event %+v", ev)
			}
		case events.Dequeued:
			k, ok := m.tickets[ev.Ticket]
			if !ok || ev.Reason == "" {
				t.Fatalf("dequeue of unknown ticket %+v", ev)
			}
			m.queues[k] = slices.DeleteFunc(m.queues[k], func(s string) bool { return s == ev.Ticket })
			delete(m.tickets, ev.Ticket)
		}
	}
	m.all = append(m.all, evs...)
}

type poolUse struct{ inUse, unreserved int }

func TestProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		cfg := genConfig(t)
		orig := cloneConfig(cfg)
		e, err := New(cfg, Options{})
		if err != nil {
			t.Fatal(err)
		}
		m := &propModel{live: map[string]events.Event{}, ended: map[string]events.Kind{}, queues: map[PoolKey][]string{}, tickets: map[string]PoolKey{}}
		now := t0
		var ticketIDs []string
		prev := map[PoolKey]poolUse{}
		var evs []events.Event
		// pick mostly chooses a live lease, sometimes one that ended or
		// one that never existed.
		pick := func(ids []string, label string) string {
			switch live := slices.Sorted(maps.Keys(m.live)); {
			case rapid.IntRange(0, 9).Draw(t, label+"bogus") == 0:
				return "nope"
			case len(live) > 0 && rapid.IntRange(0, 2).Draw(t, label+"live") > 0:
				return rapid.SampledFrom(live).Draw(t, label)
			case len(ids) > 0:
				return rapid.SampledFrom(ids).Draw(t, label)
			}
			return "nope"
		}
		steps := rapid.IntRange(1, 80).Draw(t, "steps")
		// From a random step on, a twin restored from a JSON snapshot runs
		// the same operations and must answer exactly the same.
		snapAt := rapid.IntRange(0, steps).Draw(t, "snapshot")
		var twin *Engine
		for step := range steps {
			if step == snapAt {
				twin = restoredTwin(t, e, cfg)
			}
			evs = evs[:0]
			reload := false
			var again func(x *Engine) []events.Event // the same operation on the twin
			switch op := rapid.IntRange(0, 11).Draw(t, "op"); op {
			case 0, 1, 2, 10:
				feature := rapid.SampledFrom([]string{"cad", "cad", "cad", "sim", "sim", "viz", "none"}).Draw(t, "feature")
				r := CheckoutRequest{
					Feature: feature,
					Version: rapid.SampledFrom([]string{"", "", "", "", "1", "1.5", "2", "4"}).Draw(t, "version"),
					Count:   rapid.IntRange(0, 3).Draw(t, "count"),
					Client: Client{
						User: rapid.SampledFrom(propUsers).Draw(t, "user"), Host: rapid.SampledFrom(propHosts).Draw(t, "host"),
						Addr: rapid.SampledFrom([]string{"10.0.1.2:1", "10.9.1.1:2", "192.168.0.1:3"}).Draw(t, "addr"),
					},
				}
				if rapid.Bool().Draw(t, "waits") {
					r.Wait = time.Duration(rapid.IntRange(1, 600).Draw(t, "wait")) * time.Second
				}
				if rapid.IntRange(0, 7).Draw(t, "borrows") == 0 {
					r.Borrow = time.Duration(rapid.IntRange(1, 4000).Draw(t, "borrow")) * time.Second
				}
				r.Bound = rapid.IntRange(0, 3).Draw(t, "bound") == 0
				if rapid.IntRange(0, 3).Draw(t, "keyed") == 0 {
					// A small key space: retransmissions of live
					// checkouts happen often.
					r.Key = rapid.SampledFrom([]string{"k1", "k2", "k3"}).Draw(t, "key")
				}
				var res Result
				res, evs = e.Checkout(now, r, evs)
				again = func(x *Engine) []events.Event {
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
					// The key's lease is still live: the same lease, no
					// event, no seat.
					if res.Outcome != Granted || len(evs) != 0 {
						t.Fatalf("retransmission of %s: %+v, events %+v", r.Key, res, evs)
					}
				case res.Outcome == Granted:
					if len(evs) != 1 || evs[0].Lease != res.Lease.ID {
						t.Fatalf("grant events %+v", evs)
					}
					// A new request passes waiting tickets only on its
					// own reservation.
					if q := m.queues[res.Lease.Pool]; len(q) > 0 && res.Lease.Reserved != res.Lease.Count {
						t.Fatalf("%+v granted past waiting tickets %v", res.Lease, q)
					}
				case res.Outcome == Queued:
					ticketIDs = append(ticketIDs, res.Ticket)
					if q := m.queues[res.Lease.Pool]; res.Position < 1 || len(evs) != 1 || evs[0].Ticket != res.Ticket {
						t.Fatalf("queue result %+v, events %+v, queue %v", res, evs, q)
					}
				case res.Outcome == Denied:
					if len(evs) != 1 || evs[0].Reason != string(res.Reason) {
						t.Fatalf("denial events %+v", evs)
					}
				}
			case 3:
				id := pick(m.ids, "hb")
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
			case 4, 11:
				id := pick(m.ids, "ci")
				evs, err = e.Checkin(now, id, evs)
				checkGone(t, m, id, err)
				again = func(x *Engine) []events.Event { out, _ := x.Checkin(now, id, nil); return out }
			case 5:
				id := pick(m.ids, "rm")
				evs, err = e.Remove(now, id, evs)
				checkGone(t, m, id, err)
				again = func(x *Engine) []events.Event { out, _ := x.Remove(now, id, nil); return out }
			case 6:
				id := pick(ticketIDs, "cancel")
				reason := rapid.SampledFrom([]Reason{Cancelled, Disconnected}).Draw(t, "reason")
				evs, err = e.Cancel(now, id, reason, evs)
				again = func(x *Engine) []events.Event { out, _ := x.Cancel(now, id, reason, nil); return out }
				if _, waiting := m.tickets[id]; (err == nil) != waiting {
					t.Fatalf("cancel %s: %v, waiting %v", id, err, waiting)
				}
			case 7:
				now = now.Add(time.Duration(rapid.IntRange(0, 200).Draw(t, "advance")) * time.Second)
			case 8:
				evs = e.Tick(now, evs)
				again = func(x *Engine) []events.Event { return x.Tick(now, nil) }
				if d := e.NextDeadline(); !d.IsZero() && !d.After(now) {
					t.Fatalf("after Tick(%s) NextDeadline is %s", now, d)
				}
			case 9:
				cfg = mutate(t, cfg, orig)
				evs, err = e.Reload(now, cfg, evs)
				if err != nil {
					t.Fatalf("reload: %v", err)
				}
				again = func(x *Engine) []events.Event { out, _ := x.Reload(now, cfg, nil); return out }
				reload = true
			}
			m.observe(t, evs)
			prev = checkInvariants(t, e, m, prev, reload)
			if twin != nil && again != nil {
				if out := again(twin); !reflect.DeepEqual(normEvents(out), normEvents(evs)) {
					t.Fatalf("twin events\n got %+v\nwant %+v", out, evs)
				}
				if got, want := normEmpty(twin.State()), normEmpty(e.State()); !reflect.DeepEqual(got, want) {
					t.Fatalf("twin state\n got %+v\nwant %+v", got, want)
				}
			}
		}
		// Replay: the events alone rebuild the same state.
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
		// Revive after the replay: every ticket dequeued, every bound
		// lease checked in (their connections are gone), fresh TTLs.
		waiting, bound := len(e.State().Tickets), 0
		for _, l := range e.State().Leases {
			if l.Bound {
				bound++
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
		for _, l := range r.State().Leases {
			if !l.Borrowed && !l.Expires.Equal(now.Add(l.TTL)) {
				t.Fatalf("revived lease %+v has no fresh TTL", l)
			}
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
	})
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

func checkInvariants(t *rapid.T, e *Engine, m *propModel, prev map[PoolKey]poolUse, reload bool) map[PoolKey]poolUse {
	// Every lease ever granted is live in both the engine and the model, or
	// ended by an event.
	for _, id := range m.ids {
		_, inEngine := e.Lease(id)
		_, live := m.live[id]
		if inEngine != live || !live && m.ended[id] == "" {
			t.Fatalf("lease %s: engine %v, model live %v, ended %q", id, inEngine, live, m.ended[id])
		}
	}
	nl, nt := e.Counts()
	if nl != len(m.live) || nt != len(m.tickets) {
		t.Fatalf("Counts %d/%d, model %d/%d", nl, nt, len(m.live), len(m.tickets))
	}
	next := map[PoolKey]poolUse{}
	var deadline time.Time
	for _, st := range e.Status() {
		f := st.Feature
		key := f.key()
		u := poolUse{}
		reserved := 0
		for _, l := range st.Leases {
			u.inUse += l.Count
			u.unreserved += l.Count - l.Reserved
			reserved += l.Reserved
			if deadline.IsZero() || l.Expires.Before(deadline) {
				deadline = l.Expires
			}
		}
		var qs []string
		for i, tk := range st.Tickets {
			qs = append(qs, tk.ID)
			if tk.Position != i+1 {
				t.Fatalf("ticket %s at position %d, want %d", tk.ID, tk.Position, i+1)
			}
			if deadline.IsZero() || tk.Deadline.Before(deadline) {
				deadline = tk.Deadline
			}
		}
		if !slices.Equal(qs, m.queues[key]) {
			t.Fatalf("%s queue %v, events say %v", key, qs, m.queues[key])
		}
		if u.inUse != st.InUse {
			t.Fatalf("%s: InUse %d, leases hold %d", key, st.InUse, u.inUse)
		}
		sumRes, sumUse := 0, 0
		for i, r := range f.Reserve {
			if !st.Retired && (st.ReservedUse[i] > r.Seats || st.ReservedUse[i] < 0) {
				t.Fatalf("%s: reservation %d uses %d of %d", key, i, st.ReservedUse[i], r.Seats)
			}
			sumRes += r.Seats
			if !st.Retired {
				sumUse += st.ReservedUse[i]
			}
		}
		if st.Retired {
			sumRes = 0
		}
		if sumUse != reserved {
			t.Fatalf("%s: reservations use %d, leases say %d", key, sumUse, reserved)
		}
		p := prev[key]
		if !reload && !st.Retired {
			// Seats in use never grow above the seats; the unreserved
			// leases never grow into reserved seats. (A reload may leave
			// a pool over; then nothing is granted until it is under.)
			if u.inUse > max(f.Seats, p.inUse) {
				t.Fatalf("%s: %d seats in use of %d (was %d)", key, u.inUse, f.Seats, p.inUse)
			}
			if capacity := f.Seats - sumRes; u.unreserved > max(capacity, p.unreserved) {
				t.Fatalf("%s: unreserved leases hold %d, only %d unreserved seats (was %d)", key, u.unreserved, capacity, p.unreserved)
			}
		}
		next[key] = u
	}
	if got := e.NextDeadline(); !got.Equal(deadline) {
		t.Fatalf("NextDeadline %s, want %s", got, deadline)
	}
	return next
}
