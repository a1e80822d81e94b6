package ledger

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/licensegw/licensegw/gateway/events"
	"github.com/licensegw/licensegw/gateway/journal"
	"github.com/licensegw/licensegw/gateway/seats"
)

// ErrUnavailable is returned when a request's events could not be journaled
// (the journal is unreachable, or the request's context ended first). The
// request's effect may still be journaled later: a retried publish carries
// the same event id.
var ErrUnavailable = errors.New("ledger: journal unavailable")

// ErrClosed is returned by requests made after Close.
var ErrClosed = errors.New("ledger: closed")

// DefaultSnapshotEvery is how many events pass between snapshots.
const DefaultSnapshotEvery = 50_000

// DefaultWait bounds how long a request waits for the journal: after it,
// the request fails with ErrUnavailable (the plugins answer their
// protocol's "unavailable, retry").
const DefaultWait = 5 * time.Second

// Options configure a Ledger.
type Options struct {
	Config  seats.Config
	Journal *journal.Journal
	// DataDir holds the snapshot file; "" disables snapshots (restart then
	// replays the whole stream).
	DataDir       string
	SnapshotEvery int
	// Snapshots, when set, also keeps every snapshot in a store other
	// nodes read (a cluster's object store), and the ledger starts from
	// the newest snapshot of the store and the data directory.
	Snapshots SnapshotStore
	// Wait bounds every wait on the journal (DefaultWait when 0).
	Wait time.Duration
	// Retention, when set, trims the stream after snapshots; see
	// Retention.
	Retention Retention
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// NewID makes lease and ticket ids; nil means NewIDSource().
	NewID func() string
	// Signer signs grants when set.
	Signer ed25519.PrivateKey
	// Reload rereads the gateway's configuration; what sdk.Seats.Reload
	// (lmreread) calls. nil refuses reloads from plugins.
	Reload func(ctx context.Context) error
	// Observer, if not nil, is told of every committed batch of events
	// and of its acknowledgement (metrics).
	Observer Observer
	Log      hclog.Logger

	// Node is this node's name in a cluster ("" for a single node): the
	// leases of requests it forwards for itself count as its own.
	Node string
	// KeepBound, when set, says which leases bound to a connection
	// survive a start (in a cluster: those whose node is still there);
	// nil ends them all, as the connections died with the process.
	KeepBound func(seats.Lease) bool
}

// Observer watches the ledger's commits. Committed is called with the
// ledger's lock held, in commit order, so it must be quick and must not call
// back into the ledger; Acknowledged is called once per non-empty batch when
// its wait ends, from the waiting request's goroutine.
type Observer interface {
	Committed(evs []events.Event)
	Acknowledged(n int, latency time.Duration, err error)
}

// Update is progress of a queued checkout. The last update of a ticket has
// Lease (granted) or Reason (dequeued) set; the channel is then closed.
type Update struct {
	Ticket   string
	Position int
	Lease    *seats.Lease
	Reason   seats.Reason
}

// replayAttempts bounds how often Open replays the journal when a replay
// does not reach the stream's end.
const replayAttempts = 3

// Ledger is the journaled accounting service. It is safe for concurrent use.
type Ledger struct {
	opts Options
	log  hclog.Logger
	now  func() time.Time

	mu         sync.Mutex
	eng        *seats.Engine
	scratch    []events.Event
	waiters    map[string]*waiter // ticket -> its waiter
	lastCommit *journal.Commit
	sinceSnap  int
	scheduled  time.Time // when the tick loop will next wake
	closed     bool
	denials    denialLimiter

	async asyncQueue // the asynchronous calls waiting for their commits

	snapMu  sync.Mutex // orders snapshot writes and snapSeq
	snapSeq uint64     // the sequence the current snapshot.json includes
	// storedSeq is the sequence the store's newest snapshot includes
	// (Options.Snapshots; 0 when unknown): retention keeps every event
	// after the store's older one.
	storedSeq uint64

	wake     chan struct{}
	snapKick chan struct{}
	done     chan struct{}
	wg       sync.WaitGroup
}

// Open rebuilds the accounting from the latest snapshot and the journal, and
// starts the ledger's clock.
func Open(ctx context.Context, opts Options) (*Ledger, error) {
	if opts.Journal == nil {
		return nil, errors.New("ledger: no journal")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.NewID == nil {
		opts.NewID = NewIDSource()
	}
	if opts.SnapshotEvery <= 0 {
		opts.SnapshotEvery = DefaultSnapshotEvery
	}
	if opts.Wait <= 0 {
		opts.Wait = DefaultWait
	}
	if opts.Log == nil {
		opts.Log = hclog.NewNullLogger()
	}
	eng, err := seats.New(opts.Config, seats.Options{NewID: opts.NewID})
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	l := &Ledger{
		opts:     opts,
		log:      opts.Log,
		now:      opts.Now,
		eng:      eng,
		waiters:  make(map[string]*waiter),
		wake:     make(chan struct{}, 1),
		snapKick: make(chan struct{}, 1),
		done:     make(chan struct{}),
		async:    asyncQueue{kick: make(chan struct{}, 1)},
	}
	for attempt := 1; ; attempt++ {
		err := l.recover(ctx)
		if err == nil {
			break
		}
		// A replay that stopped short of the stream's end (its consumer
		// on a replica still catching up) or lost a message applied
		// only part of the stream: start over on a fresh engine.
		if attempt == replayAttempts || ctx.Err() != nil ||
			!errors.Is(err, journal.ErrReplayShort) && !errors.Is(err, journal.ErrReplayGap) {
			return nil, err
		}
		l.log.Warn("replaying the journal again from the start", "attempt", attempt, "error", err)
		if l.eng, err = seats.New(opts.Config, seats.Options{NewID: opts.NewID}); err != nil {
			return nil, fmt.Errorf("ledger: %w", err)
		}
	}
	l.wg.Add(3)
	go l.clock()
	go l.snapshotter()
	go l.expirer()
	return l, nil
}

// Close stops the ledger's clock and writes a final snapshot. Requests made
// after Close fail with ErrClosed.
func (l *Ledger) Close(ctx context.Context) error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	if l.denials.pending() {
		// The summary of the last suppressed denials is not lost.
		l.lastCommit = l.opts.Journal.Append(l.denials.flush(l.now(), nil))
	}
	l.mu.Unlock()
	close(l.done)
	l.wg.Wait()
	// A journal that cannot append must not hold up the stop: the next
	// start replays from the last snapshot that was written.
	ctx, cancel := context.WithTimeout(ctx, l.opts.Wait)
	defer cancel()
	return l.Snapshot(ctx)
}

// Checkout asks for seats. A queued result comes with the channel its
// progress arrives on; it is nil otherwise.
func (l *Ledger) Checkout(ctx context.Context, req seats.CheckoutRequest) (seats.Result, <-chan Update, error) {
	var out checkoutOut
	if err := l.checkoutWait(ctx, req, nil, &out); err != nil {
		return seats.Result{}, nil, err
	}
	return out.res, out.ch, nil
}

// checkoutWait is Checkout with the outcome written to out. When plugin is
// not nil, a queued checkout's waiter delivers to it in the SDK's form on
// out.sdk (as checkoutAsync's).
func (l *Ledger) checkoutWait(ctx context.Context, req seats.CheckoutRequest, plugin *pluginSeats, out *checkoutOut) error {
	return l.do(ctx, func(now time.Time, evs []events.Event) ([]events.Event, error) {
		out.res, out.ch, evs = l.checkoutLocked(now, req, evs)
		l.plugWaiterLocked(out, plugin)
		return evs, nil
	})
}

// checkoutLocked decides a checkout in the engine, registering the waiter
// of a queued one. l.mu is held.
func (l *Ledger) checkoutLocked(now time.Time, req seats.CheckoutRequest, evs []events.Event) (seats.Result, chan Update, []events.Event) {
	n := len(evs)
	res, evs := l.eng.Checkout(now, req, evs)
	switch {
	case res.Outcome == seats.Queued:
		w := newWaiter(res.Position)
		l.waiters[res.Ticket] = w
		return res, w.ch, evs
	case res.Outcome == seats.Granted && req.Bound && req.Key != "" && len(evs) == n:
		// A bound checkout asked again: the engine bound the lease to
		// the asking connection, soft state no event records. The
		// next snapshot carries it to a node that takes over, so take
		// one soon: from events alone that node would release the
		// lease with its first connection's node (rare: it happens
		// after a client's failover).
		l.kickSnapshotLocked()
	}
	return res, nil, evs
}

// kickSnapshotLocked asks the snapshotter for a snapshot now.
func (l *Ledger) kickSnapshotLocked() {
	select {
	case l.snapKick <- struct{}{}:
	default: // one is due already
	}
}

// Heartbeat renews a lease. It changes no journaled state, so it never waits
// for the journal.
func (l *Ledger) Heartbeat(_ context.Context, lease string) (seats.Lease, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return seats.Lease{}, ErrClosed
	}
	return l.eng.Heartbeat(l.now(), lease)
}

// Checkin gives a lease back (a borrowed lease is returned).
func (l *Ledger) Checkin(ctx context.Context, lease string) error {
	return l.do(ctx, func(now time.Time, evs []events.Event) ([]events.Event, error) {
		return l.eng.Checkin(now, lease, evs)
	})
}

// Remove releases a lease as an administrator.
//
// by names who ordered it; the engine decides, the ledger stamps the
// removed event with by so that the journal says who removed whose seats.
func (l *Ledger) Remove(ctx context.Context, lease, by string) error {
	return l.do(ctx, func(now time.Time, evs []events.Event) ([]events.Event, error) {
		n := len(evs)
		evs, err := l.eng.Remove(now, lease, evs)
		for i := n; i < len(evs); i++ {
			if evs[i].Kind == events.Removed && evs[i].Lease == lease {
				evs[i].By = by
			}
		}
		return evs, err
	})
}

// Cancel ends a waiting ticket.
func (l *Ledger) Cancel(ctx context.Context, ticket string, reason seats.Reason) error {
	return l.do(ctx, func(now time.Time, evs []events.Event) ([]events.Event, error) {
		return l.eng.Cancel(now, ticket, reason, evs)
	})
}

// Reload replaces the engine's configuration, keeping every lease.
func (l *Ledger) Reload(ctx context.Context, cfg seats.Config) error {
	return l.do(ctx, func(now time.Time, evs []events.Event) ([]events.Event, error) {
		return l.eng.Reload(now, cfg, evs)
	})
}

// ReleaseBound checks in the leases bound to connections of plugin, whose
// process exited and closed them.
func (l *Ledger) ReleaseBound(ctx context.Context, plugin string) error {
	return l.do(ctx, func(now time.Time, evs []events.Event) ([]events.Event, error) {
		return l.eng.ReleaseBound(now, plugin, evs), nil
	})
}

// Status reports every pool.
func (l *Ledger) Status() []seats.PoolStatus { return l.StatusOf(nil, true) }

// StatusOf reports the pools match accepts, with their holders or not
// (seats.Engine.StatusOf).
func (l *Ledger) StatusOf(match func(seats.PoolKey) bool, holders bool) []seats.PoolStatus {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.eng.StatusOf(match, holders)
}

// Lease reports one lease.
func (l *Ledger) Lease(id string) (seats.Lease, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.eng.Lease(id)
}

// Counts reports how many leases and tickets the engine holds.
func (l *Ledger) Counts() (leases, tickets int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.eng.Counts()
}

// PublicKey is the grant-signing public key, or nil.
func (l *Ledger) PublicKey() ed25519.PublicKey {
	if l.opts.Signer == nil {
		return nil
	}
	return l.opts.Signer.Public().(ed25519.PublicKey)
}

// do runs one engine operation that produces events (with l.mu held),
// journals them and delivers queue progress once they are acknowledged.
//
// A journal that cannot append now fails the request at once, before the
// engine changes anything; one that stops answering fails it after
// Options.Wait. Either way the error wraps ErrUnavailable.
func (l *Ledger) do(ctx context.Context, op func(time.Time, []events.Event) ([]events.Event, error)) error {
	if err := l.opts.Journal.Ready(); err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	ctx, cancel := context.WithTimeout(ctx, l.opts.Wait)
	defer cancel()
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return ErrClosed
	}
	evs, err := op(l.now(), l.scratch[:0])
	start := time.Now()
	c, deliveries := l.commitLocked(evs, nil)
	if c == nil {
		// Nothing to append, but the answer may still rest on events
		// not yet acknowledged (a retransmitted checkout's lease).
		if c = l.unsettledLocked(); c != nil {
			l.mu.Unlock()
			if werr := c.Wait(ctx); werr != nil {
				return fmt.Errorf("%w: %w", ErrUnavailable, werr)
			}
			return err
		}
	}
	l.mu.Unlock()
	if werr := l.wait(ctx, c, deliveries, start); werr != nil {
		return werr
	}
	return err
}

// unsettledLocked is the latest commit if the journal has not finished it,
// or nil. An answer that appends nothing waits for it: commits are stored
// in order (the fence), so once it is acknowledged so is every event the
// answer could rest on, and if it never is (a leader that lost its lease
// drops what it had not sent) the answer is "unavailable", never a grant
// that no other node will know of. l.mu is held.
func (l *Ledger) unsettledLocked() *journal.Commit {
	if c := l.lastCommit; c != nil && !c.Finished() {
		return c
	}
	return nil
}

// commitLocked hands evs to the journal and works out which waiters hear
// what once they are acknowledged. into, if not nil, is a new Commit of the
// caller's to append into (journal.AppendTo); nil has the journal allocate
// one. l.mu is held.
func (l *Ledger) commitLocked(evs []events.Event, into *journal.Commit) (*journal.Commit, []delivery) {
	if l.opts.Observer != nil && len(evs) > 0 {
		// Every decision, also the denials not journaled one by one.
		l.opts.Observer.Committed(evs)
	}
	evs = l.denials.filter(l.now(), evs)
	l.scratch = evs[:0] // keep the grown buffer for the next request
	if len(evs) == 0 {
		return nil, nil
	}
	c := into
	if c == nil {
		c = l.opts.Journal.Append(evs)
	} else {
		l.opts.Journal.AppendTo(c, evs)
	}
	l.lastCommit = c
	l.sinceSnap += len(evs)
	if l.sinceSnap >= l.opts.SnapshotEvery {
		l.sinceSnap = 0
		l.kickSnapshotLocked()
	}
	deliveries := l.routeLocked(evs)
	l.pokeLocked()
	return c, deliveries
}

// pokeLocked wakes the clock when the engine's next deadline moved earlier
// than the clock's alarm.
func (l *Ledger) pokeLocked() {
	next := l.eng.NextDeadline()
	if next.IsZero() || !next.Before(l.scheduled) {
		return
	}
	l.scheduled = next
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// wait blocks until c, appended at start, is acknowledged, then delivers
// queue progress.
func (l *Ledger) wait(ctx context.Context, c *journal.Commit, deliveries []delivery, start time.Time) error {
	if c == nil {
		l.deliver(deliveries)
		return nil
	}
	err := c.Wait(ctx)
	if l.opts.Observer != nil {
		l.opts.Observer.Acknowledged(len(c.Events()), time.Since(start), err)
	}
	if err != nil {
		l.deliverOnAck(c, deliveries)
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	l.deliver(deliveries)
	return nil
}

// deliverOnAck delivers queue progress once c is acknowledged, and never
// if it is not: a queued client must not hear of a grant the journal may
// not hold (the journal keeps retrying c under the same ids; a leader that
// lost its lease drops it, and the next leader decides the ticket anew).
func (l *Ledger) deliverOnAck(c *journal.Commit, deliveries []delivery) {
	if len(deliveries) == 0 {
		return
	}
	c.OnDone(func() {
		if c.Err() == nil {
			l.deliver(deliveries)
		}
	})
}
