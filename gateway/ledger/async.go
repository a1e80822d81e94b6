package ledger

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/licensegw/licensegw/gateway/events"
	"github.com/licensegw/licensegw/gateway/journal"
	"github.com/licensegw/licensegw/gateway/seats"
	"github.com/licensegw/licensegw/sdk"
)

// The asynchronous calls give the same answers as their blocking twins, but
// nothing waits for the journal: the answer is handed to a callback when
// the journal acknowledges the events (on its publisher goroutine), or when
// Options.Wait runs out first. A plugin's session serves its checkouts and
// checkins this way, with no goroutine and no context per request.

// CheckoutAsync is Checkout without the wait: done is called once with
// Checkout's results, before CheckoutAsync returns or later on another
// goroutine. done must be quick and must not block or call the ledger's
// journaled operations.
func (l *Ledger) CheckoutAsync(req seats.CheckoutRequest, done func(seats.Result, <-chan Update, error)) {
	c := &checkoutCall{done: done}
	c.op.done = c
	l.checkoutAsync(req, nil, &c.out, &c.op)
}

// checkoutCall is one CheckoutAsync: its wait, outcome and callback in one
// allocation.
type checkoutCall struct {
	op   asyncOp
	out  checkoutOut
	done func(seats.Result, <-chan Update, error)
}

func (c *checkoutCall) asyncDone(err error) {
	if err != nil {
		c.done(seats.Result{}, nil, err)
		return
	}
	c.done(c.out.res, c.out.ch, nil)
}

// checkoutOut is what the engine decided about one checkout, filled in
// under l.mu.
type checkoutOut struct {
	res seats.Result
	ch  chan Update             // a queued checkout's updates (plugin == nil)
	sdk <-chan sdk.TicketUpdate // the same in the SDK's form (plugin != nil)

	// to, set by the caller, takes a queued checkout's updates in the
	// SDK's form instead of sdk (plugin != nil).
	to func(sdk.TicketUpdate)
}

// plugWaiterLocked has the waiter of out's queued checkout, if any,
// deliver to plugin: to out.to when set, else on out.sdk. l.mu is held,
// in the operation that queued it, so no update was routed to it yet.
func (l *Ledger) plugWaiterLocked(out *checkoutOut, plugin *pluginSeats) {
	if out.ch == nil || plugin == nil {
		return
	}
	w := l.waiters[out.res.Ticket]
	if out.to != nil {
		w.toFunc(plugin, out.to)
		return
	}
	out.sdk = w.toSDK(plugin)
}

// checkoutAsync is CheckoutAsync with the outcome written to out and a
// told only the error: the caller holds out and a (with a.done set) in its
// own allocation. When plugin is not nil, a queued checkout's waiter
// delivers to it in the SDK's form on out.sdk.
func (l *Ledger) checkoutAsync(req seats.CheckoutRequest, plugin *pluginSeats, out *checkoutOut, a *asyncOp) {
	l.doAsync(a, func(now time.Time, evs []events.Event) ([]events.Event, error) {
		out.res, out.ch, evs = l.checkoutLocked(now, req, evs)
		l.plugWaiterLocked(out, plugin)
		return evs, nil
	})
}

// CheckinAsync is Checkin without the wait; done is called as for
// CheckoutAsync.
func (l *Ledger) CheckinAsync(lease string, done func(error)) {
	l.checkinAsync(lease, &asyncOp{done: doneFunc(done)})
}

// checkinAsync is CheckinAsync with the wait a (a.done set) allocated by
// the caller.
func (l *Ledger) checkinAsync(lease string, a *asyncOp) {
	l.doAsync(a, func(now time.Time, evs []events.Event) ([]events.Event, error) {
		return l.eng.Checkin(now, lease, evs)
	})
}

// asyncOp is one journaled operation whose answer waits for its commit.
// The caller allocates it, as a field of a struct of its own that holds
// the operation's outcome and implements asyncDone (checkoutCall,
// pluginCheckout, pluginCheckin), so that an operation costs one
// allocation for its wait, its outcome and its callbacks; the commit calls
// it back as a journal.Notifier, with no closure.
type asyncOp struct {
	l      *Ledger
	commit *journal.Commit // own, or for a rider the commit it waits for
	// own is the commit of the events the operation appends
	// (journal.AppendTo): one allocation with the rest. A rider leaves
	// it unused.
	own        journal.Commit
	deliveries []delivery
	start      time.Time
	deadline   time.Time
	opErr      error // the engine's answer, given once the events are safe
	rider      bool  // it appended nothing and waits for an earlier commit
	done       asyncDone
	answered   atomic.Bool
}

// asyncDone hears an asynchronous operation's outcome, once.
type asyncDone interface {
	asyncDone(err error)
}

// doneFunc is a callback as an asyncDone. A func value is pointer-shaped,
// so the conversion allocates nothing.
type doneFunc func(error)

func (f doneFunc) asyncDone(err error) { f(err) }

// doAsync is do with the wait handed to the journal: a.done hears the
// outcome when the commit completes or Options.Wait runs out. a is the
// caller's, zero but for its done.
func (l *Ledger) doAsync(a *asyncOp, op func(time.Time, []events.Event) ([]events.Event, error)) {
	if err := l.opts.Journal.Ready(); err != nil {
		a.done.asyncDone(fmt.Errorf("%w: %w", ErrUnavailable, err))
		return
	}
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		a.done.asyncDone(ErrClosed)
		return
	}
	evs, err := op(l.now(), l.scratch[:0])
	start := time.Now()
	c, deliveries := l.commitLocked(evs, &a.own)
	rider := false
	if c == nil {
		// Nothing to append: the answer still waits for what it may
		// rest on (see unsettledLocked).
		if c = l.unsettledLocked(); c == nil {
			l.mu.Unlock()
			l.deliver(deliveries)
			a.done.asyncDone(err)
			return
		}
		rider = true
	}
	a.l, a.commit, a.deliveries, a.start, a.deadline, a.opErr, a.rider = l, c, deliveries, start, start.Add(l.opts.Wait), err, rider
	// Queued in commit order (under l.mu), so the queue's head is always
	// the oldest commit and the earliest deadline.
	l.async.push(a)
	l.mu.Unlock()
	c.Notify(a)
}

// CommitDone implements journal.Notifier: a's commit is done.
func (a *asyncOp) CommitDone() {
	l, c := a.l, a.commit
	if c.Err() == nil {
		// Queue progress goes out with the acknowledgement, even if
		// the expirer answered the request first; never without it.
		l.deliver(a.deliveries)
	}
	l.answer(a, c.Err())
	l.async.dropAnswered()
}

// answer gives a its outcome, once: journalErr is the commit's error, or
// why the wait for it ended.
func (l *Ledger) answer(a *asyncOp, journalErr error) {
	if !a.answered.CompareAndSwap(false, true) {
		return
	}
	if l.opts.Observer != nil && !a.rider {
		l.opts.Observer.Acknowledged(len(a.commit.Events()), time.Since(a.start), journalErr)
	}
	if journalErr != nil {
		a.done.asyncDone(fmt.Errorf("%w: %w", ErrUnavailable, journalErr))
		return
	}
	a.done.asyncDone(a.opErr)
}

// asyncQueue holds the asynchronous operations whose commits are pending,
// oldest first, for the expirer.
type asyncQueue struct {
	mu   sync.Mutex
	ops  []*asyncOp
	kick chan struct{} // a send: the queue was empty and is not
}

func (q *asyncQueue) push(a *asyncOp) {
	q.mu.Lock()
	q.ops = append(q.ops, a)
	first := len(q.ops) == 1
	q.mu.Unlock()
	if first {
		select {
		case q.kick <- struct{}{}:
		default:
		}
	}
}

// dropAnswered removes the answered operations at the head. Commits
// complete in order, so the queue holds little more than what is in
// flight.
func (q *asyncQueue) dropAnswered() {
	q.mu.Lock()
	n := 0
	for n < len(q.ops) && q.ops[n].answered.Load() {
		n++
	}
	if n > 0 {
		rest := copy(q.ops, q.ops[n:])
		clear(q.ops[rest:])
		q.ops = q.ops[:rest]
	}
	q.mu.Unlock()
}

// expired takes the unanswered operations whose deadline is not after now,
// and says when the next deadline is (zero if none is pending).
func (q *asyncQueue) expired(now time.Time) (out []*asyncOp, next time.Time) {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := 0
	for ; n < len(q.ops); n++ {
		a := q.ops[n]
		if a.answered.Load() {
			continue
		}
		if a.deadline.After(now) {
			next = a.deadline
			break
		}
		out = append(out, a)
	}
	if n > 0 {
		rest := copy(q.ops, q.ops[n:])
		clear(q.ops[rest:])
		q.ops = q.ops[:rest]
	}
	return out, next
}

// expirer answers the asynchronous operations whose commit did not
// complete within Options.Wait with ErrUnavailable, as do's wait would.
// One goroutine for the ledger: it sleeps until the oldest pending
// operation's deadline.
func (l *Ledger) expirer() {
	defer l.wg.Done()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		ops, next := l.async.expired(time.Now())
		for _, a := range ops {
			l.answer(a, a.commit.Unacknowledged(context.DeadlineExceeded))
		}
		var alarm <-chan time.Time
		if !next.IsZero() {
			timer.Reset(time.Until(next))
			alarm = timer.C
		}
		select {
		case <-alarm:
		case <-l.async.kick:
		case <-l.done:
			return
		}
	}
}
