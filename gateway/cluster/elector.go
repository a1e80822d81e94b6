package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/nats-io/nats.go/jetstream"
)

// Defaults of ElectorConfig: the key lives TTL after its last renewal;
// the leader renews every RenewEvery and stops leading StopAfter after its
// last successful renewal began, well before the key expires; candidates
// try every TryEvery.
const (
	DefaultTTL        = 2 * time.Second
	DefaultRenewEvery = 400 * time.Millisecond
	DefaultStopAfter  = 1500 * time.Millisecond
	DefaultTryEvery   = 100 * time.Millisecond
	leaderKey         = "leader"
	// DefaultBucket is the KV bucket of the leader lease.
	DefaultBucket = "LICENSEGW_LEADER"
)

// Lease is the value of the leader key: who leads and how to reach it.
type Lease struct {
	Node  string `json:"node"`
	Admin string `json:"admin,omitempty"` // the leader's admin API, http(s)://host:port
	// Term is the revision of the key when its leader won it: the
	// leader writes it with its first renewal (until then readers take
	// the key's revision, which is the same).
	Term uint64 `json:"term,omitempty"`
	// PublicKey is the leader's grant-signing public key (hex), "" when it
	// does not sign: a node whose key differs must not lead.
	PublicKey string `json:"public_key,omitempty"`
	// ConfigHash is the SHA-256 of the leader's features and policies.
	ConfigHash string `json:"config_hash,omitempty"`
}

// ElectorConfig configures an Elector.
type ElectorConfig struct {
	JS                                   jetstream.JetStream
	Bucket                               string // default DefaultBucket
	Replicas                             int    // of the bucket; default 1
	Self                                 Lease  // what this node writes when it leads
	TTL, RenewEvery, StopAfter, TryEvery time.Duration
	// HoldOff delays the first try: a node that has just lost the
	// leadership (or was deposed) lets the others try first.
	HoldOff time.Duration
	Log     hclog.Logger
}

// ErrLostLeadership is the cause Lost reports.
var ErrLostLeadership = errors.New("cluster: lost the leader lease")

// Elector campaigns for the leader key and renews it while it leads.
type Elector struct {
	cfg ElectorConfig
	kv  atomic.Pointer[jetstream.KeyValue] // set by Run

	mu      sync.Mutex
	leading bool
	term    uint64
	current Lease // the latest lease seen, ours or another node's
	won     chan struct{}
	lost    chan struct{}
	lostErr error
	// holdsUntil is when this node stops leading unless a renewal
	// succeeds first (unix nanoseconds; 0 when it does not lead).
	holdsUntil atomic.Int64

	stepReq  chan chan error     // StepDown's requests to the renewing loop
	renewReq chan chan time.Time // Renew's requests to the renewing loop
	stepped  chan struct{}       // closed once this node stepped down
	ran      chan struct{}       // closed when Run returns
}

// NewElector makes an elector; Run creates (or opens) the lease bucket,
// retrying while JetStream has no quorum, so that a node cut off from the
// cluster still starts (and reports, standing by, that no node leads).
func NewElector(cfg ElectorConfig) *Elector {
	if cfg.Bucket == "" {
		cfg.Bucket = DefaultBucket
	}
	if cfg.Replicas <= 0 {
		cfg.Replicas = 1
	}
	if cfg.TTL == 0 {
		cfg.TTL = DefaultTTL
	}
	if cfg.RenewEvery == 0 {
		cfg.RenewEvery = DefaultRenewEvery
	}
	if cfg.StopAfter == 0 {
		cfg.StopAfter = DefaultStopAfter
	}
	if cfg.TryEvery == 0 {
		cfg.TryEvery = DefaultTryEvery
	}
	if cfg.Log == nil {
		cfg.Log = hclog.NewNullLogger()
	}
	return &Elector{cfg: cfg, won: make(chan struct{}), lost: make(chan struct{}),
		stepReq: make(chan chan error), renewReq: make(chan chan time.Time), stepped: make(chan struct{}), ran: make(chan struct{})}
}

// openBucket creates (or opens) the lease bucket, retrying while
// JetStream has no quorum, until ctx ends.
func (e *Elector) openBucket(ctx context.Context) bool {
	var kv jetstream.KeyValue
	err := Retry(ctx, e.cfg.Log, "leader lease bucket", func(ctx context.Context) (err error) {
		kv, err = e.cfg.JS.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
			Bucket: e.cfg.Bucket, Description: "licensegw: which gateway leads",
			TTL: e.cfg.TTL, History: 1, Replicas: e.cfg.Replicas, Storage: jetstream.FileStorage,
		})
		return err
	})
	if err != nil {
		return false
	}
	e.kv.Store(&kv)
	return true
}

// bucket is the lease bucket, nil until Run has opened it.
func (e *Elector) bucket() jetstream.KeyValue {
	if kv := e.kv.Load(); kv != nil {
		return *kv
	}
	return nil
}

// Run campaigns until ctx ends, and once elected renews the lease until it
// is lost, this node steps down or ctx ends; it then returns. Won is closed
// when this node leads, Lost when it stopped leading against its will (not
// when ctx ended first, nor after StepDown: SteppedDown is closed then).
// An elector leads once: to stand again, a node makes a new one.
func (e *Elector) Run(ctx context.Context) {
	defer close(e.ran)
	if !e.openBucket(ctx) {
		return
	}
	term, began, ok := e.campaign(ctx)
	if !ok {
		return
	}
	// The key was written after began: it lives at least until
	// began+TTL, and this node stops leading at began+StopAfter unless
	// a renewal succeeds.
	e.holdsUntil.Store(began.Add(e.cfg.StopAfter).UnixNano())
	e.mu.Lock()
	e.leading, e.term = true, term
	e.current = e.cfg.Self
	e.current.Term = term
	e.mu.Unlock()
	close(e.won)
	err := e.renew(ctx, term)
	e.holdsUntil.Store(0)
	e.mu.Lock()
	e.leading = false
	e.mu.Unlock()
	switch {
	case errors.Is(err, errSteppedDown):
		close(e.stepped)
	case err != nil:
		e.lostErr = err
		close(e.lost)
	}
}

// errSteppedDown ends renew after StepDown released the lease.
var errSteppedDown = errors.New("cluster: stepped down")

// ErrNoBucket is Lookup's answer before Run has opened the lease bucket
// (the NATS cluster has had no quorum yet).
var ErrNoBucket = errors.New("cluster: the leader lease bucket is not open yet")

// ErrNotLeading is StepDown's answer on a node that does not lead.
var ErrNotLeading = errors.New("cluster: this node does not lead")

// StepDown gives the leadership up: the lease is deleted on its revision
// (so a newer lease is never touched) and this elector does not campaign
// again, so another node's next Create wins within its TryEvery. It
// returns once the lease is released, with ErrNotLeading when this node
// does not lead, or with the deletion's error (the lease then expires
// after its TTL; the node must stop answering all the same).
func (e *Elector) StepDown(ctx context.Context) error {
	if leading, _ := e.Leading(); !leading {
		return ErrNotLeading
	}
	res := make(chan error, 1)
	select {
	case e.stepReq <- res:
	case <-e.ran:
		return ErrNotLeading
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-res:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// SteppedDown is closed once StepDown has released the lease.
func (e *Elector) SteppedDown() <-chan struct{} { return e.stepped }

// campaign tries to create the key until it wins or ctx ends; it returns
// the key's revision and when the winning try began.
func (e *Elector) campaign(ctx context.Context) (uint64, time.Time, bool) {
	val, err := json.Marshal(e.cfg.Self)
	if err != nil {
		panic(err) // a struct of strings
	}
	if e.cfg.HoldOff > 0 {
		e.observe(ctx)
		select {
		case <-ctx.Done():
			return 0, time.Time{}, false
		case <-time.After(e.cfg.HoldOff):
		}
	}
	tick := time.NewTicker(e.cfg.TryEvery)
	defer tick.Stop()
	for {
		began := time.Now()
		c, cancel := context.WithTimeout(ctx, e.cfg.TTL)
		rev, err := e.bucket().Create(c, leaderKey, val)
		cancel()
		if err == nil {
			e.cfg.Log.Info("elected leader", "term", rev)
			return rev, began, true
		}
		if !errors.Is(err, jetstream.ErrKeyExists) && ctx.Err() == nil {
			e.cfg.Log.Debug("campaign: lease not created", "error", err)
		}
		e.observe(ctx)
		select {
		case <-ctx.Done():
			return 0, time.Time{}, false
		case <-tick.C:
		}
	}
}

// Lookup reads the lease as it is now: the zero Lease when no node
// leads.
func (e *Elector) Lookup(ctx context.Context) (Lease, error) {
	kv := e.bucket()
	if kv == nil {
		return Lease{}, ErrNoBucket
	}
	entry, err := kv.Get(ctx, leaderKey)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return Lease{}, nil
	}
	if err != nil {
		return Lease{}, err
	}
	var l Lease
	if err := json.Unmarshal(entry.Value(), &l); err != nil {
		return Lease{}, fmt.Errorf("cluster: leader lease: %w", err)
	}
	if l.Term == 0 {
		l.Term = entry.Revision()
	}
	return l, nil
}

// observe reads the current lease, for Current.
func (e *Elector) observe(ctx context.Context) {
	c, cancel := context.WithTimeout(ctx, e.cfg.TryEvery*5)
	defer cancel()
	l, _ := e.Lookup(c)
	e.mu.Lock()
	if l.Term != e.current.Term && l.Node != "" {
		e.cfg.Log.Info("leader", "node", l.Node, "term", l.Term)
	}
	e.current = l
	e.mu.Unlock()
}

// renewAttempt bounds one renewal request. nats-server does not answer a
// request that reaches the bucket's stream while its raft leader changes
// (a placement move, a lost server): the request is lost, not late. A
// renewal that waited on it for the whole StopAfter would cost the lease
// for one dropped message, so it is asked again after this instead.
const renewAttempt = 300 * time.Millisecond

// renew keeps the lease: a renewal (an Update on the revision) every
// RenewEvery, and one at once for each Renew. It returns nil when ctx
// ends, or ErrLostLeadership once no renewal begun in the last StopAfter
// succeeded (or another node holds the key).
func (e *Elector) renew(ctx context.Context, rev uint64) error {
	self := e.cfg.Self
	self.Term = rev
	val, _ := json.Marshal(self)
	lastOK := time.Now()  // when the last successful renewal began
	var rtt time.Duration // how long it took
	tick := time.NewTicker(e.cfg.RenewEvery)
	defer tick.Stop()
	for {
		var asked chan time.Time // a Renew waiting for this renewal
		select {
		case <-ctx.Done():
			// A clean stop hands over at once: the next candidate need
			// not wait for the key to expire.
			_ = e.release(rev)
			return nil
		case res := <-e.stepReq:
			err := e.release(rev)
			if err != nil {
				err = fmt.Errorf("cluster: release the leader lease: %w", err)
			}
			e.cfg.Log.Info("stepped down", "term", self.Term, "error", err)
			res <- err
			return errSteppedDown
		case asked = <-e.renewReq:
			tick.Reset(e.cfg.RenewEvery)
		case <-tick.C:
		}
		next, began, err := e.renewOnce(ctx, val, rev, lastOK, rtt)
		switch {
		case err == nil:
			rev, lastOK, rtt = next, began, time.Since(began)
			e.holdsUntil.Store(began.Add(e.cfg.StopAfter).UnixNano())
			if asked != nil {
				asked <- began.Add(e.cfg.StopAfter)
			}
		case ctx.Err() != nil:
			continue // handled at the top
		default:
			return err
		}
	}
}

// renewOnce renews the lease at revision rev, asking again until one
// ask succeeds or StopAfter has passed since lastOK. Each ask is bounded
// by renewAttempt, or by three times the last renewal's round trip when
// that is longer (a loaded cluster answers late, not never). It returns
// the new revision and when the renewal that wrote it began, at the
// latest. A renewal whose answer was lost may have been stored all the
// same: the next ask is then refused (the revision moved) and the key,
// read back, holds this node's own value at a newer revision; that
// counts as renewed when the first ask began. A newer revision holding
// another value means another writer took the key; an older one is a
// replica behind (reads may be served by any replica), asked again.
func (e *Elector) renewOnce(ctx context.Context, val []byte, rev uint64, lastOK time.Time, rtt time.Duration) (uint64, time.Time, error) {
	first := time.Now()
	deadline := lastOK.Add(e.cfg.StopAfter)
	attempt := max(renewAttempt, 3*rtt)
	var err error
	for time.Now().Before(deadline) {
		began := time.Now()
		c, cancel := context.WithDeadline(ctx, minTime(began.Add(attempt), deadline))
		var next uint64
		next, err = e.bucket().Update(c, leaderKey, val, rev)
		cancel()
		switch {
		case err == nil:
			return next, began, nil
		case ctx.Err() != nil:
			return 0, time.Time{}, ctx.Err()
		case isWrongRevision(err):
			c, cancel := context.WithDeadline(ctx, minTime(time.Now().Add(attempt), deadline))
			entry, gerr := e.bucket().Get(c, leaderKey)
			cancel()
			switch {
			case gerr != nil || entry.Revision() <= rev:
				// Unreadable, or a replica behind: ask again.
			case bytes.Equal(entry.Value(), val):
				return entry.Revision(), first, nil // an earlier ask was stored
			default:
				return 0, time.Time{}, fmt.Errorf("%w: another node holds it (revision %d): %w", ErrLostLeadership, entry.Revision(), err)
			}
		case began.Equal(first):
			e.cfg.Log.Warn("renewing the leader lease failed; asking again", "error", err)
		default:
			e.cfg.Log.Debug("renewing the leader lease failed; asking again", "error", err)
		}
		if wait := time.Until(began.Add(renewRetry)); wait > 0 {
			select {
			case <-ctx.Done():
				return 0, time.Time{}, ctx.Err()
			case <-time.After(wait):
			}
		}
	}
	if err == nil { // not asked at all: this process was paused past the window
		return 0, time.Time{}, fmt.Errorf("%w: no renewal for %v", ErrLostLeadership, time.Since(lastOK).Round(time.Millisecond))
	}
	return 0, time.Time{}, fmt.Errorf("%w: no renewal for %v: %w", ErrLostLeadership, time.Since(lastOK).Round(time.Millisecond), err)
}

// renewRetry is the least time between two asks of one renewal.
const renewRetry = 50 * time.Millisecond

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// Renew renews the lease now, and returns until when it certainly holds
// (a renewal that began then plus StopAfter); ErrNotLeading when this
// node does not lead (or lost the lease meanwhile).
func (e *Elector) Renew(ctx context.Context) (time.Time, error) {
	if leading, _ := e.Leading(); !leading {
		return time.Time{}, ErrNotLeading
	}
	res := make(chan time.Time, 1)
	select {
	case e.renewReq <- res:
	case <-e.ran:
		return time.Time{}, ErrNotLeading
	case <-ctx.Done():
		return time.Time{}, ctx.Err()
	}
	select {
	case until := <-res:
		return until, nil
	case <-e.ran:
		return time.Time{}, ErrNotLeading
	case <-e.lost:
		return time.Time{}, ErrNotLeading
	case <-ctx.Done():
		return time.Time{}, ctx.Err()
	}
}

// release deletes the lease if it is still at revision rev.
func (e *Elector) release(rev uint64) error {
	c, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	return e.bucket().Delete(c, leaderKey, jetstream.LastRevision(rev))
}

func isWrongRevision(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) &&
		(apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence || apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant)
}

// Won is closed when this node becomes the leader.
func (e *Elector) Won() <-chan struct{} { return e.won }

// Lost is closed when this node stopped leading; Err says why.
func (e *Elector) Lost() <-chan struct{} { return e.lost }

// Err is why leadership was lost, once Lost is closed.
func (e *Elector) Err() error {
	select {
	case <-e.lost:
		return e.lostErr
	default:
		return nil
	}
}

// Leading reports whether this node leads now, and its term.
func (e *Elector) Leading() (bool, uint64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.leading, e.term
}

// Holds reports whether this node leads and its lease is certainly still
// its own: a renewal began less than StopAfter ago succeeded. Unlike
// Leading, which turns false when the renewing loop gives up, it turns
// false at that instant, so a writer that asks it before every append
// sends nothing once another node may have won the key.
func (e *Elector) Holds() bool {
	until := e.holdsUntil.Load()
	return until != 0 && time.Now().UnixNano() < until
}

// Current is the latest lease this node knows of (zero when none).
func (e *Elector) Current() Lease {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.current
}

// Retry calls fn until it succeeds or ctx ends, backing off up to a second
// and logging every few seconds: JetStream answers "not ready" until the
// cluster has a quorum and a meta leader.
func Retry(ctx context.Context, log hclog.Logger, what string, fn func(context.Context) error) error {
	backoff := 50 * time.Millisecond
	// Short attempts first: a call made while a stream elects its raft
	// leader waits its whole timeout, though the stream may answer soon
	// after; later attempts get longer, for a slow (loaded) cluster.
	attempt := time.Second
	var lastLog time.Time
	for {
		c, cancel := context.WithTimeout(ctx, attempt)
		attempt = min(2*attempt, 8*time.Second)
		err := fn(c)
		cancel()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("cluster: %s: %w (last error: %w)", what, ctx.Err(), err)
		}
		if time.Since(lastLog) > 5*time.Second {
			log.Warn("waiting for the NATS cluster (a quorum of nodes)", "for", what, "error", err)
			lastLog = time.Now()
		}
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, time.Second)
	}
}
