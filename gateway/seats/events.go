package seats

import (
	"time"

	"github.com/licensegw/licensegw/gateway/events"
)

// event appends an event about pool p to evs, with the pool's counts as they
// are now (callers emit after changing the state), who asked, and the time.
func (e *Engine) event(evs []events.Event, kind events.Kind, now time.Time, p *pool, c *Client, count int) []events.Event {
	return append(evs, events.Event{
		Time:     now,
		Kind:     kind,
		Vendor:   p.key.Vendor,
		Feature:  p.key.Name,
		Version:  p.key.Version,
		Count:    count,
		User:     c.User,
		Host:     c.Host,
		Display:  c.Display,
		Project:  c.Project,
		Protocol: c.Protocol,
		Plugin:   c.Plugin,
		Client:   c.Addr,
		InUse:    p.inUse,
		Seats:    p.feat.Seats,
		Queued:   p.queuedSeats,
	})
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
	ev.Ticket = l.Ticket
	return evs
}
