package seats

import (
	"errors"
	"fmt"
	"time"

	"github.com/licensegw/licensegw/gateway/events"
)

// ErrBadEvent is returned by Apply for an event it cannot replay.
var ErrBadEvent = errors.New("seats: event cannot be replayed")

// Apply replays one journaled event into the state, making no decision and
// emitting nothing: the journal already holds the decisions' events.
//
//   - checkout and borrowed create the lease (expiry: the event's time plus
//     the feature's TTL, or the borrow end in Expires); a checkout that names
//     a ticket also ends that ticket;
//   - checkin, expired, removed and returned delete the lease (expired,
//     removed and an ended borrow leave a tombstone for GONE answers);
//   - queued adds a ticket at the end of its queue (deadline: Expires);
//     dequeued deletes it;
//   - denied, reserved and unreserved change nothing.
//
// An event for a pool the configuration no longer names creates a retired
// pool for it. An event delivered twice in a row is harmless: a lease or
// ticket that exists is not created again, and one that does not exist is
// not deleted again.
func (e *Engine) Apply(ev events.Event) error {
	switch ev.Kind {
	case events.Checkout, events.Borrowed:
		if ev.Lease == "" || ev.Count <= 0 {
			return fmt.Errorf("%w: %s without lease or count", ErrBadEvent, ev.Kind)
		}
		if ev.Kind == events.Borrowed && ev.Expires == nil {
			return fmt.Errorf("%w: borrowed %s without expires", ErrBadEvent, ev.Lease)
		}
		if ev.Ticket != "" {
			if t, ok := e.tickets[ev.Ticket]; ok {
				e.dropTicket(t)
			}
		}
		if _, ok := e.leases[ev.Lease]; ok {
			return nil
		}
		p := e.replayPool(ev)
		l := e.newLease()
		l.ID = ev.Lease
		l.Pool = p.key
		l.Count = ev.Count
		l.Client = eventClient(&ev)
		l.Granted = ev.Time.UTC()
		l.Ticket, l.Bound, l.Key = ev.Ticket, ev.Bound, ev.Request
		if ev.Kind == events.Borrowed {
			l.Borrowed = true
			l.Expires = ev.Expires.UTC()
			l.TTL = l.Expires.Sub(l.Granted)
		} else {
			l.TTL = p.ttl
			l.Expires = l.Granted.Add(l.TTL)
		}
		e.addLease(p, l)
		e.sawID(ev.Lease)
	case events.Checkin, events.Expired, events.Removed, events.Returned:
		if ev.Lease == "" {
			return fmt.Errorf("%w: %s without lease", ErrBadEvent, ev.Kind)
		}
		if l, ok := e.leases[ev.Lease]; ok {
			e.release(l)
			e.recycle(l)
			e.tombstone(ev.Kind, ev.Reason, ev.Lease)
		}
	case events.Queued:
		if ev.Ticket == "" || ev.Expires == nil {
			return fmt.Errorf("%w: queued without ticket or expires", ErrBadEvent)
		}
		if _, ok := e.tickets[ev.Ticket]; ok {
			return nil
		}
		p := e.replayPool(ev)
		count := ev.Count
		if count <= 0 {
			count = 1
		}
		t := &ticket{}
		t.ID = ev.Ticket
		t.Pool = p.key
		t.Count = count
		t.Client = eventClient(&ev)
		t.Queued = ev.Time.UTC()
		t.Deadline = ev.Expires.UTC()
		e.addTicket(p, t)
		e.sawID(ev.Ticket)
	case events.Dequeued:
		if t, ok := e.tickets[ev.Ticket]; ok {
			e.dropTicket(t)
			e.dropIfIdle(t.pool)
		}
	case events.Denied, events.Reserved, events.Unreserved:
	default:
		return fmt.Errorf("%w: unknown kind %q", ErrBadEvent, ev.Kind)
	}
	return nil
}

// replayPool returns the pool an event is about, creating a retired one
// when the configuration does not name it.
func (e *Engine) replayPool(ev events.Event) *pool {
	key := PoolKey{Vendor: vendorOf(ev.Vendor), Name: ev.Feature, Version: ev.Version}
	if p, ok := e.pools[key]; ok {
		return p
	}
	return e.retiredPool(key)
}

// retiredPool makes a pool for leases of a feature the configuration does
// not name: no seats, no policy, the default TTL.
func (e *Engine) retiredPool(key PoolKey) *pool {
	p := &pool{key: key}
	p.configure(Feature{Vendor: key.Vendor, Name: key.Name, Version: key.Version}, nil, nil)
	p.retired = true
	e.pools[key] = p
	return p
}

func (e *Engine) dropIfIdle(p *pool) {
	if p.retired && p.head == nil && len(p.queue) == 0 {
		delete(e.pools, p.key)
	}
}

func eventClient(ev *events.Event) Client {
	node := ev.ConnNode
	if node == "" {
		// The deciding node held the connection itself.
		node = ev.Node
	}
	return Client{
		User: ev.User, Host: ev.Host, Display: ev.Display, Project: ev.Project,
		Addr: ev.Client, Protocol: ev.Protocol, Plugin: ev.Plugin, Node: node,
	}
}

// Revive finishes a restart after replay: every lease that is not borrowed
// gets a fresh TTL from now (heartbeats are not journaled, so the replayed
// expiries are only a lower bound, and clients need time to reconnect), and
// every ticket is dequeued (reason restart) because its waiter's connection
// died with the old process.
//
// Leases bound to their connection (CheckoutRequest.Bound) are checked in
// with reason "disconnect": their connections died with the old process too.
func (e *Engine) Revive(now time.Time, evs []events.Event) []events.Event {
	return e.ReviveKeeping(now, nil, evs)
}

// ReviveKeeping is Revive, but the bound leases whose client keep accepts
// stay: in a cluster, a new leader keeps the leases bound to connections
// that other nodes still hold (keep nil keeps none).
func (e *Engine) ReviveKeeping(now time.Time, keep func(Lease) bool, evs []events.Event) []events.Event {
	now = now.UTC()
	for _, p := range e.sortedPools() {
		for len(p.queue) > 0 {
			t := p.queue[0]
			e.dropTicket(t)
			evs = e.ticketEvent(evs, events.Dequeued, now, t, Restarted)
		}
	}
	evs = e.releaseBound(now, func(l *lease) bool { return keep == nil || !keep(l.Lease) }, evs)
	for _, l := range e.leases {
		if l.Borrowed {
			continue
		}
		l.Expires = now.Add(l.TTL)
		l.tm.at = l.Expires.UnixNano()
		e.timers.fix(l.tm.idx)
	}
	for _, p := range e.sortedPools() {
		e.dropIfIdle(p)
	}
	return evs
}

// ReleaseBound checks in, with reason "disconnect", every lease bound to a
// connection of plugin: the plugin process exited, and its connections with
// it. Then the freed seats go to the queue heads.
func (e *Engine) ReleaseBound(now time.Time, plugin string, evs []events.Event) []events.Event {
	return e.releaseBound(now.UTC(), func(l *lease) bool { return l.Client.Plugin == plugin }, evs)
}

// ReleaseBoundWhere checks in, with reason "disconnect", every bound lease
// match accepts: in a cluster, those of a node that left (its connections
// are gone) or of one plugin on one node.
func (e *Engine) ReleaseBoundWhere(now time.Time, match func(Lease) bool, evs []events.Event) []events.Event {
	return e.releaseBound(now.UTC(), func(l *lease) bool { return match(l.Lease) }, evs)
}

// BoundNodes is the set of nodes named by bound leases (Client.Node, ""
// for the deciding node's own).
func (e *Engine) BoundNodes() map[string]int {
	out := map[string]int{}
	for _, l := range e.leases {
		if l.Bound {
			out[l.Client.Node]++
		}
	}
	return out
}

// releaseBound ends the bound leases that match, pool by pool in grant order
// so that the events come out the same on every run.
func (e *Engine) releaseBound(now time.Time, match func(*lease) bool, evs []events.Event) []events.Event {
	for _, p := range e.sortedPools() {
		for l := p.head; l != nil; {
			next := l.next
			if l.Bound && match(l) {
				evs = e.end(now, l, events.Checkin, string(Disconnected), evs)
			}
			l = next
		}
	}
	return evs
}
