package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/licensegw/licensegw/gateway/events"
)

// streamName and eventSubjects are the contract's defaults, which the
// harness's configuration keeps.
const (
	streamName    = "LICENSEGW_EVENTS"
	eventSubjects = "licensegw.events.>"
)

// StreamEvent is one accounting event as stored in the stream.
type StreamEvent struct {
	Seq     uint64
	Subject string
	MsgID   string         // the Nats-Msg-Id header
	Raw     map[string]any // the payload as JSON, to check field names
	events.Event
}

// NATSURL is the embedded NATS server's client URL.
func (g *Gateway) NATSURL() string { return "nats://" + g.NATSAddr }

// Events reads every accounting event the stream holds now, in order. It
// connects like an audit consumer would: nats.go to the NATS port, an
// ordered consumer from the start of the stream.
func (g *Gateway) Events() []StreamEvent {
	g.t.Helper()
	evs, err := g.readEvents()
	if err != nil {
		g.t.Fatalf("read the event stream: %v", err)
	}
	return evs
}

func (g *Gateway) readEvents() ([]StreamEvent, error) {
	return g.readStream(eventSubjects)
}

// Subjects lists the subjects of every message in the stream, in order:
// accounting events and the plugin and gateway lifecycle messages.
func (g *Gateway) Subjects() []string {
	g.t.Helper()
	msgs, err := g.readStream("licensegw.>")
	if err != nil {
		g.t.Fatalf("read the stream: %v", err)
	}
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = m.Subject
	}
	return out
}

// readStream reads the messages on subjects matching filter, decoding each
// payload as an event (lifecycle messages decode partly).
func (g *Gateway) readStream(filter string) ([]StreamEvent, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	nc, err := nats.Connect(g.NATSURL(), nats.Name("licensegw e2e"))
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	st, err := js.Stream(ctx, streamName)
	if err != nil {
		return nil, fmt.Errorf("stream %s: %w", streamName, err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		return nil, err
	}
	last := info.State.LastSeq
	cons, err := st.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{filter},
		DeliverPolicy:  jetstream.DeliverAllPolicy,
	})
	if err != nil {
		return nil, fmt.Errorf("ordered consumer: %w", err)
	}
	var out []StreamEvent
	// The filter skips plugin and gateway messages, so the last matching
	// message may come before LastSeq: stop at the first fetch that comes
	// back empty once every sequence up to LastSeq may have been seen.
	for {
		batch, err := cons.Fetch(500, jetstream.FetchMaxWait(time.Second))
		if err != nil {
			return nil, fmt.Errorf("fetch: %w", err)
		}
		n := 0
		done := false
		for m := range batch.Messages() {
			n++
			md, err := m.Metadata()
			if err != nil {
				return nil, err
			}
			ev := StreamEvent{Seq: md.Sequence.Stream, Subject: m.Subject(), MsgID: m.Headers().Get(nats.MsgIdHdr)}
			if err := json.Unmarshal(m.Data(), &ev.Raw); err != nil {
				return nil, fmt.Errorf("seq %d: %w", ev.Seq, err)
			}
			if err := json.Unmarshal(m.Data(), &ev.Event); err != nil && filter == eventSubjects {
				return nil, fmt.Errorf("seq %d: %w", ev.Seq, err)
			}
			out = append(out, ev)
			if ev.Seq >= last {
				done = true
			}
		}
		if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) {
			return nil, fmt.Errorf("fetch: %w", err)
		}
		if done || n == 0 || ctx.Err() != nil {
			return out, nil
		}
	}
}

// WaitEvent polls the stream until an event matches and returns it.
func (g *Gateway) WaitEvent(timeout time.Duration, what string, match func(*StreamEvent) bool) StreamEvent {
	g.t.Helper()
	var found StreamEvent
	eventually(g.t, timeout, "event "+what, func() error {
		evs, err := g.readEvents()
		if err != nil {
			return err
		}
		for i := range evs {
			if match(&evs[i]) {
				found = evs[i]
				return nil
			}
		}
		return fmt.Errorf("none among %d events", len(evs))
	})
	return found
}

// filterEvents keeps the events of one kind and feature.
func filterEvents(evs []StreamEvent, kind events.Kind, feature string) []StreamEvent {
	var out []StreamEvent
	for _, e := range evs {
		if e.Kind == kind && (feature == "" || e.Feature == feature) {
			out = append(out, e)
		}
	}
	return out
}
