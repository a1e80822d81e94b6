package journal

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/licensegw/licensegw/gateway/events"
)

// replayBatch is how many messages the replaying consumer keeps in flight.
const replayBatch = 8192

// Replay calls fn for every event in the stream after sequence afterSeq, in
// stream order, up to the last message present when Replay was called.
// Lifecycle messages are skipped. It returns the sequence replay reached: the
// stream's last sequence when Replay started (or afterSeq if that is later),
// so that a later Replay from it sees only newer events. An error from fn
// stops the replay and is returned, wrapped, with the sequence of the last
// event fn accepted.
func (j *Journal) Replay(ctx context.Context, afterSeq uint64, fn func(seq uint64, ev events.Event) error) (lastSeq uint64, err error) {
	info, err := j.stream.Info(ctx)
	if err != nil {
		return afterSeq, fmt.Errorf("journal: replay: stream info: %w", err)
	}
	end := info.State.LastSeq
	if end <= afterSeq || info.State.Msgs == 0 {
		return afterSeq, nil
	}

	// An ordered consumer is ephemeral, in-memory and flow-controlled: the
	// cheapest way to stream a range of the stream in order.
	cons, err := j.stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		FilterSubjects:    []string{j.cfg.Prefix + ".events.>"},
		DeliverPolicy:     jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:       afterSeq + 1,
		InactiveThreshold: 30 * time.Second,
	})
	if err != nil {
		return afterSeq, fmt.Errorf("journal: replay: consumer: %w", err)
	}
	// The filter may leave nothing to deliver (only lifecycle messages
	// after afterSeq): then there is nothing to wait for.
	ci, err := cons.Info(ctx)
	if err != nil {
		return afterSeq, fmt.Errorf("journal: replay: consumer info: %w", err)
	}
	if ci.NumPending == 0 {
		return end, nil
	}

	it, err := cons.Messages(jetstream.PullMaxMessages(replayBatch))
	if err != nil {
		return afterSeq, fmt.Errorf("journal: replay: %w", err)
	}
	defer it.Stop()
	stopOnCtx := context.AfterFunc(ctx, it.Stop)
	defer stopOnCtx()

	done := afterSeq
	for {
		msg, err := it.Next()
		if err != nil {
			if ctxErr := ctx.Err(); ctxErr != nil {
				err = ctxErr
			}
			return done, fmt.Errorf("journal: replay after %d: %w", done, err)
		}
		md, err := msg.Metadata()
		if err != nil {
			return done, fmt.Errorf("journal: replay after %d: %w", done, err)
		}
		seq := md.Sequence.Stream
		if seq > end {
			return end, nil // appended after Replay began
		}
		var ev events.Event
		if err := decodeEvent(msg.Data(), &ev); err != nil {
			return done, fmt.Errorf("journal: replay: event at %d (%s): %w", seq, msg.Subject(), err)
		}
		if err := fn(seq, ev); err != nil {
			return done, fmt.Errorf("journal: replay: at %d: %w", seq, err)
		}
		done = seq
		if seq == end || md.NumPending == 0 {
			return end, nil
		}
	}
}
