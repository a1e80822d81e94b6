package forward

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/nats-io/nats.go"

	"github.com/licensegw/licensegw/internal/retry"
	"github.com/licensegw/licensegw/sdk"
)

// Defaults of Config.
const (
	// DefaultRetry is how long a call keeps retrying while no node leads:
	// an election after the leader's lease expired takes about 2 s.
	DefaultRetry = 6 * time.Second
	// DefaultAttempt bounds one attempt: the leader waits up to 5 s for
	// the journal before it answers "unavailable".
	DefaultAttempt = 7 * time.Second
)

// Config configures a Forwarder.
type Config struct {
	Conn   *nats.Conn
	Prefix string
	Node   string // this node's name
	// Signer is this node's grant-signing key (every node of a cluster
	// has the same one): PublicKey and Sign are answered locally. nil
	// when the gateway does not sign.
	Signer ed25519.PrivateKey
	// Retry bounds the retries of a call that found no leader;
	// DefaultRetry when 0.
	Retry time.Duration
	// Attempt bounds one attempt; DefaultAttempt when 0.
	Attempt time.Duration
	// Term, if set, reports the current leader's term (0 when unknown):
	// tickets queued under an older term are ended (reason restart),
	// because a new leader dequeues every ticket it replays.
	Term func() uint64
	Log  hclog.Logger
}

// Forwarder sends a node's seat calls to the leader.
type Forwarder struct {
	cfg    Config
	sub    *nats.Subscription
	nextID atomic.Uint64
	idBase string

	mu      sync.Mutex
	waiters map[string]*waiter

	local atomic.Pointer[Local] // while this node leads (Lead)

	// newTerm is closed, and replaced, when watchTerm sees another
	// leader term: an attempt sent before then is sent again (the old
	// leader may have dropped it unanswered while it handed over).
	termMu  sync.Mutex
	newTerm chan struct{}

	done chan struct{}
	wg   sync.WaitGroup
}

// New starts a Forwarder: it subscribes to its node's ticket updates.
func New(cfg Config) (*Forwarder, error) {
	if cfg.Retry <= 0 {
		cfg.Retry = DefaultRetry
	}
	if cfg.Attempt <= 0 {
		cfg.Attempt = DefaultAttempt
	}
	if cfg.Log == nil {
		cfg.Log = hclog.NewNullLogger()
	}
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	f := &Forwarder{cfg: cfg, waiters: map[string]*waiter{}, done: make(chan struct{}), newTerm: make(chan struct{}),
		idBase: "fw-" + cfg.Node + "-" + hex.EncodeToString(rnd[:]) + "-"}
	sub, err := cfg.Conn.Subscribe(TicketSubject(cfg.Prefix, cfg.Node), f.onUpdate)
	if err != nil {
		return nil, fmt.Errorf("forward: subscribe to ticket updates: %w", err)
	}
	f.sub = sub
	if err := cfg.Conn.Flush(); err != nil {
		_ = sub.Unsubscribe()
		return nil, fmt.Errorf("forward: %w", err)
	}
	if cfg.Term != nil {
		f.wg.Go(f.watchTerm)
	}
	return f, nil
}

// Close stops the Forwarder; waiting tickets end as unavailable.
func (f *Forwarder) Close() {
	select {
	case <-f.done:
		return
	default:
	}
	close(f.done)
	_ = f.sub.Unsubscribe()
	f.wg.Wait()
	f.mu.Lock()
	ws := f.waiters
	f.waiters = map[string]*waiter{}
	f.mu.Unlock()
	for _, w := range ws {
		w.deliver(sdk.TicketUpdate{Ticket: w.ticket, Denial: &sdk.Denial{Reason: "restart", Message: "the gateway stopped"}})
	}
}

// id is unique to this process: request keys and waiter names.
func (f *Forwarder) id() string {
	return f.idBase + strconv.FormatUint(f.nextID.Add(1), 10)
}

// retryStep is the longest wait between two attempts of a call.
const retryStep = 100 * time.Millisecond

// ErrNoLeader is why a call failed after its retries: no node answered.
// It wraps sdk.ErrUnavailable.
var ErrNoLeader = fmt.Errorf("%w: no cluster leader answered", sdk.ErrUnavailable)

// call sends req to op's subject and waits for the leader's answer,
// retrying while no node leads (no responders, a timed-out attempt, an
// "unavailable" answer) for at most Config.Retry after the first attempt.
// req.Attempt counts the attempts.
func (f *Forwarder) call(ctx context.Context, op string, req *request) (*reply, error) {
	req.Node = f.cfg.Node
	subject := Subject(f.cfg.Prefix, op)
	// Short steps: "no responders" is answered by this node's own server
	// at once, so a call waiting for the next leader costs little, and
	// long steps would leave it waiting after the leader serves (they made
	// up most of a hand-over's pause: the next leader serves within about
	// 0.2 s of the step-down).
	p := retry.Policy{Initial: 20 * time.Millisecond, Max: retryStep, GiveUpAfter: f.cfg.Retry}
	var answered *reply
	_, err := retry.Do(ctx, p, func() (struct{}, error) {
		req.Attempt++
		data, err := json.Marshal(req)
		if err != nil {
			return struct{}{}, retry.Permanent(err)
		}
		actx, cancel := context.WithTimeout(ctx, f.cfg.Attempt)
		if f.cfg.Term != nil {
			// A leader that hands over drops the requests it has not
			// taken up yet, and one sent while its subscription goes
			// away is lost on the way: neither is ever answered. Once
			// another leader's term is known, the attempt is sent again
			// (to it) instead of waiting out Attempt.
			sent := f.cfg.Term()
			go func() {
				for newTerm := f.termChange(); ; newTerm = f.termChange() {
					if t := f.cfg.Term(); t != 0 && t != sent {
						cancel()
						return
					}
					select {
					case <-newTerm:
					case <-actx.Done():
						return
					}
				}
			}()
		}
		m, err := f.cfg.Conn.RequestWithContext(actx, subject, data)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return struct{}{}, retry.Permanent(err)
			}
			// No responders (no leader), a timeout (the leader died or
			// stalled), a new leader elected meanwhile, a connection
			// being re-established: retried.
			return struct{}{}, err
		}
		var r reply
		if err := json.Unmarshal(m.Data, &r); err != nil {
			return struct{}{}, retry.Permanent(fmt.Errorf("forward: bad answer: %w", err))
		}
		if r.Err != nil && r.Err.Code == codeUnavailable {
			// The leader cannot journal now (it lost its quorum, or it
			// is stepping down): another attempt may find a new one.
			return struct{}{}, r.Err.err()
		}
		answered = &r
		return struct{}{}, nil
	})
	if err != nil {
		if errors.Is(err, sdk.ErrUnavailable) {
			return nil, err
		}
		if errors.Is(err, nats.ErrNoResponders) {
			return nil, ErrNoLeader
		}
		return nil, fmt.Errorf("%w: forward %s to the leader: %w", sdk.ErrUnavailable, op, err)
	}
	return answered, nil
}

// Seats is the accounting as plugin (speaking protocol) on this node sees
// it: every call goes to the leader.
func (f *Forwarder) Seats(plugin, protocol string) sdk.Seats {
	return &seats{f: f, plugin: plugin, protocol: protocol}
}

// ReleaseBound asks the leader to end the leases granted before before and
// bound to connections this node holds through plugin ("" for every
// plugin: the node restarted).
func (f *Forwarder) ReleaseBound(ctx context.Context, plugin string, before time.Time) error {
	if l := f.leading(); l != nil {
		if err := l.Engine.ReleaseBoundOn(ctx, f.cfg.Node, plugin, before); answeredLocally(err) {
			return err
		}
	}
	r, err := f.call(ctx, opRelease, &request{Plugin: plugin, Before: before})
	if err != nil {
		return err
	}
	return r.Err.err()
}

// Ping reports whether a leader answers.
func (f *Forwarder) Ping(ctx context.Context) (term uint64, err error) {
	if l := f.leading(); l != nil {
		return l.Term, nil
	}
	r, err := f.call(ctx, opPing, &request{})
	if err != nil {
		return 0, err
	}
	return r.Term, r.Err.err()
}

// AdminStatus decodes the leader's admin status into v.
func (f *Forwarder) AdminStatus(ctx context.Context, v any) error {
	r, err := f.call(ctx, opAdmin, &request{})
	if err != nil {
		return err
	}
	if r.Err != nil {
		return r.Err.err()
	}
	zr, err := gzip.NewReader(bytes.NewReader(r.Status))
	if err != nil {
		return fmt.Errorf("forward: status: %w", err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		return fmt.Errorf("forward: status: %w", err)
	}
	return json.Unmarshal(b, v)
}

// RemoveLease asks the leader to remove a lease as an administrator (by
// names who asked). A retried removal that finds the lease gone is done.
func (f *Forwarder) RemoveLease(ctx context.Context, id, by string) error {
	req := &request{Lease: id, Actor: by}
	r, err := f.call(ctx, opAdminRm, req)
	if err != nil {
		return err
	}
	err = r.Err.err()
	if req.Attempt > 1 && errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

// Reload asks the leader to reread its configuration.
func (f *Forwarder) Reload(ctx context.Context) error {
	r, err := f.call(ctx, opAdminLoad, &request{})
	if err != nil {
		return err
	}
	return r.Err.err()
}
