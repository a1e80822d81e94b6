package audit

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Run copies events into cfg.Out until ctx ends, then finishes the batch in
// hand (written, fsync'd, acknowledged) and returns nil. It returns an error
// if the server, the stream or the file fails.
func Run(ctx context.Context, cfg Config) error {
	if err := cfg.setDefaults(); err != nil {
		return err
	}
	f, err := os.OpenFile(cfg.Out, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o640)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	defer f.Close()
	ids, last, err := recoverTail(f, cfg.window())
	if err != nil {
		return err
	}
	chain, err := newChainCheck(cfg.Subject, cfg.Key, last, cfg.Log)
	if err != nil {
		return err
	}
	defer chain.summary()
	seen := newRecent(cfg.window())
	for _, id := range ids {
		seen.add(id)
	}

	opts, err := cfg.natsOptions()
	if err != nil {
		return err
	}
	nc, err := nats.Connect(cfg.URL, opts...)
	if err != nil {
		return fmt.Errorf("audit: connect %s: %w", cfg.URL, err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	cons, err := bind(ctx, js, cfg)
	if err != nil {
		return fmt.Errorf("audit: consumer %s on %s: %w", cfg.Durable, cfg.Stream, err)
	}
	cfg.Log.Info("consuming", "stream", cfg.Stream, "durable", cfg.Durable, "subject", cfg.Subject, "out", cfg.Out, "known_ids", len(ids))

	w := &writer{f: f, buf: bufio.NewWriterSize(f, 256<<10), seen: seen}
	var lastSeq uint64 // stream sequence of the last event written
	for ctx.Err() == nil {
		batch, err := cons.Fetch(cfg.Batch, jetstream.FetchMaxWait(cfg.MaxWait))
		if err != nil {
			return fmt.Errorf("audit: fetch: %w", err)
		}
		var msgs []jetstream.Msg
		for msg := range batch.Messages() {
			if md, err := msg.Metadata(); err == nil {
				if md.Sequence.Stream <= lastSeq && !w.seen.has(eventID(msg.Data())) {
					// Redelivered past a later event: writing it now
					// breaks the order, dropping it loses it.
					cfg.Log.Error("event delivered out of order; written late", "seq", md.Sequence.Stream, "after", lastSeq)
				}
				lastSeq = max(lastSeq, md.Sequence.Stream)
				// An event already in the file was verified when it
				// was written: the chain continues after it.
				if !w.seen.has(eventID(msg.Data())) {
					if err := chain.check(md.Sequence.Stream, msg.Data()); err != nil {
						// Nothing from the break on is written; what
						// came before it is kept and acknowledged.
						return errors.Join(err, w.sync(), ackAll(msgs))
					}
				}
			}
			if err := w.write(msg); err != nil {
				return err
			}
			msgs = append(msgs, msg)
		}
		if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) {
			cfg.Log.Warn("fetch ended early", "error", err)
		}
		if len(msgs) == 0 {
			continue
		}
		if err := w.sync(); err != nil {
			return err
		}
		// Only now, with the batch on disk, does the stream learn it
		// may forget these events for this consumer.
		if err := ackAll(msgs); err != nil {
			return err
		}
		cfg.Log.Debug("batch written", "events", w.written, "skipped", w.skipped)
	}
	// Acks are fire-and-forget publishes: make sure they left.
	if err := nc.Flush(); err != nil {
		return fmt.Errorf("audit: flush acks: %w", err)
	}
	cfg.Log.Info("stopped", "events", w.written, "skipped", w.skipped)
	return nil
}

func ackAll(msgs []jetstream.Msg) error {
	for _, msg := range msgs {
		if err := msg.Ack(); err != nil {
			return fmt.Errorf("audit: ack: %w", err)
		}
	}
	return nil
}

// writer appends events to the file, one compact JSON object per line.
type writer struct {
	f       *os.File
	buf     *bufio.Writer
	seen    *recent
	line    bytes.Buffer
	written int
	skipped int
}

// write appends msg's event unless it is one already written.
func (w *writer) write(msg jetstream.Msg) error {
	data := msg.Data()
	id := eventID(data)
	if id != "" && w.seen.has(id) {
		w.skipped++ // written before a crash, never acknowledged
		return nil
	}
	w.line.Reset()
	if err := json.Compact(&w.line, data); err != nil {
		w.skipped++ // not JSON: not an event; acknowledged and dropped
		return nil
	}
	w.line.WriteByte('\n')
	if _, err := w.buf.Write(w.line.Bytes()); err != nil {
		return fmt.Errorf("audit: write: %w", err)
	}
	w.seen.add(id)
	w.written++
	return nil
}

// sync makes everything written so far durable.
func (w *writer) sync() error {
	if err := w.buf.Flush(); err != nil {
		return fmt.Errorf("audit: write: %w", err)
	}
	if err := w.f.Sync(); err != nil {
		return fmt.Errorf("audit: fsync: %w", err)
	}
	return nil
}

// bind returns the durable consumer, created if missing. A consumer left
// with deliveries never acknowledged (the previous run was killed) is
// recreated from its ack floor: waiting for the redelivery of those events
// would let newer events overtake them, and the file must keep the stream's
// order. Events between the ack floor and the end of the file come again and
// are skipped by id.
func bind(ctx context.Context, js jetstream.JetStream, cfg Config) (jetstream.Consumer, error) {
	want := jetstream.ConsumerConfig{
		Durable:       cfg.Durable,
		Description:   "licensegw audit file " + cfg.Out,
		FilterSubject: cfg.Subject,
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       cfg.AckWait,
		MaxAckPending: cfg.maxAckPending(),
	}
	cons, err := js.Consumer(ctx, cfg.Stream, cfg.Durable)
	switch {
	case errors.Is(err, jetstream.ErrConsumerNotFound):
		return js.CreateConsumer(ctx, cfg.Stream, want)
	case err != nil:
		return nil, err
	}
	info := cons.CachedInfo()
	if info.NumAckPending == 0 && info.Delivered.Stream <= info.AckFloor.Stream {
		return cons, nil // stopped cleanly: resume as it is
	}
	cfg.Log.Warn("previous run left events unacknowledged; rewinding to the ack floor",
		"ack_floor", info.AckFloor.Stream, "delivered", info.Delivered.Stream, "pending", info.NumAckPending)
	if err := js.DeleteConsumer(ctx, cfg.Stream, cfg.Durable); err != nil {
		return nil, err
	}
	want.DeliverPolicy = jetstream.DeliverByStartSequencePolicy
	want.OptStartSeq = info.AckFloor.Stream + 1
	return js.CreateConsumer(ctx, cfg.Stream, want)
}
