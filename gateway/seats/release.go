package seats

import (
	"time"

	"github.com/licensegw/licensegw/gateway/events"
)

// Heartbeat renews lease: its expiry moves to now + the feature's TTL. A
// borrowed lease needs no heartbeat and is returned unchanged. A lease that
// is not live gives a *GoneError saying why. Heartbeats make no event: they
// are soft state, and a restart gives every lease a fresh TTL (Revive).
func (e *Engine) Heartbeat(now time.Time, id string) (Lease, error) {
	l, ok := e.leases[id]
	if !ok {
		return Lease{}, e.gone(id)
	}
	if l.Borrowed {
		return l.Lease, nil
	}
	if !l.pool.retired {
		l.TTL = l.pool.ttl // a reload's new TTL applies from the next heartbeat
	}
	l.Expires = now.UTC().Add(l.TTL)
	l.tm.at = l.Expires.UnixNano()
	e.timers.fix(l.tm.idx)
	return l.Lease, nil
}

func (e *Engine) gone(id string) error {
	return &GoneError{Lease: id, Reason: e.tombs.reason(id)}
}

// Checkin gives lease back: a checkin event (returned for a borrowed lease),
// then the events of queue heads the freed seats go to.
func (e *Engine) Checkin(now time.Time, id string, evs []events.Event) ([]events.Event, error) {
	l, ok := e.leases[id]
	if !ok {
		return evs, e.gone(id)
	}
	kind := events.Checkin
	if l.Borrowed {
		kind = events.Returned
	}
	return e.end(now.UTC(), l, kind, "", evs), nil
}

// Remove releases lease on an administrator's order: a removed event, and a
// later heartbeat hears GONE reason=removed.
func (e *Engine) Remove(now time.Time, id string, evs []events.Event) ([]events.Event, error) {
	l, ok := e.leases[id]
	if !ok {
		return evs, e.gone(id)
	}
	return e.end(now.UTC(), l, events.Removed, "", evs), nil
}

// Cancel ends a waiting ticket with reason (Cancelled when empty, or
// Disconnected when its connection closed), then grants the queue heads that
// it held back.
func (e *Engine) Cancel(now time.Time, id string, reason Reason, evs []events.Event) ([]events.Event, error) {
	t, ok := e.tickets[id]
	if !ok {
		return evs, ErrUnknownTicket
	}
	if reason == "" {
		reason = Cancelled
	}
	now = now.UTC()
	p := t.pool
	e.dropTicket(t)
	evs = e.ticketEvent(evs, events.Dequeued, now, t, reason)
	return e.grantHeads(now, p, evs), nil
}

// Tick does what is due at now, in deadline order: leases whose TTL passed
// expire, borrows that reached their end are returned (reason "ended"),
// tickets whose wait ran out are dequeued (reason timeout); each freed seat
// goes to its queue's head.
//
// The ledger calls Tick when NextDeadline has passed; calling it before
// serving a request when NextDeadline <= now makes a lapsed lease's seat
// available to that request.
func (e *Engine) Tick(now time.Time, evs []events.Event) []events.Event {
	now = now.UTC()
	limit := now.UnixNano()
	for len(e.timers) > 0 && e.timers[0].at <= limit {
		tm := e.timers[0]
		if l := tm.l; l != nil {
			if l.Borrowed {
				evs = e.end(now, l, events.Returned, "ended", evs)
			} else {
				evs = e.end(now, l, events.Expired, "", evs)
			}
			continue
		}
		t := tm.t
		p := t.pool
		e.dropTicket(t)
		evs = e.ticketEvent(evs, events.Dequeued, now, t, Timeout)
		evs = e.grantHeads(now, p, evs)
	}
	return evs
}

// end releases l with an event of kind, remembers why for GONE answers, and
// grants what the freed seats allow.
func (e *Engine) end(now time.Time, l *lease, kind events.Kind, reason string, evs []events.Event) []events.Event {
	p := l.pool
	e.release(l)
	evs = e.leaseEvent(evs, kind, now, l, p)
	ev := &evs[len(evs)-1]
	ev.Reason = reason
	ev.HeldMS = e.heldMS(now.Sub(l.Granted))
	e.tombstone(kind, reason, l.ID)
	e.recycle(l)
	return e.grantHeads(now, p, evs)
}

// release takes l out of the state. The struct stays readable until recycle.
func (e *Engine) release(l *lease) {
	p := l.pool
	p.account(l, -1)
	if l.prev != nil {
		l.prev.next = l.next
	} else {
		p.head = l.next
	}
	if l.next != nil {
		l.next.prev = l.prev
	} else {
		p.tail = l.prev
	}
	p.rebalance()
	delete(e.leases, l.ID)
	if l.Key != "" && e.keys[l.Key] == l {
		delete(e.keys, l.Key)
	}
	e.timers.remove(&l.tm)
	if p.retired && p.head == nil && len(p.queue) == 0 {
		delete(e.pools, p.key)
	}
}

func (e *Engine) recycle(l *lease) {
	*l = lease{next: e.free}
	e.free = l
}

// tombstone notes why an ended lease is gone.
func (e *Engine) tombstone(kind events.Kind, reason, id string) {
	switch {
	case kind == events.Expired, kind == events.Returned && reason == "ended":
		e.tombs.add(id, GoneExpired)
	case kind == events.Removed:
		e.tombs.add(id, GoneRemoved)
	}
}

// grantHeads grants p's queue heads in order while the head can be served,
// stopping at the first that cannot (strict FIFO). A head that can no longer
// be served at all (the licence expired, a reload excluded it, a MAX policy
// is reached) is dequeued with that reason rather than blocking the queue.
func (e *Engine) grantHeads(now time.Time, p *pool, evs []events.Event) []events.Event {
	for len(p.queue) > 0 && !p.retired {
		t := p.queue[0]
		st, reason := p.evaluate(now, &t.Client, t.Count, 0, true)
		if st == stageSeats {
			break
		}
		e.dropTicket(t)
		if st != stageGrant {
			evs = e.ticketEvent(evs, events.Dequeued, now, t, reason)
			continue
		}
		l := e.grant(now, p, &t.Client, t.Count, 0, origin{ticket: t.ID})
		evs = e.leaseEvent(evs, events.Checkout, now, l, p)
	}
	return evs
}
