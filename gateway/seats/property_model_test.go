package seats

import (
	"slices"
	"strings"
	"time"

	"github.com/licensegw/licensegw/gateway/events"
	"pgregory.net/rapid"
)

// propModel is what the test knows from the configuration, the requests
// and the events alone. It decides, independently of the engine, when each
// lease and ticket must end and which clients a policy matches.
type propModel struct {
	cfg       Config                  // in force
	live      map[string]events.Event // lease -> the event that created it
	ended     map[string]events.Kind  // lease -> how it ended
	expires   map[string]time.Time    // lease -> when it must end (TTL or borrow end)
	ttl       map[string]time.Duration
	queues    map[PoolKey][]string // tickets, head first
	tickets   map[string]PoolKey
	deadlines map[string]time.Time // ticket -> when it must time out
	ids       []string             // every lease ever granted, directly or from a queue
	all       []events.Event
	seen      map[string]bool // the states this case reached (coverage)
}

func newPropModel(cfg Config) *propModel {
	return &propModel{
		cfg: cfg, live: map[string]events.Event{}, ended: map[string]events.Kind{},
		expires: map[string]time.Time{}, ttl: map[string]time.Duration{},
		queues: map[PoolKey][]string{}, tickets: map[string]PoolKey{},
		deadlines: map[string]time.Time{}, seen: map[string]bool{},
	}
}

func evKey(ev events.Event) PoolKey {
	return PoolKey{Vendor: ev.Vendor, Name: ev.Feature, Version: ev.Version}
}

func evClient(ev events.Event) Client {
	return Client{User: ev.User, Host: ev.Host, Display: ev.Display, Project: ev.Project, Addr: ev.Client, Plugin: ev.Plugin}
}

// feature returns the configured feature of a pool, if the configuration in
// force names it.
func (m *propModel) feature(key PoolKey) (Feature, bool) {
	for _, f := range m.cfg.Features {
		if keyOf(&f) == key {
			return f, true
		}
	}
	return Feature{}, false
}

func ttlOf(f Feature) time.Duration {
	if f.LeaseTTL > 0 {
		return f.LeaseTTL
	}
	return DefaultLeaseTTL
}

func maxQueueOf(f Feature) int {
	if f.MaxQueue > 0 {
		return f.MaxQueue
	}
	return DefaultMaxQueue
}

// propMatch is the test's own reading of a policy subject (the engine's is
// compiled; this one is written from the documentation).
func propMatch(s Subject, c Client) bool {
	switch s.Kind {
	case User:
		return c.User == s.Name
	case Host:
		return c.Host == s.Name
	case Project:
		return c.Project == s.Name
	case Group:
		return slices.Contains(propGroups[s.Name], c.User)
	case HostGroup:
		return slices.Contains(propHGs[s.Name], c.Host)
	case Internet:
		ip := strings.Split(strings.Split(c.Addr, ":")[0], ".")
		pat := strings.Split(s.Name, ".")
		for i := range pat {
			if pat[i] != "*" && pat[i] != ip[i] {
				return false
			}
		}
		return true
	}
	return false
}

func propMatchAny(ss []Subject, c Client) bool {
	return slices.ContainsFunc(ss, func(s Subject) bool { return propMatch(s, c) })
}

// mayUse says whether f's dates and include/exclude lists let c use it at now.
func mayUse(f Feature, c Client, now time.Time) bool {
	if !f.Start.IsZero() && now.Before(f.Start) || !f.Expiry.IsZero() && !now.Before(f.Expiry) {
		return false
	}
	return !propMatchAny(f.Exclude, c) && (len(f.Include) == 0 || propMatchAny(f.Include, c))
}

// observe checks each new event against the model and updates it.
func (m *propModel) observe(t *rapid.T, evs []events.Event) {
	for _, ev := range evs {
		if ev.Time.IsZero() || ev.Vendor == "" || ev.ID != "" || ev.Schema != "" {
			t.Fatalf("event fields: %+v", ev)
		}
		switch ev.Kind {
		case events.Checkout, events.Borrowed:
			m.observeGrant(t, ev)
		case events.Checkin, events.Expired, events.Removed, events.Returned:
			m.observeEnd(t, ev)
		case events.Queued:
			k := evKey(ev)
			m.queues[k] = append(m.queues[k], ev.Ticket)
			m.tickets[ev.Ticket] = k
			if ev.Queued <= 0 || ev.Expires == nil {
				t.Fatalf("queued event %+v", ev)
			}
			if f, ok := m.feature(k); !ok || len(m.queues[k]) > maxQueueOf(f) {
				t.Fatalf("%s queues %d tickets, max_queue %d", k, len(m.queues[k]), maxQueueOf(f))
			}
			if len(m.queues[k]) >= 2 {
				m.seen["queue 2 deep"] = true
			}
		case events.Dequeued:
			k, ok := m.tickets[ev.Ticket]
			if !ok || ev.Reason == "" {
				t.Fatalf("dequeue of unknown ticket %+v", ev)
			}
			if ev.Reason == string(Timeout) {
				if d := m.deadlines[ev.Ticket]; ev.Time.Before(d) {
					t.Fatalf("ticket %s timed out at %s, its deadline is %s", ev.Ticket, ev.Time, d)
				}
				m.seen["ticket timeout"] = true
			}
			m.queues[k] = slices.DeleteFunc(m.queues[k], func(s string) bool { return s == ev.Ticket })
			delete(m.tickets, ev.Ticket)
			delete(m.deadlines, ev.Ticket)
		case events.Denied:
			m.seen["denied "+ev.Reason] = true
		}
	}
	m.all = append(m.all, evs...)
}

// observeGrant checks a new lease: in-use bound, lease id, queue order, and
// the feature's dates, include and exclude at the time of the grant.
func (m *propModel) observeGrant(t *rapid.T, ev events.Event) {
	if ev.InUse > ev.Seats {
		t.Fatalf("%s brings in_use %d above seats %d", ev.Kind, ev.InUse, ev.Seats)
	}
	if _, dup := m.live[ev.Lease]; dup || m.ended[ev.Lease] != "" || ev.Lease == "" {
		t.Fatalf("lease id %q reused", ev.Lease)
	}
	f, ok := m.feature(evKey(ev))
	if !ok {
		t.Fatalf("grant of a pool not configured: %+v", ev)
	}
	if c := evClient(ev); !mayUse(f, c, ev.Time) {
		t.Fatalf("grant at %s of %+v to %+v", ev.Time, f, c)
	}
	if len(f.Include) > 0 {
		m.seen["granted under include"] = true
	}
	if ev.Ticket != "" {
		q := m.queues[evKey(ev)]
		if len(q) == 0 || q[0] != ev.Ticket {
			t.Fatalf("grant of ticket %s out of queue order %v", ev.Ticket, q)
		}
		m.queues[evKey(ev)] = q[1:]
		delete(m.tickets, ev.Ticket)
		delete(m.deadlines, ev.Ticket)
		m.seen["ticket promoted"] = true
	}
	m.live[ev.Lease] = ev
	m.ids = append(m.ids, ev.Lease)
	if ev.Kind == events.Borrowed {
		if ev.Expires == nil {
			t.Fatalf("borrowed without expires: %+v", ev)
		}
		m.expires[ev.Lease] = *ev.Expires // checked against the request by the caller
		return
	}
	m.ttl[ev.Lease] = ttlOf(f)
	m.expires[ev.Lease] = ev.Time.Add(ttlOf(f))
}

// observeEnd checks the end of a lease: it was live, and an expiry or the
// end of a borrow comes no earlier than the model says.
func (m *propModel) observeEnd(t *rapid.T, ev events.Event) {
	start, ok := m.live[ev.Lease]
	if !ok {
		t.Fatalf("%s of a lease not live: %s", ev.Kind, ev.Lease)
	}
	if ev.HeldMS == nil || *ev.HeldMS < 0 || ev.Ticket != "" {
		t.Fatalf("%s without held_ms or with a ticket: %+v", ev.Kind, ev)
	}
	borrowed := start.Kind == events.Borrowed
	switch {
	case ev.Kind == events.Expired:
		if borrowed || ev.Time.Before(m.expires[ev.Lease]) {
			t.Fatalf("lease %s (borrowed %v) expired at %s, it lives until %s", ev.Lease, borrowed, ev.Time, m.expires[ev.Lease])
		}
		m.seen["lease expired"] = true
		if m.expires[ev.Lease].After(start.Time.Add(m.ttl[ev.Lease])) {
			m.seen["heartbeat outlived first expiry"] = true
		}
	case ev.Kind == events.Returned && ev.Reason == "ended":
		if !borrowed || ev.Time.Before(m.expires[ev.Lease]) {
			t.Fatalf("borrow %s ended at %s, it lasts until %s", ev.Lease, ev.Time, m.expires[ev.Lease])
		}
		m.seen["borrow ended"] = true
	case ev.Kind == events.Returned:
		if !borrowed {
			t.Fatalf("returned a lease that was not borrowed: %+v", ev)
		}
		m.seen["borrow given back"] = true
	}
	delete(m.live, ev.Lease)
	delete(m.expires, ev.Lease)
	m.ended[ev.Lease] = ev.Kind
}

// reload takes a new configuration: the leases of every pool it names take
// its TTL for their next heartbeat; a retired pool's leases keep the TTL
// last in force.
func (m *propModel) reload(cfg Config) {
	m.cfg = cfg
	for id, ev := range m.live {
		if f, ok := m.feature(evKey(ev)); ok && ev.Kind != events.Borrowed {
			m.ttl[id] = ttlOf(f)
		}
	}
}

// heartbeat is what a successful heartbeat of id at now must do: renew a
// lease for the TTL in force; a borrow keeps its end.
func (m *propModel) heartbeat(id string, now time.Time) {
	ev := m.live[id]
	if ev.Kind == events.Borrowed {
		return
	}
	m.expires[id] = now.Add(m.ttl[id])
}

type poolUse struct{ inUse, unreserved int }

// checkInvariants compares the engine with the model and checks every
// policy: seats, reservations, MAX limits, queue bounds, expiry times and
// ticket deadlines. After a Tick (ticked), nothing may be left whose time
// has come.
func checkInvariants(t *rapid.T, e *Engine, m *propModel, prev map[PoolKey]poolUse, reload bool, now time.Time, ticked bool) map[PoolKey]poolUse {
	// Every lease ever granted is live in both the engine and the model, or
	// ended by an event; a live lease ends exactly when the model says.
	for _, id := range m.ids {
		l, inEngine := e.Lease(id)
		_, live := m.live[id]
		if inEngine != live || !live && m.ended[id] == "" {
			t.Fatalf("lease %s: engine %v, model live %v, ended %q", id, inEngine, live, m.ended[id])
		}
		if !live {
			continue
		}
		if !l.Expires.Equal(m.expires[id]) {
			t.Fatalf("lease %s expires %s, want %s (granted %s, ttl %s)", id, l.Expires, m.expires[id], l.Granted, m.ttl[id])
		}
		if ticked && !l.Expires.After(now) {
			t.Fatalf("after Tick(%s) lease %s is live, it expired at %s", now, id, l.Expires)
		}
	}
	nl, nt := e.Counts()
	if nl != len(m.live) || nt != len(m.tickets) {
		t.Fatalf("Counts %d/%d, model %d/%d", nl, nt, len(m.live), len(m.tickets))
	}
	next := map[PoolKey]poolUse{}
	var deadline time.Time
	for _, st := range e.Status() {
		u, d := checkPool(t, st, m, prev[keyOf(&st.Feature)], reload, now, ticked)
		if !d.IsZero() && (deadline.IsZero() || d.Before(deadline)) {
			deadline = d
		}
		next[keyOf(&st.Feature)] = u
	}
	if got := e.NextDeadline(); !got.Equal(deadline) {
		t.Fatalf("NextDeadline %s, want %s", got, deadline)
	}
	return next
}

// checkPool checks one pool's status and returns its use and its earliest
// deadline.
func checkPool(t *rapid.T, st PoolStatus, m *propModel, p poolUse, reload bool, now time.Time, ticked bool) (poolUse, time.Time) {
	f := st.Feature
	key := keyOf(&f)
	u := poolUse{}
	reserved := 0
	var deadline time.Time
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
		if !tk.Deadline.Equal(m.deadlines[tk.ID]) {
			t.Fatalf("ticket %s deadline %s, want %s", tk.ID, tk.Deadline, m.deadlines[tk.ID])
		}
		if ticked && !tk.Deadline.After(now) {
			t.Fatalf("after Tick(%s) ticket %s still waits, its deadline was %s", now, tk.ID, tk.Deadline)
		}
		if deadline.IsZero() || tk.Deadline.Before(deadline) {
			deadline = tk.Deadline
		}
	}
	if !slices.Equal(qs, m.queues[key]) {
		t.Fatalf("%s queue %v, events say %v", key, qs, m.queues[key])
	}
	if len(qs) > maxQueueOf(f) {
		t.Fatalf("%s: %d tickets wait, max_queue %d", key, len(qs), maxQueueOf(f))
	}
	if u.inUse != st.InUse {
		t.Fatalf("%s: InUse %d, leases hold %d", key, st.InUse, u.inUse)
	}
	if !st.Retired {
		checkLimits(t, st, m)
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
	if !reload && !st.Retired {
		// Seats in use never grow above the seats; the unreserved leases
		// never grow into reserved seats. (A reload may leave a pool over;
		// then nothing is granted until it is under.)
		if u.inUse > max(f.Seats, p.inUse) {
			t.Fatalf("%s: %d seats in use of %d (was %d)", key, u.inUse, f.Seats, p.inUse)
		}
		if capacity := f.Seats - sumRes; u.unreserved > max(capacity, p.unreserved) {
			t.Fatalf("%s: unreserved leases hold %d, only %d unreserved seats (was %d)", key, u.unreserved, capacity, p.unreserved)
		}
	}
	if st.Retired && len(st.Leases) > 0 {
		m.seen["retired pool with leases"] = true
	}
	return u, deadline
}

// checkLimits checks every MAX policy of a pool against the leases its
// subjects hold (the configuration's limits never change in this test, so
// no reload can leave one over).
func checkLimits(t *rapid.T, st PoolStatus, m *propModel) {
	f, ok := m.feature(keyOf(&st.Feature))
	if !ok {
		t.Fatalf("pool %s is not retired and not configured", keyOf(&st.Feature))
	}
	for _, lim := range f.Max {
		held := 0
		for _, l := range st.Leases {
			if propMatch(lim.Who, l.Client) {
				held += l.Count
			}
		}
		if held > lim.Seats {
			t.Fatalf("%s: MAX %d for %v, its subjects hold %d", keyOf(&f), lim.Seats, lim.Who, held)
		}
		if held > 0 && held == lim.Seats {
			m.seen["MAX reached"] = true
		}
	}
}
