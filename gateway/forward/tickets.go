package forward

import (
	"encoding/json"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/licensegw/licensegw/sdk"
)

// waiter receives the updates of one queued checkout taken through this
// node. It is registered before the checkout is sent, so that no update
// can arrive before it.
type waiter struct {
	name string

	mu      sync.Mutex
	ch      chan sdk.TicketUpdate
	ticket  string
	term    uint64 // the leader's that queued it
	queued  bool   // the checkout's answer said queued
	early   []sdk.TicketUpdate
	lastPos int
	closed  bool
	ended   chan struct{} // closed with ch: the final update was delivered
}

// updateBuffer is a waiter channel's capacity; position updates are
// dropped (never the final one) when the plugin does not keep up.
const updateBuffer = 16

func (f *Forwarder) addWaiter() *waiter {
	w := &waiter{name: f.id(), ch: make(chan sdk.TicketUpdate, updateBuffer), ended: make(chan struct{})}
	f.mu.Lock()
	f.waiters[w.name] = w
	f.mu.Unlock()
	return w
}

func (f *Forwarder) dropWaiter(w *waiter) {
	f.mu.Lock()
	delete(f.waiters, w.name)
	f.mu.Unlock()
}

// queued makes w live: the checkout was answered queued under term.
// Updates that came before the answer are delivered now.
func (f *Forwarder) queued(w *waiter, ticket string, term uint64) <-chan sdk.TicketUpdate {
	w.mu.Lock()
	w.ticket, w.term, w.queued = ticket, term, true
	early := w.early
	w.early = nil
	w.mu.Unlock()
	for _, u := range early {
		if w.deliver(u) {
			f.dropWaiter(w)
		}
	}
	return w.ch
}

// deliver hands u to the plugin and reports whether it was the final one.
// Before the checkout's answer, updates are kept for queued.
func (w *waiter) deliver(u sdk.TicketUpdate) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return true
	}
	if !w.queued {
		w.early = append(w.early, u)
		return false
	}
	if !u.Final() {
		if w.lastPos != 0 && u.Position >= w.lastPos {
			return false // stale (a retried delivery)
		}
		select {
		case w.ch <- u:
			w.lastPos = u.Position
		default:
		}
		return false
	}
	for {
		select {
		case w.ch <- u:
			w.closed = true
			close(w.ch)
			close(w.ended)
			return true
		default:
			select { // full of position updates: drop the oldest
			case <-w.ch:
			default:
			}
		}
	}
}

// onUpdate receives a ticket update from the leader and acknowledges it.
func (f *Forwarder) onUpdate(m *nats.Msg) {
	var tu ticketUpdate
	if err := json.Unmarshal(m.Data, &tu); err != nil {
		f.cfg.Log.Warn("forward: bad ticket update", "error", err)
		return
	}
	f.mu.Lock()
	w := f.waiters[tu.Waiter]
	f.mu.Unlock()
	if w != nil && w.deliver(tu.Update) {
		f.dropWaiter(w)
	}
	_ = m.Respond(nil)
}

// termEvery is how often the Forwarder checks for a new leader.
const termEvery = 100 * time.Millisecond

// termChange is closed when watchTerm next sees a leader term other than
// the one it saw last.
func (f *Forwarder) termChange() <-chan struct{} {
	f.termMu.Lock()
	defer f.termMu.Unlock()
	return f.newTerm
}

// watchTerm ends the tickets queued under an older term: the leader that
// held them is gone, and its successor dequeued them (reason restart). It
// also tells the calls in flight of a new term (termChange).
func (f *Forwarder) watchTerm() {
	t := time.NewTicker(termEvery)
	defer t.Stop()
	var last uint64
	for {
		select {
		case <-f.done:
			return
		case <-t.C:
		}
		term := f.cfg.Term()
		if term == 0 {
			continue
		}
		if term != last {
			f.termMu.Lock()
			close(f.newTerm)
			f.newTerm = make(chan struct{})
			f.termMu.Unlock()
			last = term
		}
		f.mu.Lock()
		var stale []*waiter
		for _, w := range f.waiters {
			w.mu.Lock()
			if w.queued && w.term < term {
				stale = append(stale, w)
			}
			w.mu.Unlock()
		}
		f.mu.Unlock()
		for _, w := range stale {
			w.deliver(sdk.TicketUpdate{Ticket: w.ticket, Denial: &sdk.Denial{Reason: "restart", Message: "the cluster leader changed"}})
			f.dropWaiter(w)
		}
	}
}
