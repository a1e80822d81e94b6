package journal

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/licensegw/licensegw/gateway/events"
)

// ErrReplayGap is the cause reported when a replay's delivery skipped a
// message (the connection dropped some): the replay must be run again.
var ErrReplayGap = errors.New("journal: replay delivery skipped messages")

// ErrReplayShort is the cause reported when a walk's consumer stopped
// delivering before the sequence the stream's leader gave as its last: the
// consumer is served by a replica that is behind (one just back from a
// partition, say). The walk must be run again; taking what it delivered as
// the whole stream would start a term on a tail that is not the stream's
// (a term event chained to the wrong predecessor, a new leader missing the
// last grants).
var ErrReplayShort = errors.New("journal: replay delivery ended before the stream's last message")

const (
	// replayHeartbeat is how often an idle replay consumer says it is
	// alive; replayStall is how long a replay waits without any message
	// before it gives up.
	replayHeartbeat = time.Second
	replayStall     = 5 * time.Second
	replayPoll      = 100 * time.Millisecond // how often a waiting replay checks its ctx
)

// Replay calls fn for every event in the stream after sequence afterSeq, in
// stream order, up to the last message present when Replay was called.
// Only events the read rule counts reach fn (see Verifier), and term and
// seal events do not: they carry no accounting. It returns the sequence
// replay reached: the stream's last sequence when Replay started (or
// afterSeq if that is later), so that a later Replay from it sees only
// newer events. An error from fn stops the replay and is returned,
// wrapped, with the sequence of the last event fn accepted.
//
// Replay verifies the hash chain as it goes, from the event at afterSeq
// (taken as given: what a snapshot includes is not replayed), checking
// seals' signatures with Config.Signer's public key. An event that breaks
// the chain is not applied: Replay stops with a *BreakError (ErrBroken)
// naming its stream sequence.
func (j *Journal) Replay(ctx context.Context, afterSeq uint64, fn func(seq uint64, ev events.Event) error) (lastSeq uint64, err error) {
	l := j.link.Load()
	info, err := l.stream.Info(ctx)
	if err != nil {
		return afterSeq, fmt.Errorf("journal: replay: stream info: %w", err)
	}
	end := info.State.LastSeq
	if end <= afterSeq || info.State.Msgs == 0 {
		return afterSeq, nil
	}
	done := afterSeq
	var stop error // fn's error
	var held heldEvent
	apply := func() error {
		if !held.ok {
			return nil
		}
		h := held
		held = heldEvent{}
		if err := fn(h.seq, h.ev); err != nil {
			stop = fmt.Errorf("journal: replay: at %d: %w", h.seq, err)
			return stop
		}
		done = h.seq
		return nil
	}
	names := make(interner)
	v := NewVerifier(j.publicKey(), j.cfg.Trusted...)
	from := max(afterSeq, 1) // the event at afterSeq anchors the chain
	_, err = walk(ctx, l.nc, l.stream, j.cfg.Prefix, from, end, func(seq uint64, data []byte) error {
		var ev events.Event
		if err := decodeEvent(data, &ev, names); err != nil {
			return &BreakError{Seq: seq, At: seq, Reason: fmt.Sprintf("undecodable event: %v", err)}
		}
		j.sawTerm(ev.Term)
		counts, err := v.Feed(seq, data, &ev)
		if err != nil {
			var brk *BreakError
			if errors.As(err, &brk) && brk.Seq > held.seq {
				_ = apply() // the break is after it: it verified
			}
			return err
		}
		if !counts {
			return nil
		}
		// An event is applied once the next one confirms it (names its
		// hash), so a changed or inserted event, found out by its
		// successor, is never applied.
		if err := apply(); err != nil {
			return err
		}
		if seq > afterSeq && ev.Kind != events.TermKind && ev.Kind != events.SealKind {
			held = heldEvent{seq: seq, ev: ev, ok: true}
		}
		return nil
	})
	if err == nil {
		err = apply() // the last event: nothing after it to wait for
	}
	var brk *BreakError
	switch {
	case err == nil:
	case stop != nil:
		return done, stop
	case errors.As(err, &brk):
		return done, err
	default:
		return done, fmt.Errorf("journal: replay after %d: %w", done, err)
	}
	return end, nil
}

// createConsumer creates an ephemeral push consumer, again after a short
// wait while ctx lasts: in a cluster the request goes to the JetStream meta
// leader, and one made while that leader hands over (a node stopping) gets
// no answer; the next attempt reaches the new one. A consumer created by
// an attempt whose answer was lost is removed by its inactive threshold.
func createConsumer(ctx context.Context, stream jetstream.Stream, cfg jetstream.ConsumerConfig) (jetstream.PushConsumer, error) {
	attempt := 2 * time.Second
	for {
		actx, cancel := context.WithTimeout(ctx, attempt)
		cons, err := stream.CreateOrUpdatePushConsumer(actx, cfg)
		cancel()
		if err == nil || ctx.Err() != nil || !errors.Is(err, context.DeadlineExceeded) && !unavailableNow(err) {
			return cons, err
		}
		if unavailableNow(err) {
			// Answered at once: wait a little before asking again.
			select {
			case <-ctx.Done():
				return cons, err
			case <-time.After(200 * time.Millisecond):
			}
			continue
		}
		attempt = min(2*attempt, 16*time.Second)
	}
}

// unavailableNow reports whether err is JetStream's "system temporarily
// unavailable" (HTTP-like code 503): the meta group is electing a leader,
// so the same request succeeds a moment later. A take-over's replay that
// failed on it made the new leader give up and exit.
func unavailableNow(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && apiErr.Code == 503
}

// walk delivers the raw payload of every message of the events subjects
// from sequence from to end, in stream order, to fn; an error from fn stops
// it and is returned as is. It returns the last sequence delivered.
//
// The messages come from an ephemeral push consumer with flow control and
// no acks: the server streams them as fast as the connection takes them,
// which measured about twice as fast as pulling them in batches.
func walk(ctx context.Context, nc *nats.Conn, stream jetstream.Stream, prefix string, from, end uint64, fn func(seq uint64, data []byte) error) (uint64, error) {
	inbox := nc.NewInbox()
	sub, err := nc.SubscribeSync(inbox)
	if err != nil {
		return 0, err
	}
	defer func() { _ = sub.Unsubscribe() }()
	if err := sub.SetPendingLimits(-1, -1); err != nil {
		return 0, err
	}

	cons, err := createConsumer(ctx, stream, jetstream.ConsumerConfig{
		Description:       "licensegw replay",
		DeliverSubject:    inbox,
		FilterSubject:     prefix + ".events.>",
		DeliverPolicy:     jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:       from,
		AckPolicy:         jetstream.AckNonePolicy,
		FlowControl:       true,
		IdleHeartbeat:     replayHeartbeat,
		InactiveThreshold: 30 * time.Second, // removed by the server if we vanish
		MemoryStorage:     true,
	})
	if err != nil {
		return 0, fmt.Errorf("consumer: %w", err)
	}
	name := cons.CachedInfo().Name
	defer func() {
		// Best effort: the inactive threshold removes it otherwise.
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = stream.DeleteConsumer(ctx, name)
	}()
	// The consumer may be served by a replica behind the stream's leader,
	// which gave end: its NumPending then says 0 (here, or on a message)
	// before end. Nothing is taken as the end but end itself, or a wait of
	// replayStall with no message: then the tail is looked up, since the
	// message at end may have been deleted (a repair).
	var done uint64
	var delivered uint64   // consumer sequence of the last message
	var idle time.Duration // waited since the last message, heartbeats included
	var quiet time.Duration
	if cons.CachedInfo().NumPending == 0 && walkEnded(ctx, stream, from-1, end) == nil {
		return 0, nil // nothing left from from on (the filter, or deletions)
	}
	for {
		if err := ctx.Err(); err != nil {
			return done, err
		}
		// NextMsg returns at once when a message is there: no context
		// and timer per message, and ctx is checked between waits.
		msg, err := sub.NextMsg(replayPoll)
		if errors.Is(err, nats.ErrTimeout) {
			idle += replayPoll
			quiet += replayPoll
		}
		if quiet >= replayStall && (errors.Is(err, nats.ErrTimeout) || isHeartbeat(msg)) {
			return done, walkEnded(ctx, stream, done, end)
		}
		if errors.Is(err, nats.ErrTimeout) && idle < replayStall {
			continue
		}
		if err != nil {
			return done, err
		}
		idle = 0
		if len(msg.Data) == 0 && msg.Header.Get("Status") == "100" {
			if msg.Reply != "" { // flow control: the server waits for this
				if err := nc.Publish(msg.Reply, nil); err != nil {
					return done, fmt.Errorf("flow control: %w", err)
				}
			}
			continue // or an idle heartbeat
		}
		md, err := msg.Metadata()
		if err != nil {
			return done, err
		}
		quiet = 0
		if md.Sequence.Consumer != delivered+1 {
			return done, ErrReplayGap
		}
		delivered = md.Sequence.Consumer
		seq := md.Sequence.Stream
		if seq > end {
			return done, nil // appended after the walk began
		}
		if err := fn(seq, msg.Data); err != nil {
			return done, err
		}
		done = seq
		if seq == end || md.NumPending == 0 && walkEnded(ctx, stream, done, end) == nil {
			return done, nil
		}
	}
}

// isHeartbeat reports whether msg is a consumer's idle heartbeat or flow
// control message.
func isHeartbeat(msg *nats.Msg) bool {
	return msg != nil && len(msg.Data) == 0 && msg.Header.Get("Status") == "100"
}

// walkEnded decides a walk that has had no message for replayStall after
// done: complete if the stream's leader says every message after done up to
// end was deleted (a repair truncated the tail), ErrReplayShort otherwise.
// The leader is asked (stream info), not a direct get, which a replica that
// is behind may answer "not found".
func walkEnded(ctx context.Context, stream jetstream.Stream, done, end uint64) error {
	if done >= end {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	info, err := stream.Info(ctx, jetstream.WithDeletedDetails(true))
	if err != nil {
		return fmt.Errorf("%w: delivered up to %d of %d; stream info: %w", ErrReplayShort, done, end, err)
	}
	deleted := make(map[uint64]bool, len(info.State.Deleted))
	for _, seq := range info.State.Deleted {
		deleted[seq] = true
	}
	for seq := done + 1; seq <= end; seq++ {
		if !deleted[seq] {
			return fmt.Errorf("%w: delivered up to %d of %d", ErrReplayShort, done, end)
		}
	}
	return nil
}

// heldEvent is an event Replay verified but applies only once the next
// event confirms it.
type heldEvent struct {
	seq uint64
	ev  events.Event
	ok  bool
}
