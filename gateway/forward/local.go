package forward

import (
	"context"
	"errors"

	"github.com/licensegw/licensegw/sdk"
)

// Local is this node's own engine while it leads. Its plugins' calls then
// go straight to it, as on a single node, instead of a NATS round trip to
// itself.
type Local struct {
	Engine Engine
	// Term is the term this node leads in: a ticket queued locally ends
	// (reason restart) once another term leads.
	Term uint64
	// Leading reports whether this node still leads. It is asked before
	// every call, so that a node that lost its lease sends its plugins'
	// calls to the next leader at once, before Lead(nil) is called.
	Leading func() bool
}

// Lead makes this node's plugins call l's engine directly while
// l.Leading() holds; Lead(nil) sends every call to the leader over NATS
// again. A call that finds the engine closed under it (the hand-over
// closes the ledger) or that the engine could not journal is retried
// through the leader, keeping its RequestKey, so it is answered by the
// next leader or "unavailable", never from a ledger that no longer leads.
func (f *Forwarder) Lead(l *Local) {
	f.local.Store(l)
}

// leading is the Local while this node leads, nil otherwise.
func (f *Forwarder) leading() *Local {
	l := f.local.Load()
	if l == nil || (l.Leading != nil && !l.Leading()) {
		return nil
	}
	return l
}

// localSeats is a plugin instance's accounting on the local engine, made
// once per Local.
type localSeats struct {
	from  *Local
	seats sdk.Seats
}

// local is the local engine's accounting for s's plugin, nil when the call
// goes to the leader over NATS.
func (s *seats) local() (sdk.Seats, *Local) {
	l := s.f.leading()
	if l == nil {
		return nil, nil
	}
	c := s.cache.Load()
	if c == nil || c.from != l {
		c = &localSeats{from: l, seats: l.Engine.SeatsFor(s.f.cfg.Node, s.plugin, s.protocol)}
		s.cache.Store(c)
	}
	return c.seats, l
}

// answeredLocally reports whether err is the local engine's real answer.
// sdk.ErrUnavailable is not: the ledger closed (stepping down) or could
// not journal, and the call goes to the leader, as a retry of an attempt
// that may have been applied.
func answeredLocally(err error) bool { return !errors.Is(err, sdk.ErrUnavailable) }

// localQueued gives a checkout queued on the local engine a waiter of the
// Forwarder's, so that it ends (reason restart) when another term leads
// or the Forwarder closes, as a forwarded one does.
func (s *seats) localQueued(co *sdk.Checkout, term uint64) *sdk.Checkout {
	if co == nil || co.Outcome != sdk.Queued || co.Updates == nil {
		return co
	}
	w := s.f.addWaiter()
	in := co.Updates
	out := *co
	out.Updates = s.f.queued(w, co.Ticket, term)
	s.f.wg.Go(func() {
		for {
			select {
			case u, ok := <-in:
				if !ok {
					return
				}
				if w.deliver(u) {
					s.f.dropWaiter(w)
					return
				}
			case <-w.ended:
				return // ended by a new term or Close
			case <-s.f.done:
				return
			}
		}
	})
	return &out
}

// The asynchronous calls: on the local engine they are its own (nothing
// waits for the journal); forwarded, a goroutine waits for the leader's
// answer, bounded by Config.Retry and Config.Attempt.
var _ sdk.AsyncSeats = (*seats)(nil)

// CheckoutAsync implements sdk.AsyncSeats.
func (s *seats) CheckoutAsync(cr sdk.CheckoutRequest, done func(*sdk.Checkout, error)) {
	if err := cr.Validate(); err != nil {
		done(nil, err)
		return
	}
	s.keyed(&cr)
	ls, l := s.local()
	a, ok := ls.(sdk.AsyncSeats)
	if !ok {
		go func() { done(s.Checkout(context.Background(), cr)) }()
		return
	}
	if to, ok := ls.(updatesTo); ok && cr.Wait > 0 {
		s.checkoutLocalTo(to, cr, l.Term, done)
		return
	}
	a.CheckoutAsync(cr, func(co *sdk.Checkout, err error) {
		if answeredLocally(err) {
			done(s.localQueued(co, l.Term), err)
			return
		}
		go func() { done(s.forwardCheckout(context.Background(), cr, 1)) }()
	})
}

// updatesTo is a local engine's accounting that can hand a queued
// checkout's updates to a function (the ledger's does).
type updatesTo interface {
	CheckoutAsyncTo(req sdk.CheckoutRequest, updates func(sdk.TicketUpdate), done func(*sdk.Checkout, error))
}

// checkoutLocalTo is a checkout that may queue, on the local engine: its
// updates go straight to a waiter of the Forwarder's, registered first,
// which ends it (reason restart) when another term leads, as localQueued
// does but with no goroutine relaying them.
func (s *seats) checkoutLocalTo(to updatesTo, cr sdk.CheckoutRequest, term uint64, done func(*sdk.Checkout, error)) {
	w := s.f.addWaiter()
	to.CheckoutAsyncTo(cr, func(u sdk.TicketUpdate) {
		if w.deliver(u) {
			s.f.dropWaiter(w)
		}
	}, func(co *sdk.Checkout, err error) {
		switch {
		case !answeredLocally(err):
			s.f.dropWaiter(w)
			go func() { done(s.forwardCheckout(context.Background(), cr, 1)) }()
		case co != nil && co.Outcome == sdk.Queued && co.Updates == nil:
			out := *co
			out.Updates = s.f.queued(w, co.Ticket, term)
			done(&out, err)
		default: // not queued, or queued with its own Updates (signed)
			s.f.dropWaiter(w)
			done(s.localQueued(co, term), err)
		}
	})
}

// CheckinAsync implements sdk.AsyncSeats.
func (s *seats) CheckinAsync(lease string, done func(error)) {
	ls, _ := s.local()
	a, ok := ls.(sdk.AsyncSeats)
	if !ok {
		go func() { done(s.Checkin(context.Background(), lease)) }()
		return
	}
	a.CheckinAsync(lease, func(err error) {
		if answeredLocally(err) {
			done(err)
			return
		}
		go func() { done(s.forwardCheckin(context.Background(), lease, 1)) }()
	})
}
