package ledger

import (
	"sync"

	"github.com/licensegw/licensegw/gateway/events"
	"github.com/licensegw/licensegw/gateway/seats"
	"github.com/licensegw/licensegw/sdk"
)

// waiter is the receiving end of one queued checkout.
//
// Updates are decided under the ledger's lock but delivered after their
// commit is acknowledged, by whichever goroutine waited for it, so two
// operations' deliveries may race: the waiter's own lock and state make a
// late position update harmless (dropped once the ticket ended, or when it
// is not newer than one already sent) and the final update always last.
//
// A waiter delivers on ch, in the ledger's form, or, once toSDK was
// called, on out in the SDK's form: a plugin's queued checkout then reads
// its updates straight from the waiter, with no goroutine relaying them.
type waiter struct {
	ch      chan Update
	planned int // the position last routed to it (ledger lock)

	mu     sync.Mutex
	sent   int // the position last delivered
	closed bool
	out    chan sdk.TicketUpdate
	to     func(sdk.TicketUpdate) // instead of out (toFunc)
	plugin *pluginSeats           // converts for out and to
}

func newWaiter(position int) *waiter {
	return &waiter{ch: make(chan Update, 16), planned: position, sent: position}
}

// toSDK makes w deliver to p's plugin in the SDK's form from now on, on
// the channel it returns. Updates already on ch are moved there first, in
// order, so it may be called after deliveries began; nothing is lost or
// sent twice.
func (w *waiter) toSDK(p *pluginSeats) <-chan sdk.TicketUpdate {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make(chan sdk.TicketUpdate, cap(w.ch))
	for {
		select {
		case u, ok := <-w.ch:
			if ok {
				out <- p.ticketUpdate(u, false, "")
				continue
			}
			close(out) // the final update is in out already
		default:
		}
		break
	}
	w.out, w.plugin = out, p
	return out
}

// toFunc makes w hand its updates, in the SDK's form, to fn, which must
// not block. It is called before any delivery (under the ledger's lock,
// in the operation that queued the ticket): fn decides what to keep of
// the position updates.
func (w *waiter) toFunc(p *pluginSeats, fn func(sdk.TicketUpdate)) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.to, w.plugin = fn, p
}

// deliver sends u. A position update is dropped when the waiter is behind
// (the channel is full) or it is stale; a final update is always
// delivered, making room by dropping a pending position update if need be,
// and then the channel is closed.
func (w *waiter) deliver(u Update, final bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return
	}
	// Queues are FIFO: a ticket only moves forward.
	if !final && u.Position >= w.sent {
		return
	}
	var sent bool
	switch {
	case w.to != nil:
		w.to(w.plugin.ticketUpdate(u, false, ""))
		sent = true
	case w.out != nil:
		sent = send(w.out, w.plugin.ticketUpdate(u, false, ""), final)
	default:
		sent = send(w.ch, u, final)
	}
	switch {
	case final:
		w.closed = true
	case sent:
		w.sent = u.Position
	}
}

// send puts v on ch without blocking and reports whether it did. A final
// v is always put, making room by dropping the oldest pending (position)
// update if need be, and then ch is closed.
func send[T any](ch chan T, v T, final bool) bool {
	for {
		select {
		case ch <- v:
			if final {
				close(ch)
			}
			return true
		default:
			if !final {
				return false
			}
			select { // full of position updates: drop the oldest
			case <-ch:
			default:
			}
		}
	}
}

// delivery is one update for one waiter, sent once its events are
// acknowledged: a waiter never hears of a grant the journal could lose.
type delivery struct {
	w     *waiter
	u     Update
	final bool
}

// routeLocked turns the events of one operation into waiter updates: final
// updates for tickets that were granted or dequeued, and new positions for
// the tickets still waiting. l.mu is held.
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
			w, ok := l.waiters[ev.Ticket]
			if !ok {
				continue
			}
			lease, _ := l.eng.Lease(ev.Lease)
			out = append(out, delivery{w: w, u: Update{Ticket: ev.Ticket, Lease: &lease}, final: true})
			delete(l.waiters, ev.Ticket)
			touched = true
		case events.Dequeued:
			w, ok := l.waiters[ev.Ticket]
			if !ok {
				continue
			}
			out = append(out, delivery{w: w, u: Update{Ticket: ev.Ticket, Reason: seats.Reason(ev.Reason)}, final: true})
			delete(l.waiters, ev.Ticket)
			touched = true
		}
	}
	if touched {
		// Queues are short (bounded by MaxQueue), so a pass over the
		// waiters is cheap; it only happens when a queue moved.
		for ticket, w := range l.waiters {
			t, ok := l.eng.TicketInfo(ticket)
			if !ok || t.Position == w.planned {
				continue
			}
			w.planned = t.Position
			out = append(out, delivery{w: w, u: Update{Ticket: ticket, Position: t.Position}})
		}
	}
	return out
}

// deliver hands updates to their waiters.
func (l *Ledger) deliver(ds []delivery) {
	for _, d := range ds {
		d.w.deliver(d.u, d.final)
	}
}
