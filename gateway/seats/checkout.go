package seats

import (
	"fmt"
	"time"

	"github.com/licensegw/licensegw/gateway/events"
)

// stage is how far a request got through the checks, in the order they are
// made; when no candidate pool grants, the denial is that of the candidate
// that got furthest (ties: the lowest version).
type stage int

const (
	stageUnknown stage = iota
	stageVersion
	stageNotStarted
	stageExpired
	stageExcluded
	stageCount
	stageBorrow
	stageLimit
	stageSeats // no-seats or reserved: the one stage a queue can wait out
	stageGrant
)

var stageReasons = [...]Reason{
	stageUnknown:    UnknownFeature,
	stageVersion:    VersionTooHigh,
	stageNotStarted: NotStarted,
	stageExpired:    LicenceExpired,
	stageExcluded:   Excluded,
	stageCount:      TooMany,
	stageBorrow:     BorrowRefused,
	stageLimit:      LimitReached,
	stageSeats:      NoSeats,
}

// Checkout decides a request for seats: it grants a lease, queues a ticket or
// denies, and appends the event saying so to evs.
func (e *Engine) Checkout(now time.Time, req CheckoutRequest, evs []events.Event) (Result, []events.Event) {
	now = now.UTC()
	if l, ok := e.keys[req.Key]; ok && req.Key != "" {
		// A retransmission of a checkout already granted: the same
		// lease, no second seat, no event; a bound one now ends with the
		// connection that asked again.
		if req.Bound {
			e.rebind(l, &req.Client)
		}
		return Result{Outcome: Granted, Lease: l.Lease, InUse: l.pool.inUse, Seats: l.pool.feat.Seats}, evs
	}
	count := req.Count
	if count == 0 {
		count = 1
	}
	vendor := req.Vendor
	var (
		best       = stageUnknown
		bestReason Reason
		bestPool   *pool
		waitPool   *pool
	)
	for _, p := range e.byName[req.Feature] {
		if vendor != "" && vendorOf(vendor) != p.key.Vendor {
			continue
		}
		st, reason := stageVersion, VersionTooHigh
		if req.Version == "" || CompareVersions(p.key.Version, req.Version) >= 0 {
			st, reason = p.evaluate(now, &req.Client, count, req.Borrow, false)
		}
		if st == stageGrant {
			l := e.grant(now, p, &req.Client, count, req.Borrow, origin{bound: req.Bound, key: req.Key})
			kind := events.Checkout
			if l.Borrowed {
				kind = events.Borrowed
			}
			evs = e.leaseEvent(evs, kind, now, l, p)
			if l.Borrowed {
				evs[len(evs)-1].Expires = e.stamp(l.Expires)
			}
			return Result{Outcome: Granted, Lease: l.Lease, InUse: p.inUse, Seats: p.feat.Seats}, evs
		}
		if st > best || bestPool == nil && st == best {
			best, bestReason, bestPool = st, reason, p
		}
		if st == stageSeats && waitPool == nil && req.Wait > 0 && req.Borrow <= 0 && p.feat.Queue {
			waitPool = p
		}
	}
	if waitPool != nil {
		return e.enqueue(now, waitPool, req, count, evs)
	}
	if best == stageUnknown {
		bestReason = UnknownFeature
	}
	return e.deny(now, bestPool, req, count, bestReason, evs)
}

// evaluate runs the checks on one candidate pool. head says the request is
// the head of p's queue, which the queue does not hold back.
func (p *pool) evaluate(now time.Time, c *Client, count int, borrow time.Duration, head bool) (stage, Reason) {
	f := &p.feat
	if !f.Start.IsZero() && now.Before(f.Start) {
		return stageNotStarted, NotStarted
	}
	if !f.Expiry.IsZero() && !now.Before(f.Expiry) {
		return stageExpired, LicenceExpired
	}
	if matchAny(p.exclude, c) || len(p.include) > 0 && !matchAny(p.include, c) {
		return stageExcluded, Excluded
	}
	if count < 0 || count > f.Seats {
		return stageCount, TooMany
	}
	if borrow > 0 && (!f.Borrow || borrow > p.maxBorrow) {
		return stageBorrow, BorrowRefused
	}
	for i := range p.limits {
		l := &p.limits[i]
		if l.used+count > l.Seats && l.who.match(c) {
			return stageLimit, LimitReached
		}
	}
	free := f.Seats - p.inUse
	take := 0 // how many of count the reservations would cover
	if len(p.reserves) > 0 {
		take = p.reservedCover(p.sigOf(c), count) - p.covered
	}
	if !head && len(p.queue) > 0 {
		// A freed seat goes to the head of the queue before any new request,
		// except one the client's own reservation covers entirely.
		if take == count && free >= count {
			return stageGrant, ""
		}
		return stageSeats, NoSeats
	}
	if free >= count && count-take <= p.unreservedFree() {
		return stageGrant, ""
	}
	if free >= count {
		return stageSeats, ReservedSeats
	}
	return stageSeats, NoSeats
}

// unreservedFree is how many more seats leases not covered by a reservation
// may hold.
func (p *pool) unreservedFree() int {
	return max(0, p.feat.Seats-p.sumReserved-p.unreservedUsed)
}

// grant makes a lease of p for c; the checks have been made.
func (e *Engine) grant(now time.Time, p *pool, c *Client, count int, borrow time.Duration, o origin) *lease {
	l := e.newLease()
	l.ID = e.id('L')
	l.Pool = p.key
	l.Count = count
	l.Client = *c
	l.Granted = now
	l.Ticket, l.Bound, l.Key = o.ticket, o.bound, o.key
	if borrow > 0 {
		l.Borrowed = true
		l.TTL = borrow
	} else {
		l.TTL = p.ttl
	}
	l.Expires = now.Add(l.TTL)
	e.addLease(p, l)
	return l
}

// origin is where a grant comes from: a queue ticket, or a request with its
// connection binding and idempotency key.
type origin struct {
	ticket string
	bound  bool
	key    string
}

// newLease returns a cleared lease, reusing a released one when it can.
func (e *Engine) newLease() *lease {
	l := e.free
	if l == nil {
		l = &lease{}
	} else {
		e.free = l.next
		*l = lease{}
	}
	l.tm.l = l
	l.tm.kind = timerLease
	l.tm.idx = -1
	return l
}

// addLease files l (fields of Lease set) in p: the seat accounting, the
// lease list, the index and the timer.
func (e *Engine) addLease(p *pool, l *lease) {
	e.seq++
	l.pool = p
	l.tm.seq = e.seq
	l.tm.at = l.Expires.UnixNano()
	l.prev, l.next = p.tail, nil
	if p.tail != nil {
		p.tail.next = l
	} else {
		p.head = l
	}
	p.tail = l
	l.sig = p.sigOf(&l.Client)
	p.account(l, 1)
	p.rebalance()
	e.leases[l.ID] = l
	if l.Key != "" {
		e.keys[l.Key] = l
	}
	e.timers.push(&l.tm)
}

// account adds (sign 1) or takes away (sign -1) l's seats in p's counts;
// rebalance then settles the reservations.
func (p *pool) account(l *lease, sign int) {
	n := sign * l.Count
	p.inUse += n
	if l.sig != 0 {
		if p.sigSeats == nil {
			p.sigSeats = make(map[uint64]int)
		}
		if p.sigSeats[l.sig] += n; p.sigSeats[l.sig] == 0 {
			delete(p.sigSeats, l.sig)
		}
	}
	for i := range p.limits {
		if p.limits[i].who.match(&l.Client) {
			p.limits[i].used += n
		}
	}
}

// recount recomputes p's counts from its leases after a policy change.
func (p *pool) recount() {
	p.inUse = 0
	clear(p.sigSeats)
	for i := range p.limits {
		p.limits[i].used = 0
	}
	for l := p.head; l != nil; l = l.next {
		l.sig = p.sigOf(&l.Client)
		p.account(l, 1)
	}
	p.rebalance()
}

// enqueue queues req on p, or denies it queue-full.
func (e *Engine) enqueue(now time.Time, p *pool, req CheckoutRequest, count int, evs []events.Event) (Result, []events.Event) {
	if len(p.queue) >= p.maxQueue {
		return e.deny(now, p, req, count, QueueFull, evs)
	}
	wait := req.Wait
	if p.feat.MaxWait > 0 && p.feat.MaxWait < wait {
		wait = p.feat.MaxWait
	}
	t := &ticket{pool: p}
	t.ID = e.id('T')
	t.Pool = p.key
	t.Count = count
	t.Client = req.Client
	t.Queued = now
	t.Deadline = now.Add(wait)
	e.addTicket(p, t)
	evs = e.ticketEvent(evs, events.Queued, now, t, "")
	evs[len(evs)-1].Expires = e.stamp(t.Deadline)
	return Result{Outcome: Queued, Ticket: t.ID, Position: len(p.queue), InUse: p.inUse, Seats: p.feat.Seats}, evs
}

func (e *Engine) addTicket(p *pool, t *ticket) {
	e.seq++
	t.pool = p
	t.tm = timer{at: t.Deadline.UnixNano(), kind: timerTicket, seq: e.seq, idx: -1, t: t}
	p.queue = append(p.queue, t)
	p.queuedSeats += t.Count
	e.tickets[t.ID] = t
	e.timers.push(&t.tm)
}

// dropTicket takes t out of its queue, the index and the timers.
func (e *Engine) dropTicket(t *ticket) {
	p := t.pool
	if i := p.position(t); i > 0 {
		p.queue = append(p.queue[:i-1], p.queue[i:]...)
	}
	p.queuedSeats -= t.Count
	delete(e.tickets, t.ID)
	e.timers.remove(&t.tm)
}

func (e *Engine) ticketEvent(evs []events.Event, kind events.Kind, now time.Time, t *ticket, reason Reason) []events.Event {
	evs = e.event(evs, kind, now, t.pool, &t.Client, t.Count)
	ev := &evs[len(evs)-1]
	ev.Ticket = t.ID
	ev.Reason = string(reason)
	return evs
}

// deny answers a refused checkout; p is nil for an unknown feature.
func (e *Engine) deny(now time.Time, p *pool, req CheckoutRequest, count int, reason Reason, evs []events.Event) (Result, []events.Event) {
	res := Result{Outcome: Denied, Reason: reason}
	if p == nil {
		res.Message = fmt.Sprintf("no feature %q", req.Feature)
		evs = append(evs, events.Event{
			Time: now, Kind: events.Denied, Vendor: vendorOf(req.Vendor), Feature: req.Feature, Version: req.Version,
			Count: count, User: req.Client.User, Host: req.Client.Host, Display: req.Client.Display,
			Project: req.Client.Project, Protocol: req.Client.Protocol, Plugin: req.Client.Plugin,
			Client: req.Client.Addr, Reason: string(reason),
		})
		return res, evs
	}
	res.Message = denialMessage(p, req, count, reason)
	switch reason {
	case NoSeats, ReservedSeats, LimitReached, TooMany:
		res.InUse, res.Seats = p.inUse, p.feat.Seats
	}
	evs = e.event(evs, events.Denied, now, p, &req.Client, count)
	evs[len(evs)-1].Reason = string(reason)
	return res, evs
}

func denialMessage(p *pool, req CheckoutRequest, count int, reason Reason) string {
	f := &p.feat
	switch reason {
	case VersionTooHigh:
		return fmt.Sprintf("no pool of %s at version %s or newer", f.Name, req.Version)
	case NotStarted:
		return fmt.Sprintf("%s starts on %s", f.Name, f.Start.Format(time.RFC3339))
	case LicenceExpired:
		return fmt.Sprintf("%s expired on %s", f.Name, f.Expiry.Format(time.RFC3339))
	case Excluded:
		return fmt.Sprintf("%s@%s may not use %s", req.Client.User, req.Client.Host, f.Name)
	case TooMany:
		return fmt.Sprintf("%d seats asked, %s has %d", count, f.Name, f.Seats)
	case BorrowRefused:
		if !f.Borrow {
			return fmt.Sprintf("%s may not be borrowed", f.Name)
		}
		return fmt.Sprintf("borrow of %s is longer than the maximum %s", req.Borrow, p.maxBorrow)
	case LimitReached:
		return fmt.Sprintf("a MAX policy of %s is reached", f.Name)
	case ReservedSeats:
		return fmt.Sprintf("the %d free seats of %s are reserved for others", f.Seats-p.inUse, f.Name)
	case QueueFull:
		return fmt.Sprintf("the queue of %s is full (%d waiting)", f.Name, len(p.queue))
	}
	return fmt.Sprintf("%d of %d seats of %s in use", p.inUse, f.Seats, f.Name)
}
