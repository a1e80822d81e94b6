package seats

import (
	"cmp"
	"fmt"
	"slices"
)

// State is the engine's dynamic state, everything a snapshot needs besides
// the configuration: it survives a JSON round trip.
type State struct {
	Leases     []Lease     // in grant order
	Tickets    []Ticket    // in queue order (so each pool's queue head first)
	Tombstones []Tombstone // oldest first

	// Counter is the last identifier the default generator (Options.NewID
	// nil) made, so that a restored engine never reissues one.
	Counter uint64 `json:",omitempty"`
}

// State returns a copy of the dynamic state.
func (e *Engine) State() State {
	s := State{Leases: make([]Lease, 0, len(e.leases)), Tickets: make([]Ticket, 0, len(e.tickets))}
	ls := make([]*lease, 0, len(e.leases))
	for _, l := range e.leases {
		ls = append(ls, l)
	}
	slices.SortFunc(ls, func(a, b *lease) int { return cmp.Compare(a.tm.seq, b.tm.seq) })
	for _, l := range ls {
		s.Leases = append(s.Leases, l.Lease)
	}
	ts := make([]*ticket, 0, len(e.tickets))
	for _, t := range e.tickets {
		ts = append(ts, t)
	}
	slices.SortFunc(ts, func(a, b *ticket) int { return cmp.Compare(a.tm.seq, b.tm.seq) })
	for _, t := range ts {
		out := t.Ticket
		out.Position = t.pool.position(t)
		s.Tickets = append(s.Tickets, out)
	}
	s.Tombstones = e.tombs.list()
	s.Counter = e.counter
	return s
}

// Restore replaces the dynamic state with s; the configuration stays. Leases
// and tickets of pools the configuration does not name go to retired pools.
// Reservation shares are recomputed (they follow from the configuration).
func (e *Engine) Restore(s State) error {
	seenL := make(map[string]bool, len(s.Leases))
	for _, l := range s.Leases {
		if l.ID == "" || l.Count <= 0 || seenL[l.ID] {
			return fmt.Errorf("seats: restore: bad or duplicate lease %q", l.ID)
		}
		seenL[l.ID] = true
	}
	seenT := make(map[string]bool, len(s.Tickets))
	for _, t := range s.Tickets {
		if t.ID == "" || t.Count <= 0 || seenT[t.ID] {
			return fmt.Errorf("seats: restore: bad or duplicate ticket %q", t.ID)
		}
		seenT[t.ID] = true
	}
	e.leases = make(map[string]*lease, len(s.Leases))
	e.keys = make(map[string]*lease)
	e.tickets = make(map[string]*ticket, len(s.Tickets))
	e.timers = nil
	e.free = nil
	for key, p := range e.pools {
		if p.retired {
			delete(e.pools, key)
			continue
		}
		p.head, p.tail, p.queue, p.queuedSeats = nil, nil, nil, 0
		p.recount()
	}
	for _, in := range s.Leases {
		p := e.pools[in.Pool]
		if p == nil {
			p = e.retiredPool(in.Pool)
		}
		l := e.newLease()
		l.Lease = in
		l.Granted, l.Expires = in.Granted.UTC(), in.Expires.UTC()
		e.addLease(p, l)
		e.sawID(in.ID)
	}
	for _, in := range s.Tickets {
		p := e.pools[in.Pool]
		if p == nil {
			p = e.retiredPool(in.Pool)
		}
		t := &ticket{Ticket: in}
		t.Position = 0
		t.Queued, t.Deadline = in.Queued.UTC(), in.Deadline.UTC()
		e.addTicket(p, t)
		e.sawID(in.ID)
	}
	e.tombs.reset()
	for _, ts := range s.Tombstones {
		e.tombs.add(ts.Lease, ts.Reason)
	}
	e.counter = max(e.counter, s.Counter)
	return nil
}

// Status returns every pool, retired ones included, sorted by vendor, name
// and version; each pool's leases sorted by grant time then ID, its tickets
// in queue order.
func (e *Engine) Status() []PoolStatus { return e.StatusOf(nil, true) }

// StatusOf reports the pools match accepts (all when match is nil), in
// Status's order; without holders, Leases and Tickets are left out, so that
// a status of a pool with many holders costs its counts only.
func (e *Engine) StatusOf(match func(PoolKey) bool, holders bool) []PoolStatus {
	ps := e.sortedPools()
	out := make([]PoolStatus, 0, len(ps))
	for _, p := range ps {
		if match != nil && !match(p.key) {
			continue
		}
		st := PoolStatus{Feature: p.feat, InUse: p.inUse, Queued: p.queuedSeats, Retired: p.retired}
		if len(p.reserves) > 0 {
			st.ReservedUse = make([]int, len(p.reserves))
			for i, r := range p.reserves {
				st.ReservedUse[i] = r.used
				st.Reserved += max(0, r.Seats-r.used)
			}
		}
		if !holders {
			out = append(out, st)
			continue
		}
		for l := p.head; l != nil; l = l.next {
			st.Leases = append(st.Leases, l.Lease)
		}
		slices.SortFunc(st.Leases, func(a, b Lease) int {
			if c := a.Granted.Compare(b.Granted); c != 0 {
				return c
			}
			return cmp.Compare(a.ID, b.ID)
		})
		for i, t := range p.queue {
			tt := t.Ticket
			tt.Position = i + 1
			st.Tickets = append(st.Tickets, tt)
		}
		out = append(out, st)
	}
	return out
}
