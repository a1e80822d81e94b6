package journal

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/licensegw/licensegw/gateway/events"
)

// ErrNotReady is the cause Ready reports while the journal cannot append.
var ErrNotReady = errors.New("journal: cannot append")

// link is one connection to NATS and what hangs off it. The publisher
// replaces the journal's link when a dialed connection is closed for good
// (nats.go closes a connection, instead of reconnecting, on some server
// errors); everyone else loads the current one.
type link struct {
	nc     *nats.Conn
	js     jetstream.JetStream
	stream jetstream.Stream
	acks   *acks // answers to the publisher's publishes
	owned  bool  // dialed by the journal, closed by it
}

// connect opens a link: Config.Conn the first time, a dialed connection
// otherwise. With create, the stream is created or updated to the
// configuration; without, it is only looked up.
func (j *Journal) connect(ctx context.Context, create bool) (*link, error) {
	l := &link{nc: j.cfg.Conn}
	if l.nc == nil || !create {
		if j.cfg.Dial == nil {
			return nil, fmt.Errorf("%w: connection closed and no Dial to reopen it", ErrNotReady)
		}
		opts := []nats.Option{nats.MaxReconnects(-1), nats.ClosedHandler(func(*nats.Conn) { j.poke() })}
		if j.cfg.MayWrite != nil {
			// No reconnect buffer: a publish made while disconnected
			// fails now and is retried by the publisher, which asks
			// MayWrite first, instead of going out by itself on
			// reconnect, perhaps long after the lease was lost.
			opts = append(opts, nats.ReconnectBufSize(-1))
		}
		nc, err := j.cfg.Dial(opts...)
		if err != nil {
			return nil, fmt.Errorf("journal: connect: %w", err)
		}
		l.nc, l.owned = nc, true
	}
	if err := l.open(ctx, j.cfg, create); err != nil {
		l.close()
		return nil, err
	}
	return l, nil
}

func (l *link) open(ctx context.Context, cfg Config, create bool) error {
	js, err := jetstream.New(l.nc)
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	l.js = js
	if create {
		// The journal first, so that subjects it held before version
		// 2 are free for the lifecycle stream.
		if l.stream, err = ensureStream(ctx, js, streamConfig(cfg)); err == nil {
			_, err = ensureStream(ctx, js, lifecycleConfig(cfg))
		}
	} else {
		l.stream, err = js.Stream(ctx, cfg.Stream)
	}
	if err != nil {
		return fmt.Errorf("journal: stream %s: %w", cfg.Stream, err)
	}
	if l.acks, err = newAcks(l.nc); err != nil {
		return fmt.Errorf("journal: ack subscription: %w", err)
	}
	return nil
}

func (l *link) close() {
	if l.acks != nil {
		l.acks.close()
	}
	if l.owned {
		l.nc.Close()
	}
}

func streamConfig(cfg Config) jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:        cfg.Stream,
		Description: "licensegw events: the audit trail and the gateway's journal",
		Subjects:    events.StreamSubjects(cfg.Prefix),
		Storage:     jetstream.FileStorage,
		Retention:   jetstream.LimitsPolicy,
		Discard:     jetstream.DiscardOld,
		Replicas:    cfg.Replicas,
		// No MaxAge or MaxBytes: JetStream would delete events that no
		// snapshot covers. The gateway trims the stream itself (Trim).
		// Headers (ids, fences) come on top of the bounded payload.
		MaxMsgSize:  events.MaxBytes + 1024,
		Duplicates:  DuplicateWindow,
		AllowDirect: true,
	}
}

func lifecycleConfig(cfg Config) jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:        events.LifecycleStream(cfg.Stream),
		Description: "licensegw lifecycle: gateway, plugin and cluster messages (not the journal)",
		Subjects:    events.LifecycleSubjects(cfg.Prefix),
		Storage:     jetstream.FileStorage,
		Retention:   jetstream.LimitsPolicy,
		Discard:     jetstream.DiscardOld,
		Replicas:    cfg.Replicas,
		// Not the journal: JetStream trims it by itself.
		MaxAge:     cmp.Or(cfg.LifecycleLimits.MaxAge, DefaultLifecycleAge),
		MaxBytes:   cmp.Or(cfg.LifecycleLimits.MaxBytes, -1),
		MaxMsgs:    cmp.Or(cfg.LifecycleLimits.MaxMsgs, -1),
		Duplicates: DuplicateWindow,
	}
}

// DefaultLifecycleAge is how long the lifecycle stream keeps a message
// unless Config.LifecycleLimits says otherwise.
const DefaultLifecycleAge = 30 * 24 * time.Hour

// redialTimeout bounds one attempt to reopen a closed connection.
const redialTimeout = 5 * time.Second

// redial replaces a link whose connection is closed for good. It reports
// whether the journal has a usable link afterwards.
func (j *Journal) redial() bool {
	old := j.link.Load()
	if !old.nc.IsClosed() {
		return true
	}
	ctx, cancel := context.WithTimeout(context.Background(), redialTimeout)
	defer cancel()
	l, err := j.connect(ctx, false)
	if err != nil {
		j.cfg.Log.Warn("reconnecting to NATS failed; retrying", "error", err)
		return false
	}
	old.close()
	j.link.Store(l)
	j.cfg.Log.Info("reconnected to NATS with a new connection", "url", l.nc.ConnectedUrlRedacted())
	return true
}

// Nudge tells the journal that the stream's raft leader has just moved (a
// cluster leader moves it off its own server). A publish that reached the
// old leader during the change may have been dropped with no answer, and
// the ack timeout (2 s of silence) would hold every request behind it: what
// is still unanswered is sent again at once, under the same ids and fences,
// so a copy the stream stored already is acknowledged as a duplicate or
// found by the reconcile that follows a fence's refusal.
func (j *Journal) Nudge() {
	select {
	case j.nudge <- struct{}{}:
	default: // one is pending
	}
}

// poke tells the publisher to look at its queue and its connection.
func (j *Journal) poke() {
	select {
	case j.wake <- struct{}{}:
	default: // the publisher is already due to look
	}
}

// Ready reports whether the journal can append now: its connection is up
// and the latest publishes succeeded. It wraps ErrNotReady otherwise. The
// gateway's /readyz and its requests' fast "unavailable" answers use it.
func (j *Journal) Ready() error {
	if d := j.deposed.Load(); d != nil {
		return fmt.Errorf("%w: %w", ErrNotReady, *d)
	}
	if !j.mayWrite() {
		// The lease may be gone before the publisher next looks: an
		// answer made from this writer's state now (a retransmitted
		// checkout's, which appends nothing) may be one the next
		// leader never hears of.
		return fmt.Errorf("%w: %w", ErrNotReady, ErrRevoked)
	}
	// One look at the status (every request asks, and the connection's
	// lock is the publisher's too).
	switch st := j.link.Load().nc.Status(); st {
	case nats.CONNECTED, nats.DRAINING_SUBS, nats.DRAINING_PUBS:
	case nats.CLOSED:
		return fmt.Errorf("%w: NATS connection closed, reopening", ErrNotReady)
	default:
		return fmt.Errorf("%w: NATS connection %s, reconnecting", ErrNotReady, st)
	}
	if since := j.failingSince.Load(); since != 0 {
		return fmt.Errorf("%w: publishes failing since %s", ErrNotReady, time.Unix(0, since).UTC().Format(time.RFC3339Nano))
	}
	return nil
}

// failing and recovered track Ready's view of publishing.
func (j *Journal) failing() { j.failingSince.CompareAndSwap(0, time.Now().UnixNano()) }
func (j *Journal) recovered() {
	if j.failingSince.Swap(0) != 0 {
		j.cfg.Log.Info("publishing events recovered")
	}
}

// ensureStream creates the stream want, or updates it when its
// configuration differs. A stream that is already as wanted (a cluster's
// next leader opening the journal) is only looked up: the stream's leader
// answers that, while a create or update goes through the JetStream meta
// leader, which the previous leader's hand-over has just moved (its
// election then holds up the takeover for up to seconds).
func ensureStream(ctx context.Context, js jetstream.JetStream, want jetstream.StreamConfig) (jetstream.Stream, error) {
	if st, err := js.Stream(ctx, want.Name); err == nil && sameStream(st.CachedInfo().Config, want) {
		return st, nil
	}
	return js.CreateOrUpdateStream(ctx, want)
}

// sameStream reports whether have, a stream's configuration as the server
// reports it, is want in every field the journal sets. Unset limits are
// -1 on the server.
func sameStream(have, want jetstream.StreamConfig) bool {
	limit := func(v int64) int64 {
		if v == 0 {
			return -1
		}
		return v
	}
	return have.Description == want.Description && slices.Equal(have.Subjects, want.Subjects) &&
		have.Storage == want.Storage && have.Retention == want.Retention && have.Discard == want.Discard &&
		max(have.Replicas, 1) == max(want.Replicas, 1) && have.MaxAge == want.MaxAge &&
		limit(have.MaxBytes) == limit(want.MaxBytes) && limit(have.MaxMsgs) == limit(want.MaxMsgs) &&
		limit(int64(have.MaxMsgSize)) == limit(int64(want.MaxMsgSize)) &&
		have.Duplicates == want.Duplicates && have.AllowDirect == want.AllowDirect
}
