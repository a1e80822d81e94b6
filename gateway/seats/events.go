package seats

import (
	"time"

	"github.com/licensegw/licensegw/gateway/events"
)

// event appends an event about pool p to evs, with the pool's counts as they
// are now (callers emit after changing the state), who asked, and the time.
func (e *Engine) event(evs []events.Event, kind events.Kind, now time.Time, p *pool, c *Client, count int) []events.Event {
	// Filled in place: appending a composite literal would build the large
	// struct on the stack and copy it.
	evs = append(evs, events.Event{})
	ev := &evs[len(evs)-1]
	ev.Time = now
	ev.Kind = kind
	ev.Vendor = p.key.Vendor
	ev.Feature = p.key.Name
	ev.Version = p.key.Version
	ev.Count = count
	ev.User = c.User
	ev.Host = c.Host
	ev.Display = c.Display
	ev.Project = c.Project
	ev.Protocol = c.Protocol
	ev.Plugin = c.Plugin
	ev.Client = c.Addr
	ev.InUse = p.inUse
	ev.Seats = p.feat.Seats
	ev.Queued = p.queuedSeats
	return evs
}

// heldMS returns a pointer for Event.HeldMS. The values live in a slab so
// that a checkin costs a fraction of an allocation rather than one.
func (e *Engine) heldMS(d time.Duration) *int64 {
	if len(e.held) == cap(e.held) {
		e.held = make([]int64, 0, 256)
	}
	e.held = append(e.held, d.Milliseconds())
	return &e.held[len(e.held)-1]
}

// stamp returns a pointer for Event.Expires, from a slab like heldMS.
func (e *Engine) stamp(t time.Time) *time.Time {
	if len(e.stamps) == cap(e.stamps) {
		e.stamps = make([]time.Time, 0, 64)
	}
	e.stamps = append(e.stamps, t)
	return &e.stamps[len(e.stamps)-1]
}

// leaseEvent appends an event about lease l (checkout, borrowed, or an end).
func (e *Engine) leaseEvent(evs []events.Event, kind events.Kind, now time.Time, l *lease, p *pool) []events.Event {
	evs = e.event(evs, kind, now, p, &l.Client, l.Count)
	ev := &evs[len(evs)-1]
	ev.Lease = l.ID
	if kind == events.Checkout || kind == events.Borrowed {
		ev.Ticket = l.Ticket // the grant of a queue ticket ends it (Apply)
		ev.Bound = l.Bound
		ev.Request = l.Key
		ev.ConnNode = l.Client.Node
	}
	return evs
}
