package ledger

import (
	"github.com/licensegw/licensegw/gateway/events"
	"github.com/licensegw/licensegw/gateway/seats"
)

// delivery is one update for one waiter, sent once its events are
// acknowledged: a waiter never hears of a grant the journal could lose.
type delivery struct {
	ch    chan Update
	u     Update
	final bool
}

// routeLocked turns the events of one operation into waiter updates: final
// updates for tickets that were granted or dequeued, and new positions for
// the tickets still waiting in the pools those events touched. l.mu is held.
func (l *Ledger) routeLocked(evs []events.Event) []delivery {
	var out []delivery
	touched := false
	for i := range evs {
		ev := &evs[i]
		if ev.Ticket == "" {
			continue
		}
		switch ev.Kind {
		case events.Checkout, events.Borrowed:
			ch, ok := l.waiters[ev.Ticket]
			if !ok {
				continue
			}
			lease, _ := l.eng.Lease(ev.Lease)
			out = append(out, delivery{ch: ch, u: Update{Ticket: ev.Ticket, Lease: &lease}, final: true})
			l.forgetLocked(ev.Ticket)
			touched = true
		case events.Dequeued:
			ch, ok := l.waiters[ev.Ticket]
			if !ok {
				continue
			}
			out = append(out, delivery{ch: ch, u: Update{Ticket: ev.Ticket, Reason: seats.Reason(ev.Reason)}, final: true})
			l.forgetLocked(ev.Ticket)
			touched = true
		}
	}
	if touched {
		// Queues are short (bounded by MaxQueue), so a pass over the
		// waiters is cheap; it only happens when a queue moved.
		for ticket, ch := range l.waiters {
			t, ok := l.eng.TicketInfo(ticket)
			if !ok || t.Position == l.positions[ticket] {
				continue
			}
			l.positions[ticket] = t.Position
			out = append(out, delivery{ch: ch, u: Update{Ticket: ticket, Position: t.Position}})
		}
	}
	return out
}

func (l *Ledger) forgetLocked(ticket string) {
	delete(l.waiters, ticket)
	delete(l.positions, ticket)
}

// deliver sends updates. Position updates are dropped when the waiter is
// behind (a newer one follows); a final update is always delivered, then the
// channel is closed.
func (l *Ledger) deliver(ds []delivery) {
	for _, d := range ds {
		if !d.final {
			select {
			case d.ch <- d.u:
			default:
			}
			continue
		}
		select {
		case d.ch <- d.u:
			close(d.ch)
		default:
			go func(d delivery) {
				d.ch <- d.u
				close(d.ch)
			}(d)
		}
	}
}
