package seats

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// DefaultMaxBorrow is the longest borrow of a feature that allows borrowing
// and names no maximum: a week, FlexLM's default BORROW period.
const DefaultMaxBorrow = 7 * 24 * time.Hour

// ErrUnknownTicket is returned by Cancel for a ticket that is not waiting.
var ErrUnknownTicket = errors.New("seats: unknown ticket")

// GoneError says a lease named by a heartbeat, checkin or removal does not
// exist, and why (GoneExpired, GoneRemoved or GoneUnknown).
type GoneError struct {
	Lease  string
	Reason Reason
}

func (e *GoneError) Error() string {
	return "seats: lease " + e.Lease + " is gone (" + string(e.Reason) + ")"
}

// Options are the engine's injected dependencies.
type Options struct {
	// NewID makes lease and ticket identifiers. nil means a deterministic
	// counter ("L1", "T2", ...), for tests; the ledger passes a generator of
	// unguessable identifiers.
	NewID func() string
}

// Engine is the accounting state machine. Its zero value is not usable; make
// one with New. It is not safe for concurrent use.
type Engine struct {
	cfg     Config
	newID   func() string
	counter uint64 // the default identifier counter

	pools  map[PoolKey]*pool
	byName map[string][]*pool // active pools by feature name, lowest version first

	leases  map[string]*lease
	keys    map[string]*lease // live leases by idempotency key
	tickets map[string]*ticket
	timers  timerHeap
	tombs   tombstones
	seq     uint64 // grant and queue order

	free   *lease      // released leases, reused to keep the hot path allocation-light
	held   []int64     // slab backing the events' HeldMS pointers
	stamps []time.Time // slab backing the events' Expires pointers
}

// pool is one vendor/name/version's seats and who holds them.
type pool struct {
	key       PoolKey
	feat      Feature
	ttl       time.Duration
	maxQueue  int
	maxBorrow time.Duration
	retired   bool // removed by a reload; kept until its last lease ends

	include, exclude []matcher
	reserves         []reserve
	limits           []limit
	sumReserved      int

	inUse          int
	unreservedUsed int            // seats of leases not covered by a reservation
	covered        int            // seats of leases covered by reservations
	sigSeats       map[uint64]int // seats held per reservation signature (reserve.go)
	head, tail     *lease         // live leases in grant order
	queue          []*ticket      // waiting tickets, head first
	queuedSeats    int
}

type reserve struct {
	Reservation
	who  matcher
	used int
}

type limit struct {
	Limit
	who  matcher
	used int
}

type lease struct {
	Lease
	tm         timer
	pool       *pool
	prev, next *lease
	sig        uint64 // the reservations its client matches (reserve.go)
}

type ticket struct {
	Ticket
	tm   timer
	pool *pool
}

// New returns an engine configured with cfg and holding nothing.
func New(cfg Config, opts Options) (*Engine, error) {
	if err := Validate(cfg); err != nil {
		return nil, fmt.Errorf("seats: invalid configuration: %w", err)
	}
	e := &Engine{
		cfg:     cfg,
		newID:   opts.NewID,
		pools:   compile(cfg),
		leases:  make(map[string]*lease),
		keys:    make(map[string]*lease),
		tickets: make(map[string]*ticket),
	}
	e.reindex()
	return e, nil
}

// compile turns a valid configuration into empty pools.
func compile(cfg Config) map[PoolKey]*pool {
	users := groupSets(cfg.Groups)
	hosts := groupSets(cfg.HostGroups)
	out := make(map[PoolKey]*pool, len(cfg.Features))
	for _, f := range cfg.Features {
		p := &pool{key: keyOf(&f)}
		p.configure(f, users, hosts)
		out[p.key] = p
	}
	return out
}

func groupSets(groups map[string][]string) map[string]map[string]struct{} {
	out := make(map[string]map[string]struct{}, len(groups))
	for name, members := range groups {
		set := make(map[string]struct{}, len(members))
		for _, m := range members {
			set[m] = struct{}{}
		}
		out[name] = set
	}
	return out
}

// configure sets p's policy from f. Usage counts are left to recount.
func (p *pool) configure(f Feature, users, hosts map[string]map[string]struct{}) {
	// Status shows the effective values, so that no caller repeats the
	// defaults.
	f.Vendor = vendorOf(f.Vendor)
	if f.LeaseTTL <= 0 {
		f.LeaseTTL = DefaultLeaseTTL
	}
	p.feat = f
	p.retired = false
	p.ttl = f.LeaseTTL
	p.maxQueue = f.MaxQueue
	if p.maxQueue <= 0 {
		p.maxQueue = DefaultMaxQueue
	}
	p.maxBorrow = f.MaxBorrow
	if p.maxBorrow <= 0 {
		p.maxBorrow = DefaultMaxBorrow
	}
	compileAll := func(ss []Subject) []matcher {
		if len(ss) == 0 {
			return nil
		}
		ms := make([]matcher, len(ss))
		for i, s := range ss {
			ms[i] = compileSubject(s, users, hosts)
		}
		return ms
	}
	p.include = compileAll(f.Include)
	p.exclude = compileAll(f.Exclude)
	p.reserves = p.reserves[:0]
	p.sumReserved = 0
	for _, r := range f.Reserve {
		p.reserves = append(p.reserves, reserve{Reservation: r, who: compileSubject(r.Who, users, hosts)})
		p.sumReserved += r.Seats
	}
	p.limits = p.limits[:0]
	for _, l := range f.Max {
		p.limits = append(p.limits, limit{Limit: l, who: compileSubject(l.Who, users, hosts)})
	}
}

// retire keeps p for its leases but takes it out of service: no policy, no
// reservations (its leases all count as unreserved), nothing granted.
func (p *pool) retire() {
	p.retired = true
	p.feat.Seats = 0 // what a replay or a snapshot can know of it
	p.feat.Reserve, p.feat.Max, p.feat.Include, p.feat.Exclude = nil, nil, nil, nil
	p.reserves = nil
	p.limits = nil
	p.sumReserved = 0
	p.include, p.exclude = nil, nil
	p.recount()
}

// reindex rebuilds byName from the active pools.
func (e *Engine) reindex() {
	e.byName = make(map[string][]*pool, len(e.pools))
	for _, p := range e.pools {
		if !p.retired {
			e.byName[p.key.Name] = append(e.byName[p.key.Name], p)
		}
	}
	for _, ps := range e.byName {
		slices.SortFunc(ps, func(a, b *pool) int { return compareKeys(a.key, b.key, true) })
	}
}

// compareKeys orders pools by version first when versionFirst (the order
// candidates are tried in), else by vendor, name, version (status order).
func compareKeys(a, b PoolKey, versionFirst bool) int {
	if versionFirst {
		if c := CompareVersions(a.Version, b.Version); c != 0 {
			return c
		}
		if c := strings.Compare(a.Vendor, b.Vendor); c != 0 {
			return c
		}
		return strings.Compare(a.Version, b.Version)
	}
	if c := strings.Compare(a.Vendor, b.Vendor); c != 0 {
		return c
	}
	if c := strings.Compare(a.Name, b.Name); c != 0 {
		return c
	}
	if c := CompareVersions(a.Version, b.Version); c != 0 {
		return c
	}
	return strings.Compare(a.Version, b.Version)
}

// sortedPools returns every pool in status order.
func (e *Engine) sortedPools() []*pool {
	ps := make([]*pool, 0, len(e.pools))
	for _, p := range e.pools {
		ps = append(ps, p)
	}
	slices.SortFunc(ps, func(a, b *pool) int { return compareKeys(a.key, b.key, false) })
	return ps
}

// id returns a new lease ("L") or ticket ("T") identifier.
func (e *Engine) id(prefix byte) string {
	if e.newID != nil {
		return e.newID()
	}
	e.counter++
	var buf [24]byte
	buf[0] = prefix
	return string(strconv.AppendUint(buf[:1], e.counter, 10))
}

// sawID keeps the default counter ahead of identifiers learnt from replay or
// a snapshot, so that a restarted engine never reissues one.
func (e *Engine) sawID(id string) {
	if e.newID != nil || len(id) < 2 || (id[0] != 'L' && id[0] != 'T') {
		return
	}
	if n, err := strconv.ParseUint(id[1:], 10, 64); err == nil && n > e.counter {
		e.counter = n
	}
}

// Config returns the configuration in force. The slices and maps are
// shared with the engine: do not modify them.
func (e *Engine) Config() Config { return e.cfg }

// Counts returns the number of live leases and waiting tickets.
func (e *Engine) Counts() (leases, tickets int) { return len(e.leases), len(e.tickets) }

// Lease returns the live lease id.
func (e *Engine) Lease(id string) (Lease, bool) {
	l, ok := e.leases[id]
	if !ok {
		return Lease{}, false
	}
	return l.Lease, true
}

// TicketInfo returns the waiting ticket id, with its current position.
func (e *Engine) TicketInfo(id string) (Ticket, bool) {
	t, ok := e.tickets[id]
	if !ok {
		return Ticket{}, false
	}
	out := t.Ticket
	out.Position = t.pool.position(t)
	return out, true
}

// NextDeadline returns the earliest time at which Tick has something to do
// (a lease to expire, a borrow to end, a ticket to time out), or the zero
// time when there is nothing. It is O(1).
func (e *Engine) NextDeadline() time.Time {
	if len(e.timers) == 0 {
		return time.Time{}
	}
	return time.Unix(0, e.timers[0].at).UTC()
}

func (p *pool) position(t *ticket) int {
	for i, q := range p.queue {
		if q == t {
			return i + 1
		}
	}
	return 0
}
