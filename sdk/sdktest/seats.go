package sdktest

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/licensegw/licensegw/sdk"
)

// DefaultTTL is the lease TTL of a Feature that does not set one.
const DefaultTTL = 2 * time.Minute

// DefaultQueueMax and DefaultMaxBorrow are the gateway's defaults for a
// feature that sets no queue length or longest borrow.
const (
	DefaultQueueMax  = 100
	DefaultMaxBorrow = 7 * 24 * time.Hour
)

// updateBuffer is the capacity of a ticket's Updates channel. One slot is
// kept for the final update, so position updates are dropped (never the
// final one) when a test does not read them.
const updateBuffer = 16

// Feature is a pool of seats in an in-memory Seats.
type Feature struct {
	Vendor    string
	Name      string
	Version   string
	Seats     int
	Queue     bool          // checkouts with Wait > 0 may queue
	QueueMax  int           // at most this many tickets wait (then queue-full); 0 means DefaultQueueMax
	TTL       time.Duration // lease TTL; 0 means DefaultTTL
	Borrow    bool          // borrowing allowed (else a Borrow checkout is denied "borrow")
	MaxBorrow time.Duration // the longest borrow allowed; 0 means DefaultMaxBorrow
}

// Seats is an in-memory sdk.Seats for plugin tests. TTL and queue-wait
// expiry are evaluated lazily, at the start of every call, against the
// clock set with WithClock, in the order they fall due. The zero value is
// not usable: call NewSeats.
//
// For what it models (seats, versions, counts, borrowing, FIFO queues,
// TTLs, request keys) it answers as the gateway's engine does, with the
// same outcomes and reasons: a differential test in gateway/seats runs the
// same random operations through both. It has no reservations, MAX
// limits, include/exclude lists, dates or MaxWait.
type Seats struct {
	mu       sync.Mutex
	now      func() time.Time
	pools    []*pool
	leases   map[string]*lease
	tickets  map[string]*ticket
	gone     map[string]string // lease -> reason it went (expired, removed)
	key      ed25519.PrivateKey
	reloads  int
	failWith error
	seq      uint64 // orders leases and tickets falling due at the same time
}

type pool struct {
	Feature
	inUse int
	queue []*ticket // FIFO
}

type lease struct {
	id       string
	pool     *pool
	count    int
	client   sdk.Client
	granted  time.Time
	expires  time.Time
	ttl      time.Duration
	borrowed bool
	key      string // CheckoutRequest.RequestKey
	seq      uint64
}

type ticket struct {
	id       string
	pool     *pool
	req      sdk.CheckoutRequest
	queued   time.Time
	deadline time.Time
	updates  chan sdk.TicketUpdate
	seq      uint64
}

var _ sdk.Seats = (*Seats)(nil)

// NewSeats returns an in-memory Seats holding features, on the real clock.
func NewSeats(features ...Feature) *Seats {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic(fmt.Sprintf("sdktest: ed25519 key: %v", err))
	}
	s := &Seats{
		now:     time.Now,
		leases:  map[string]*lease{},
		tickets: map[string]*ticket{},
		gone:    map[string]string{},
		key:     key,
	}
	for _, f := range features {
		if f.TTL <= 0 {
			f.TTL = DefaultTTL
		}
		if f.QueueMax <= 0 {
			f.QueueMax = DefaultQueueMax
		}
		if f.MaxBorrow <= 0 {
			f.MaxBorrow = DefaultMaxBorrow
		}
		s.pools = append(s.pools, &pool{Feature: f})
	}
	return s
}

// WithClock makes s read time from now (for expiry tests) and returns s.
func (s *Seats) WithClock(now func() time.Time) *Seats {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = now
	return s
}

// FailWith makes every following call return err (nil restores normal
// service); FailWith(sdk.ErrUnavailable) simulates a gateway that cannot
// answer.
func (s *Seats) FailWith(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failWith = err
}

// Reloads reports how many times Reload was called.
func (s *Seats) Reloads() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reloads
}

// Expire runs the lazy expiry now, as any call would: leases past their
// TTL go, queue waits past their deadline are denied, queues advance.
func (s *Seats) Expire() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tick()
}

// begin locks s, checks ctx and the injected failure, and runs expiry.
// On a nil error the caller must unlock.
func (s *Seats) begin(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	if s.failWith != nil {
		err := s.failWith
		s.mu.Unlock()
		return err
	}
	s.tick()
	return nil
}

// Checkout implements sdk.Seats.
func (s *Seats) Checkout(ctx context.Context, req sdk.CheckoutRequest) (*sdk.Checkout, error) {
	if err := req.Validate(); err != nil {
		return nil, err
	}
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	if req.Count <= 0 {
		req.Count = 1
	}
	if l := s.keyed(req.RequestKey); l != nil {
		// A retransmission of a granted checkout: the same lease.
		return &sdk.Checkout{Outcome: sdk.Granted, Grant: s.grantOf(l, req)}, nil
	}
	p, deny := s.choose(req)
	switch {
	case deny != nil:
		return deny, nil
	case p.Seats-p.inUse >= req.Count && len(p.queue) == 0:
		return &sdk.Checkout{Outcome: sdk.Granted, Grant: s.grant(p, req)}, nil
	case len(p.queue) >= p.QueueMax:
		return denied("queue-full", fmt.Sprintf("the queue of %s is full (%d waiting)", p.Name, len(p.queue)), 0, 0), nil
	}
	now := s.now()
	t := &ticket{
		id:       newID("t"),
		pool:     p,
		req:      req,
		queued:   now,
		deadline: now.Add(req.Wait),
		updates:  make(chan sdk.TicketUpdate, updateBuffer),
		seq:      s.next(),
	}
	p.queue = append(p.queue, t)
	s.tickets[t.id] = t
	return &sdk.Checkout{Outcome: sdk.Queued, Ticket: t.id, Position: len(p.queue), Updates: t.updates}, nil
}

// The checks a candidate pool passes, in the engine's order: when none
// grants, the denial is that of the candidate that got furthest.
const (
	stageUnknown = iota
	stageVersion
	stageCount
	stageBorrow
	stageSeats
	stageGrant
)

// choose returns the pool that grants req, or the one it queues on, or the
// denial. As in the gateway, the candidates are every pool of the feature
// (of the vendor, if named) at the version asked or newer, tried lowest
// version first.
func (s *Seats) choose(req sdk.CheckoutRequest) (*pool, *sdk.Checkout) {
	var cands []*pool
	for _, p := range s.pools {
		if p.Name == req.Feature && (req.Vendor == "" || p.Vendor == req.Vendor) {
			cands = append(cands, p)
		}
	}
	slices.SortStableFunc(cands, func(a, b *pool) int {
		if c := compareVersions(a.Version, b.Version); c != 0 {
			return c
		}
		if c := strings.Compare(a.Vendor, b.Vendor); c != 0 {
			return c
		}
		return strings.Compare(a.Version, b.Version)
	})
	best, bestPool := stageUnknown, (*pool)(nil)
	var waitPool *pool
	for _, p := range cands {
		st := stageVersion
		if req.Version == "" || compareVersions(p.Version, req.Version) >= 0 {
			st = p.evaluate(req)
		}
		if st == stageGrant {
			return p, nil
		}
		if st > best || bestPool == nil && st == best {
			best, bestPool = st, p
		}
		if st == stageSeats && waitPool == nil && req.Wait > 0 && req.Borrow <= 0 && p.Queue {
			waitPool = p
		}
	}
	if waitPool != nil {
		return waitPool, nil
	}
	p := bestPool
	switch best {
	case stageUnknown:
		return nil, denied("unknown-feature", fmt.Sprintf("no feature %q", req.Feature), 0, 0)
	case stageVersion:
		return nil, denied("version", fmt.Sprintf("no pool of %s at version %s or newer", req.Feature, req.Version), 0, 0)
	case stageCount:
		return nil, denied("count", fmt.Sprintf("%d seats asked, %s has %d", req.Count, p.Name, p.Seats), p.inUse, p.Seats)
	case stageBorrow:
		if !p.Borrow {
			return nil, denied("borrow", fmt.Sprintf("%s may not be borrowed", p.Name), 0, 0)
		}
		return nil, denied("borrow", fmt.Sprintf("borrow of %s is longer than the maximum %s", req.Borrow, p.MaxBorrow), 0, 0)
	}
	return nil, denied("no-seats", fmt.Sprintf("%d of %d seats of %s in use", p.inUse, p.Seats, p.Name), p.inUse, p.Seats)
}

// evaluate runs the checks the fake models on one candidate pool.
func (p *pool) evaluate(req sdk.CheckoutRequest) int {
	switch {
	case req.Count > p.Seats:
		return stageCount
	case req.Borrow > 0 && (!p.Borrow || req.Borrow > p.MaxBorrow):
		return stageBorrow
	case p.Seats-p.inUse >= req.Count && len(p.queue) == 0:
		return stageGrant
	}
	return stageSeats
}

// next returns the next sequence number; s.mu is held.
func (s *Seats) next() uint64 {
	s.seq++
	return s.seq
}

// grant takes req.Count seats of p; s.mu is held.
func (s *Seats) grant(p *pool, req sdk.CheckoutRequest) *sdk.Grant {
	now := s.now()
	l := &lease{id: newID("l"), pool: p, count: req.Count, client: req.Client, granted: now, ttl: p.TTL, seq: s.next()}
	if req.Borrow > 0 {
		l.ttl, l.borrowed = req.Borrow, true
	}
	l.expires = now.Add(l.ttl)
	l.key = req.RequestKey
	p.inUse += l.count
	s.leases[l.id] = l
	return s.grantOf(l, req)
}

// keyed is the live lease granted for key, if any.
func (s *Seats) keyed(key string) *lease {
	if key == "" {
		return nil
	}
	for _, l := range s.leases {
		if l.key == key && s.now().Before(l.expires) {
			return l
		}
	}
	return nil
}

// grantOf describes l as a grant for req, signed when req asks.
func (s *Seats) grantOf(l *lease, req sdk.CheckoutRequest) *sdk.Grant {
	p := l.pool
	g := &sdk.Grant{
		Lease: l.id, Vendor: p.Vendor, Feature: p.Name, Version: p.Version,
		Count: l.count, TTL: l.ttl, Expires: l.expires, Borrowed: l.borrowed,
	}
	if req.Sign {
		g.Signature = ed25519.Sign(s.key, []byte(sdk.GrantText(g, req.Client.User, req.Client.Host, req.Nonce)))
	}
	return g
}

// Heartbeat implements sdk.Seats.
func (s *Seats) Heartbeat(ctx context.Context, id string) (sdk.LeaseState, error) {
	if err := checkRef(sdk.IdentLease, id); err != nil {
		return sdk.LeaseState{}, err
	}
	if err := s.begin(ctx); err != nil {
		return sdk.LeaseState{}, err
	}
	defer s.mu.Unlock()
	l, err := s.lease(id)
	if err != nil {
		return sdk.LeaseState{}, err
	}
	if !l.borrowed { // a borrow ends when it ends, heartbeat or not
		l.expires = s.now().Add(l.ttl)
	}
	return sdk.LeaseState{Lease: id, TTL: l.ttl, Expires: l.expires}, nil
}

// Checkin implements sdk.Seats.
func (s *Seats) Checkin(ctx context.Context, id string) error {
	if err := checkRef(sdk.IdentLease, id); err != nil {
		return err
	}
	if err := s.begin(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	l, err := s.lease(id)
	if err != nil {
		return err
	}
	s.release(l, "")
	return nil
}

// Remove implements sdk.Seats.
func (s *Seats) Remove(ctx context.Context, id string, _ sdk.Client) error {
	if err := checkRef(sdk.IdentLease, id); err != nil {
		return err
	}
	if err := s.begin(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	l, err := s.lease(id)
	if err != nil {
		return err
	}
	s.release(l, "removed")
	return nil
}

func (s *Seats) lease(id string) (*lease, error) {
	if l, ok := s.leases[id]; ok {
		return l, nil
	}
	reason, ok := s.gone[id]
	if !ok {
		reason = "unknown"
	}
	return nil, &sdk.GoneError{Lease: id, Reason: reason}
}

// release frees l's seats; a non-empty reason is what a later call on the
// lease reports. The queue advances.
func (s *Seats) release(l *lease, reason string) {
	delete(s.leases, l.id)
	if reason != "" {
		s.gone[l.id] = reason
	}
	l.pool.inUse -= l.count
	s.advance(l.pool)
}

// Cancel implements sdk.Seats. The ticket's Updates gets a final denial
// ("cancelled") and is closed, so a reader never waits forever.
func (s *Seats) Cancel(ctx context.Context, id string) error {
	if err := checkRef(sdk.IdentTicket, id); err != nil {
		return err
	}
	if err := s.begin(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	t, ok := s.tickets[id]
	if !ok {
		return fmt.Errorf("%w: %s", sdk.ErrUnknownTicket, id)
	}
	s.dequeue(t, &sdk.TicketUpdate{Ticket: id, Denial: &sdk.Denial{Reason: "cancelled"}})
	s.positions(t.pool)
	s.advance(t.pool)
	return nil
}

// dequeue removes t from its queue and delivers final, then closes t's
// channel. Position updates for those behind are left to advance.
func (s *Seats) dequeue(t *ticket, final *sdk.TicketUpdate) {
	p := t.pool
	p.queue = slices.DeleteFunc(p.queue, func(o *ticket) bool { return o == t })
	delete(s.tickets, t.id)
	t.updates <- *final // the reserved slot: never blocks
	close(t.updates)
}

// advance grants queue heads that now fit, then tells every remaining
// ticket its position if it moved.
func (s *Seats) advance(p *pool) {
	before := len(p.queue)
	for len(p.queue) > 0 && p.Seats-p.inUse >= p.queue[0].req.Count {
		t := p.queue[0]
		req := t.req
		req.RequestKey = "" // as in the gateway, a key answers only an immediate grant
		g := s.grant(p, req)
		s.dequeue(t, &sdk.TicketUpdate{Ticket: t.id, Grant: g})
	}
	if len(p.queue) != before {
		s.positions(p)
	}
}

// positions sends each waiting ticket its position, dropping the update
// when the reader is behind (the final slot stays free).
func (s *Seats) positions(p *pool) {
	for i, t := range p.queue {
		if len(t.updates) < cap(t.updates)-1 {
			t.updates <- sdk.TicketUpdate{Ticket: t.id, Position: i + 1}
		}
	}
}

// tick expires what the clock says is over, in the order it fell due (ties:
// leases first, then in the order they were made), each end freeing seats
// for the queue before the next is looked at, as the gateway does; s.mu is
// held.
func (s *Seats) tick() {
	now := s.now()
	for {
		l, t := s.due(now)
		switch {
		case l != nil:
			s.release(l, "expired")
		case t != nil:
			p := t.pool
			s.dequeue(t, &sdk.TicketUpdate{Ticket: t.id, Denial: &sdk.Denial{Reason: "timeout", InUse: p.inUse, Seats: p.Seats}})
			s.positions(p)
			s.advance(p)
		default:
			return
		}
	}
}

// due returns the lease or ticket that fell due first at or before now.
// At the same instant a lease goes before a ticket, as in the gateway: a
// seat freed at a ticket's deadline still serves it. Otherwise the one
// made first goes first.
func (s *Seats) due(now time.Time) (*lease, *ticket) {
	var (
		l    *lease
		t    *ticket
		at   time.Time
		kind int // 0 lease, 1 ticket
		seq  uint64
	)
	first := func(when time.Time, k int, n uint64) bool {
		if when.After(now) {
			return false
		}
		if l == nil && t == nil || when.Before(at) ||
			when.Equal(at) && (k < kind || k == kind && n < seq) {
			at, kind, seq = when, k, n
			return true
		}
		return false
	}
	for _, x := range s.leases {
		if first(x.expires, 0, x.seq) {
			l, t = x, nil
		}
	}
	for _, p := range s.pools {
		for _, x := range p.queue {
			if first(x.deadline, 1, x.seq) {
				l, t = nil, x
			}
		}
	}
	return l, t
}

// Status implements sdk.Seats.
func (s *Seats) Status(ctx context.Context, q sdk.StatusQuery) ([]sdk.FeatureStatus, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	var out []sdk.FeatureStatus
	for _, p := range s.pools {
		if (q.Vendor != "" && q.Vendor != p.Vendor) || (q.Feature != "" && q.Feature != p.Name) {
			continue
		}
		fs := sdk.FeatureStatus{
			Vendor: p.Vendor, Feature: p.Name, Version: p.Version,
			Seats: p.Seats, InUse: p.inUse, Queued: len(p.queue),
			LeaseTTL: p.TTL, Queue: p.Queue, Borrow: p.Borrow, MaxBorrow: p.MaxBorrow,
		}
		if q.CountsOnly {
			out = append(out, fs)
			continue
		}
		for _, l := range s.leases {
			if l.pool == p {
				fs.Leases = append(fs.Leases, sdk.LeaseInfo{
					Lease: l.id, Count: l.count, Client: l.client,
					Granted: l.granted, Expires: l.expires, Borrowed: l.borrowed,
				})
			}
		}
		slices.SortFunc(fs.Leases, func(a, b sdk.LeaseInfo) int { return a.Granted.Compare(b.Granted) })
		for i, t := range p.queue {
			fs.Tickets = append(fs.Tickets, sdk.TicketInfo{
				Ticket: t.id, Count: t.req.Count, Client: t.req.Client, Queued: t.queued, Position: i + 1,
			})
		}
		out = append(out, fs)
	}
	return out, nil
}

// Reload implements sdk.Seats; it only counts calls (see Reloads).
func (s *Seats) Reload(ctx context.Context) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	s.reloads++
	return nil
}

// PublicKey implements sdk.Seats.
func (s *Seats) PublicKey(ctx context.Context) ([]byte, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	return slices.Clone(s.key.Public().(ed25519.PublicKey)), nil
}

// Sign implements sdk.Seats.
func (s *Seats) Sign(ctx context.Context, data []byte) ([]byte, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	return ed25519.Sign(s.key, data), nil
}

func denied(reason, msg string, inUse, seats int) *sdk.Checkout {
	return &sdk.Checkout{Outcome: sdk.Denied, Denial: &sdk.Denial{Reason: reason, Message: msg, InUse: inUse, Seats: seats}}
}

// newID returns an identifier with 128 random bits.
func newID(prefix string) string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("sdktest: random: %v", err))
	}
	return prefix + hex.EncodeToString(b[:])
}

// compareVersions compares dotted versions numerically where both parts
// are numbers ("10.0" > "9.2") and as strings otherwise.
func compareVersions(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := range max(len(as), len(bs)) {
		var x, y string
		if i < len(as) {
			x = as[i]
		}
		if i < len(bs) {
			y = bs[i]
		}
		xn, xerr := strconv.Atoi(x)
		yn, yerr := strconv.Atoi(y)
		if x == "" {
			xerr, xn = nil, 0
		}
		if y == "" {
			yerr, yn = nil, 0
		}
		if xerr == nil && yerr == nil {
			if c := xn - yn; c != 0 {
				return c
			}
			continue
		}
		if c := strings.Compare(x, y); c != 0 {
			return c
		}
	}
	return 0
}

// checkRef applies the gateway's identifier rules to a lease or ticket
// reference, as the gateway does before it looks the reference up.
func checkRef(k sdk.Ident, id string) error {
	if id == "" {
		return &sdk.InvalidError{Ident: k, Reason: "is missing"}
	}
	return sdk.CheckIdent(k, id)
}
