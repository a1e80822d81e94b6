package concurrentlm

import (
	"context"
	"slices"

	"github.com/licensegw/licensegw/plugins/concurrentlm/wire"
	"github.com/licensegw/licensegw/sdk"
)

// mayQueue reports whether the connection may take another queue ticket.
func (c *conn) mayQueue() bool {
	c.sm.Lock()
	defer c.sm.Unlock()
	return len(c.tickets) < c.s.lim.MaxTickets
}

// addTicket records a queued checkout; its watcher starts once QUEUED has
// been written, so the EVENT can never overtake it.
func (c *conn) addTicket(ticket, id string, bind bool, updates <-chan sdk.TicketUpdate) *ticketWatch {
	w := &ticketWatch{ticket: ticket, id: id, bind: bind, updates: updates}
	c.sm.Lock()
	if c.tickets == nil {
		c.tickets = make(map[string]*ticketWatch)
	}
	c.tickets[ticket] = w
	c.sm.Unlock()
	c.watches.Add(1)
	return w
}

// markCancelled notes that the client cancels ticket itself, so its final
// denial is not echoed as an EVENT.
func (c *conn) markCancelled(ticket string) {
	c.sm.Lock()
	if w, ok := c.tickets[ticket]; ok {
		w.cancelled.Store(true)
	}
	c.sm.Unlock()
}

func (c *conn) bind(lease string) {
	c.sm.Lock()
	if c.bound == nil {
		c.bound = make(map[string]struct{})
	}
	c.bound[lease] = struct{}{}
	c.sm.Unlock()
}

func (c *conn) unbind(lease string) {
	c.sm.Lock()
	delete(c.bound, lease)
	c.sm.Unlock()
}

// exemptFromIdle: a connection holding bind=conn leases or waiting tickets
// is kept however quiet it is, since closing it would cost the client its
// seats or its place in the queue.
func (c *conn) exemptFromIdle() bool {
	c.sm.Lock()
	defer c.sm.Unlock()
	return len(c.bound) > 0 || len(c.tickets) > 0
}

// watch follows a ticket until its final update and reports it as an
// EVENT. If the connection ends first the ticket is cancelled, and a
// grant that races the cancel is checked straight back in.
func (c *conn) watch(w *ticketWatch) {
	defer c.watches.Done()
	defer func() {
		c.sm.Lock()
		delete(c.tickets, w.ticket)
		c.sm.Unlock()
	}()
	for {
		select {
		case u, ok := <-w.updates:
			if !ok {
				return
			}
			if !u.Final() {
				continue // position changes are not part of CLM/1
			}
			select {
			case <-c.done:
				c.giveBack(u)
				return
			default:
			}
			var b []byte
			if g := u.Grant; g != nil {
				if w.bind {
					c.bind(g.Lease)
				}
				b = append(b, "EVENT granted"...)
				b = wire.AppendPair(b, "ticket", w.ticket)
				b = appendGrant(b, g)
			} else {
				if w.cancelled.Load() {
					return
				}
				b = append(b, "EVENT denied"...)
				b = wire.AppendPair(b, "ticket", w.ticket)
				b = wire.AppendPair(b, "reason", u.Denial.Reason)
				if u.Denial.Message != "" {
					b = wire.AppendPair(b, "message", u.Denial.Message)
				}
			}
			c.event(endLine(b, w.id))
			return
		case <-c.done:
			ctx, cancel := c.cleanupContext()
			defer cancel()
			if err := c.s.seats.Cancel(ctx, w.ticket); err == nil {
				return
			}
			// Not waiting any more: its final update is on its way.
			for {
				select {
				case u, ok := <-w.updates:
					if !ok {
						return
					}
					if u.Final() {
						c.giveBack(u)
						return
					}
				case <-ctx.Done():
					return
				}
			}
		}
	}
}

// giveBack checks in a grant that arrived for a connection that is gone.
func (c *conn) giveBack(u sdk.TicketUpdate) {
	if u.Grant == nil {
		return
	}
	ctx, cancel := c.cleanupContext()
	defer cancel()
	if err := c.s.seats.Checkin(ctx, u.Grant.Lease); err != nil {
		c.s.log.Warn("could not give back a grant for a closed connection", "lease", u.Grant.Lease, "error", err)
	}
}

func (c *conn) cleanupContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), c.s.lim.ShutdownGrace)
}

// cleanup runs after the connection closed: bind=conn leases are checked
// in; ticket watchers (which see c.done) cancel their tickets.
func (c *conn) cleanup(context.Context) {
	c.sm.Lock()
	leases := make([]string, 0, len(c.bound))
	for l := range c.bound {
		leases = append(leases, l)
	}
	c.sm.Unlock()
	if len(leases) > 0 {
		ctx, cancel := c.cleanupContext()
		for _, l := range leases {
			if err := c.s.seats.Checkin(ctx, l); err != nil {
				c.s.log.Debug("bind=conn checkin", "lease", l, "error", err)
			}
		}
		cancel()
	}
	c.watches.Wait()
	// A queued bind=conn checkout granted while closing was bound after
	// the sweep above: sweep again.
	c.sm.Lock()
	late := make([]string, 0, len(c.bound))
	for l := range c.bound {
		if !slices.Contains(leases, l) {
			late = append(late, l)
		}
	}
	c.sm.Unlock()
	if len(late) > 0 {
		ctx, cancel := c.cleanupContext()
		for _, l := range late {
			_ = c.s.seats.Checkin(ctx, l)
		}
		cancel()
	}
}
