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
// Only events the read rule counts reach fn (see readRule), and term events
// do not: they carry no accounting. It returns the sequence replay reached: the
// stream's last sequence when Replay started (or afterSeq if that is later),
// so that a later Replay from it sees only newer events. An error from fn
// stops the replay and is returned, wrapped, with the sequence of the last
// event fn accepted.
//
// The events come from an ephemeral push consumer with flow control and no
// acks: the server streams them as fast as the connection takes them, which
// measured about twice as fast as pulling them in batches.
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

	nc := l.nc
	inbox := nc.NewInbox()
	sub, err := nc.SubscribeSync(inbox)
	if err != nil {
		return afterSeq, fmt.Errorf("journal: replay: %w", err)
	}
	defer func() { _ = sub.Unsubscribe() }()
	if err := sub.SetPendingLimits(-1, -1); err != nil {
		return afterSeq, fmt.Errorf("journal: replay: %w", err)
	}

	cons, err := l.stream.CreateOrUpdatePushConsumer(ctx, jetstream.ConsumerConfig{
		Description:       "licensegw replay",
		DeliverSubject:    inbox,
		FilterSubject:     j.cfg.Prefix + ".events.>",
		DeliverPolicy:     jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:       afterSeq + 1,
		AckPolicy:         jetstream.AckNonePolicy,
		FlowControl:       true,
		IdleHeartbeat:     replayHeartbeat,
		InactiveThreshold: 30 * time.Second, // removed by the server if we vanish
		MemoryStorage:     true,
	})
	if err != nil {
		return afterSeq, fmt.Errorf("journal: replay: consumer: %w", err)
	}
	name := cons.CachedInfo().Name
	defer func() {
		// Best effort: the inactive threshold removes it otherwise.
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = l.stream.DeleteConsumer(ctx, name)
	}()
	// The filter may leave nothing to deliver (only lifecycle messages
	// after afterSeq): then there is nothing to wait for.
	if cons.CachedInfo().NumPending == 0 {
		return end, nil
	}

	done := afterSeq
	var delivered uint64 // consumer sequence of the last message
	names := make(interner)
	var rule readRule
	var idle time.Duration // waited since the last message
	for {
		if err := ctx.Err(); err != nil {
			return done, fmt.Errorf("journal: replay after %d: %w", done, err)
		}
		// NextMsg returns at once when a message is there: no context
		// and timer per message, and ctx is checked between waits.
		msg, err := sub.NextMsg(replayPoll)
		if errors.Is(err, nats.ErrTimeout) && idle < replayStall {
			idle += replayPoll
			continue
		}
		if err != nil {
			return done, fmt.Errorf("journal: replay after %d: %w", done, err)
		}
		idle = 0
		if len(msg.Data) == 0 && msg.Header.Get("Status") == "100" {
			if msg.Reply != "" { // flow control: the server waits for this
				if err := nc.Publish(msg.Reply, nil); err != nil {
					return done, fmt.Errorf("journal: replay: flow control: %w", err)
				}
			}
			continue // or an idle heartbeat
		}
		md, err := msg.Metadata()
		if err != nil {
			return done, fmt.Errorf("journal: replay after %d: %w", done, err)
		}
		if md.Sequence.Consumer != delivered+1 {
			return done, fmt.Errorf("%w: after %d", ErrReplayGap, done)
		}
		delivered = md.Sequence.Consumer
		seq := md.Sequence.Stream
		if seq > end {
			return end, nil // appended after Replay began
		}
		var ev events.Event
		if err := decodeEvent(msg.Data, &ev, names); err != nil {
			return done, fmt.Errorf("journal: replay: event at %d (%s): %w", seq, msg.Subject, err)
		}
		j.sawTerm(ev.Term)
		if rule.counts(&ev) && ev.Kind != events.TermKind {
			if err := fn(seq, ev); err != nil {
				return done, fmt.Errorf("journal: replay: at %d: %w", seq, err)
			}
		}
		done = seq
		if seq == end || md.NumPending == 0 {
			return end, nil
		}
	}
}
