package seats

import (
	"fmt"
	"time"

	"github.com/licensegw/licensegw/gateway/events"
)

// Reload replaces the configuration and keeps every lease.
//
//   - A pool that cfg no longer names is retired: its leases stay until they
//     end, its tickets are dequeued (reason removed), its reservations are
//     dropped (unreserved events) and new checkouts find no such feature.
//   - A pool that stays takes its new policy. Its leases stay even when the
//     seats were lowered below those in use; nothing is granted until fewer
//     seats are in use than exist. Reservation changes are reserved and
//     unreserved events.
//   - A new pool starts empty (reserved events for its reservations).
//
// Then every queue is offered the seats the change freed. An invalid cfg is
// refused with Validate's error and changes nothing.
func (e *Engine) Reload(now time.Time, cfg Config, evs []events.Event) ([]events.Event, error) {
	if err := Validate(cfg); err != nil {
		return evs, fmt.Errorf("seats: reload refused: %w", err)
	}
	now = now.UTC()
	fresh := compile(cfg)
	users := groupSets(cfg.Groups)
	hosts := groupSets(cfg.HostGroups)
	for _, p := range e.sortedPools() {
		if _, ok := fresh[p.key]; ok || p.retired {
			continue
		}
		old := p.reserves
		for len(p.queue) > 0 {
			t := p.queue[0]
			e.dropTicket(t)
			evs = e.ticketEvent(evs, events.Dequeued, now, t, FeatureGone)
		}
		p.retire()
		for _, r := range old {
			evs = e.reservationEvent(evs, events.Unreserved, now, p, r.Reservation)
		}
		if p.head == nil {
			delete(e.pools, p.key)
		}
	}
	for _, f := range cfg.Features {
		key := keyOf(&f)
		p, ok := e.pools[key]
		var before []Reservation
		if ok {
			before = make([]Reservation, 0, len(p.reserves))
			for _, r := range p.reserves {
				before = append(before, r.Reservation)
			}
		} else {
			p = fresh[key]
			e.pools[key] = p
		}
		p.configure(f, users, hosts)
		p.recount()
		for l := p.head; l != nil; l = l.next {
			if !l.Borrowed {
				l.TTL = p.ttl // the next heartbeat renews with the new TTL
			}
		}
		added, removed := diffReservations(before, f.Reserve)
		for _, r := range removed {
			evs = e.reservationEvent(evs, events.Unreserved, now, p, r)
		}
		for _, r := range added {
			evs = e.reservationEvent(evs, events.Reserved, now, p, r)
		}
	}
	e.cfg = cfg
	e.reindex()
	for _, p := range e.sortedPools() {
		evs = e.grantHeads(now, p, evs)
	}
	return evs, nil
}

// diffReservations compares two lists of reservations as multisets.
func diffReservations(before, after []Reservation) (added, removed []Reservation) {
	left := make(map[Reservation]int, len(before))
	for _, r := range before {
		left[r]++
	}
	for _, r := range after {
		if left[r] > 0 {
			left[r]--
			continue
		}
		added = append(added, r)
	}
	for _, r := range before {
		if left[r] > 0 {
			left[r]--
			removed = append(removed, r)
		}
	}
	return added, removed
}

// reservationEvent appends a reserved or unreserved event: Count is the
// reservation's seats and Reason names who it is for as kind=name; for a user,
// host, display or project reservation that field is filled as well.
func (e *Engine) reservationEvent(evs []events.Event, kind events.Kind, now time.Time, p *pool, r Reservation) []events.Event {
	var c Client
	switch r.Who.Kind {
	case User:
		c.User = r.Who.Name
	case Host:
		c.Host = r.Who.Name
	case Display:
		c.Display = r.Who.Name
	case Project:
		c.Project = r.Who.Name
	}
	evs = e.event(evs, kind, now, p, &c, r.Seats)
	evs[len(evs)-1].Reason = r.Who.String()
	return evs
}
