package journal

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/hashicorp/go-hclog"
	"github.com/nats-io/nats.go"
	"github.com/oklog/ulid/v2"

	"github.com/licensegw/licensegw/gateway/events"
)

// ErrAckTimeout is the cause reported when the stream's acknowledgements of
// a burst did not all come within the ack timeout.
var ErrAckTimeout = errors.New("journal: no acknowledgement in time")

// ErrDeposed is reported when the stream refused an append's fence: another
// writer appended to the journal, so this one stops writing and answers
// nothing more (events v2).
var ErrDeposed = errors.New("journal: deposed: another writer appended to the journal")

// ErrRevoked is reported (wrapping ErrDeposed) once Config.MayWrite says
// this writer may no longer append: a cluster leader whose lease is gone
// sends nothing more, not even a retry of what it queued while it led,
// since the next leader may already have read the stream's tail.
var ErrRevoked = fmt.Errorf("%w: this writer's right to append was revoked (its leader lease is gone)", ErrDeposed)

// ErrClosed is reported for events appended after Close, or still pending
// when Close gave up waiting for them.
var ErrClosed = errors.New("journal: closed")

// DuplicateWindow is how long the stream remembers message ids: a publish
// retried within it is stored once.
const DuplicateWindow = 2 * time.Minute

// Config says where the journal writes.
type Config struct {
	// Conn is a connection the journal uses and does not close. If the
	// server closes it (rather than the connection reconnecting by
	// itself), the journal stops being able to append; use Dial for a
	// journal that outlives its connections.
	Conn *nats.Conn
	// Dial, used when Conn is nil, opens a connection with the options
	// given (the journal adds unlimited reconnects and a closed-connection
	// handler). The journal dials again, with backoff, whenever its
	// connection is closed for good, and closes its connection in Close.
	Dial     func(opts ...nats.Option) (*nats.Conn, error)
	Gateway  string // node name, written into every event
	Prefix   string // subject prefix; default events.DefaultPrefix
	Stream   string // stream name; default events.DefaultStream
	Replicas int    // stream replicas; default 1
	// LifecycleLimits are the lifecycle stream's JetStream limits (it is
	// not the journal: JetStream deletes by them itself); MaxAge 0 keeps
	// DefaultLifecycleAge.
	LifecycleLimits Retention
	Log             hclog.Logger // default: discard
	// ScanBatch is how many messages one request of Scan asks for;
	// default 8192. Tests make it small to cross batches cheaply.
	ScanBatch int
	// Term, when set, is the term this writer's history opens with (a
	// cluster's leader lease revision), if it is higher than every term
	// in the stream; otherwise the next term after the highest is used.
	Term uint64

	// Signer signs the seals that close the hash chain (the gateway's
	// signing key), and its public key checks seals at replay. Without
	// it, no seals are written and seals' signatures are not checked.
	Signer ed25519.PrivateKey
	// Trusted are earlier signing keys' public keys: seals they made
	// still verify after a rotation.
	Trusted []ed25519.PublicKey
	// SealEvery is the least time between two seals while events happen;
	// default one second (the most the contract allows).
	SealEvery time.Duration
	// MayWrite, when set, is asked before every send, retries included:
	// once it returns false the journal stops writing for good, as if
	// deposed (ErrRevoked). A cluster's leader passes whether it still
	// holds its lease, so that nothing it queued while leading is
	// stored after another node may have taken over. Its dialed
	// connections then keep no reconnect buffer (a publish made while
	// disconnected is not sent later behind the journal's back); a
	// Conn given should have none either (nats.ReconnectBufSize(-1)).
	MayWrite func() bool
	// Unchained writes events without prev and no seals, as a journal of
	// version 2 without the hash chain did. It exists to measure what the
	// chain costs (make bench); a gateway never sets it.
	Unchained bool
}

// Journal appends events to the event stream and replays them.
type Journal struct {
	cfg  Config
	link atomic.Pointer[link] // the current connection; replaced by redial

	// failingSince is when appends started failing (unix nanoseconds), or
	// 0 while they succeed; Ready reports it.
	failingSince atomic.Int64

	mu      sync.Mutex
	queue   []pending // appended, not yet handed to the publisher
	closing bool
	entropy *ulid.MonotonicEntropy
	idBuf   ulid.ULID // newID's scratch
	lastMs  uint64
	last    *Commit // the latest non-empty Append's

	wake    chan struct{} // a send means "the queue may have work"
	nudge   chan struct{} // a send means "the stream's leader moved" (Nudge)
	drain   chan struct{} // closed by Close: publish what is queued, then stop
	abort   chan struct{} // closed when Close's ctx ends: stop now
	stopped chan struct{} // closed when the publisher has returned

	// The writer's place in the history, owned by the publisher: its term
	// and the next idx, and the stream's last sequence the next event
	// expects (Nats-Expected-Last-Sequence).
	term, nextIdx, nextExpect uint64
	maxTerm                   atomic.Uint64 // the highest term seen in the stream
	termQueued                bool          // guarded by mu: the term event is queued
	deposed                   atomic.Pointer[error]
	deposedCh                 chan struct{} // closed with the first depose

	// The hash chain, owned by the publisher: the SHA-256 of the last
	// counted event (this writer's or, before its first, the stream's)
	// and the number of counted events since the stream began.
	head  [sha256.Size]byte
	count uint64
	// prevHex holds the hex of head as the next event's prev; recycled
	// holds messages of acknowledged events for reuse. Both are the
	// publisher's.
	prevHex  [2 * sha256.Size]byte
	recycled []*outMsg
	subjects subjectCache // the publisher's
	// sinceSeal (guarded by mu) counts events appended since the last seal
	// was queued.
	sinceSeal int
	lastTime  time.Time // guarded by mu: the last appended event's time

	lastSeq   atomic.Uint64
	closeOnce sync.Once
	abortOnce sync.Once
}

// Open creates the event stream, or updates it to cfg, and starts the
// publisher.
func Open(ctx context.Context, cfg Config) (*Journal, error) {
	if cfg.Conn == nil && cfg.Dial == nil {
		return nil, errors.New("journal: Config.Conn or Config.Dial is required")
	}
	if cfg.Prefix == "" {
		cfg.Prefix = events.DefaultPrefix
	}
	if cfg.Stream == "" {
		cfg.Stream = events.DefaultStream
	}
	if cfg.Replicas <= 0 {
		cfg.Replicas = 1
	}
	if cfg.Log == nil {
		cfg.Log = hclog.NewNullLogger()
	}
	if cfg.SealEvery <= 0 {
		cfg.SealEvery = time.Second
	}
	j := &Journal{
		cfg:     cfg,
		entropy: ulid.Monotonic(rand.Reader, 0),
		wake:    make(chan struct{}, 1),
		nudge:   make(chan struct{}, 1),
		drain:   make(chan struct{}),
		abort:   make(chan struct{}),
		stopped: make(chan struct{}),

		deposedCh: make(chan struct{}),
	}
	l, err := j.connect(ctx, true)
	if err != nil {
		return nil, err
	}
	j.link.Store(l)
	if err := j.readTail(ctx); err != nil {
		l.close()
		return nil, err
	}
	go j.publish()
	if j.sealing() {
		go j.sealer()
	}
	return j, nil
}

// sealing reports whether the journal writes seals.
func (j *Journal) sealing() bool { return j.cfg.Signer != nil && !j.cfg.Unchained }

// publicKey checks seals at replay (nil without a signer).
func (j *Journal) publicKey() ed25519.PublicKey {
	if j.cfg.Signer == nil {
		return nil
	}
	return j.cfg.Signer.Public().(ed25519.PublicKey)
}

// Prefix is the subject prefix the journal publishes under.
func (j *Journal) Prefix() string { return j.cfg.Prefix }

// Stream is the name of the event stream.
func (j *Journal) Stream() string { return j.cfg.Stream }

// Append stamps evs (Schema, ID, Gateway, and Time when zero) and queues them
// for publishing, in order, after everything appended before. It never
// blocks on the network, so the engine may call it under its lock. The
// caller may reuse evs once Append returns; Commit.Events has the stamped
// copies.
func (j *Journal) Append(evs []events.Event) *Commit {
	c := &Commit{}
	j.AppendTo(c, evs)
	return c
}

// AppendTo is Append into c, a zero Commit the caller allocated as a part
// of its own state (the ledger's asynchronous operations), which saves an
// allocation per Append. c must be new: never appended to before, never
// copied, never reused (the ids of its events share its memory, and the
// journal holds it until it is done).
func (j *Journal) AppendTo(c *Commit, evs []events.Event) {
	if c.events != nil || c.finished {
		panic("journal: AppendTo into a used Commit")
	}
	if len(evs) == 1 {
		c.events = c.one[:] // the common case: one allocation, not two
	} else {
		c.events = make([]events.Event, len(evs))
	}
	copy(c.events, evs)
	if len(evs) == 0 {
		c.finished = true // not shared yet: no lock
		return
	}
	c.remaining = len(evs)

	now := time.Now()
	j.mu.Lock()
	if j.closing {
		j.mu.Unlock()
		c.finish(ErrClosed)
		return
	}
	if d := j.deposed.Load(); d != nil {
		j.mu.Unlock()
		c.finish(*d)
		return
	}
	if !j.termQueued {
		// This writer's history opens with its term event.
		j.queueTermLocked(now, c.events[0].Time)
	}
	// IDs are drawn under the lock that orders the queue, so id order,
	// queue order and stream order are one order. The millisecond never
	// goes back, even if the wall clock does, so ids stay sorted.
	ids := c.idBytes()
	for i := range c.events {
		ev := &c.events[i]
		ev.ID = j.idInto(now, ids[i*ulid.EncodedSize:(i+1)*ulid.EncodedSize])
		ev.Schema = events.Schema
		ev.Gateway = j.cfg.Gateway
		if ev.Time.IsZero() {
			ev.Time = now
		}
		j.queue = append(j.queue, pending{commit: c, index: i})
	}
	j.sinceSeal += len(c.events)
	j.lastTime = c.events[len(c.events)-1].Time
	j.last = c
	j.mu.Unlock()
	j.poke()
}

// newID draws the next event id (see nextID) as a string of its own.
func (j *Journal) newID(now time.Time) string {
	return j.nextID(now).String()
}

// idInto draws the next event id (see nextID), writes its text into dst
// (ulid.EncodedSize bytes of a commit's idBytes) and returns it as a string
// that shares dst's memory: an id costs no allocation of its own. This is
// sound because dst is written once, here, before the string exists, and
// never again: it belongs to a Commit, which is never reused, so the string
// is as immutable as any other, and the garbage collector keeps the
// commit's memory alive while anything holds the id.
func (j *Journal) idInto(now time.Time, dst []byte) string {
	_ = j.nextID(now).MarshalTextTo(dst) // fails only on a short dst
	return unsafe.String(unsafe.SliceData(dst), len(dst))
}

// nextID draws the next event id into j.idBuf and returns it. j.mu is
// held: ids are drawn under the lock that orders the queue, so id order,
// queue order and stream order are one order. The millisecond never goes
// back, even if the wall clock does, so ids stay sorted.
func (j *Journal) nextID(now time.Time) *ulid.ULID {
	ms := ulid.Timestamp(now)
	if ms < j.lastMs {
		ms = j.lastMs
	}
	j.lastMs = ms
	// Into j.idBuf, not a local: ulid.New's entropy read through an
	// interface would move the id to the heap on every call.
	id := &j.idBuf
	if err := id.SetTime(ms); err == nil {
		err = j.entropy.MonotonicRead(ms, id[6:])
		if err == nil {
			return id
		}
	}
	// The entropy overflowed within one millisecond (2^80 ids): move to
	// the next millisecond.
	j.lastMs++
	j.idBuf = ulid.MustNew(j.lastMs, j.entropy)
	return id
}

// Sync waits until every event appended before the call is acknowledged,
// and returns the stream sequence of the last of them (LastSeq if there are
// none). Called with the engine's lock held, it gives the sequence that a
// snapshot of the engine's state corresponds to. It fails as Commit.Wait.
func (j *Journal) Sync(ctx context.Context) (uint64, error) {
	j.mu.Lock()
	last := j.last
	j.mu.Unlock()
	if last == nil {
		return j.LastSeq(), nil
	}
	// Commits complete in Append order: the last one done means all are.
	if err := last.Wait(ctx); err != nil {
		return 0, err
	}
	return last.Seq(), nil
}

// LastSeq is the stream sequence of the last event this journal had
// acknowledged, or 0 if none yet.
func (j *Journal) LastSeq() uint64 { return j.lastSeq.Load() }

// Close publishes every event already appended, then stops the publisher;
// later Appends fail with ErrClosed. If ctx ends first, Close stops at once:
// the commits still pending fail with ErrClosed and Close returns ctx's
// error. The connection is left open.
func (j *Journal) Close(ctx context.Context) error {
	j.closeOnce.Do(func() {
		j.mu.Lock()
		if j.sealing() {
			j.queueSealLocked(time.Now()) // a clean stop closes the chain
		}
		j.closing = true
		j.mu.Unlock()
		close(j.drain)
	})
	select {
	case <-j.stopped:
		return nil
	case <-ctx.Done():
		j.abortOnce.Do(func() { close(j.abort) })
		<-j.stopped
		return fmt.Errorf("journal: close: %w", ctx.Err())
	}
}
