package e2etest

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

// The contract's stream and subjects, which the harness's configuration
// keeps (it sets no nats prefix or stream).
const (
	StreamName = "LICENSEGW_EVENTS"
	// LifecycleStreamName holds the gateway and plugin lifecycle messages.
	LifecycleStreamName = "LICENSEGW_LIFECYCLE"
	EventSubjects       = "licensegw.events.>"
)

// Event is one accounting event as stored in the stream.
type Event struct {
	Seq     uint64 // stream sequence
	Subject string
	MsgID   string         // the Nats-Msg-Id header, the publisher's de-duplication key
	Raw     map[string]any // the payload as JSON, to check the contract's field names
	events.Event
}

// NATSURL is the embedded NATS server's client URL.
func (g *Gateway) NATSURL() string { return "nats://" + g.NATSAddr }

// Events returns every accounting event the stream holds now, in order, or
// fails the test. It reads like an audit consumer: nats.go connected to the
// NATS port with the audit credentials, an ordered consumer from the start
// up to the stream's last sequence at the time of the call.
func (g *Gateway) Events() []Event {
	g.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	evs, err := ReadEvents(ctx, g.NATSURL(), g.readOptions()...)
	if err != nil {
		g.t.Fatalf("read the event stream: %v", err)
	}
	return evs
}

// WaitEvent polls the stream until an event matches, and returns it; the
// test fails after timeout.
func (g *Gateway) WaitEvent(timeout time.Duration, what string, match func(Event) bool) Event {
	g.t.Helper()
	var found Event
	Eventually(g.t, timeout, "event "+what, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		evs, err := ReadEvents(ctx, g.NATSURL(), g.readOptions()...)
		if err != nil {
			return err
		}
		for _, e := range evs {
			if match(e) {
				found = e
				return nil
			}
		}
		return fmt.Errorf("none among %d events", len(evs))
	})
	return found
}

// Subjects lists the subjects of every message the stream holds now, in
// order: accounting events and the plugin and gateway lifecycle messages.
func (g *Gateway) Subjects() []string {
	g.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	msgs, err := ReadStream(ctx, g.NATSURL(), "licensegw.>", g.readOptions()...)
	if err != nil {
		g.t.Fatalf("read the stream: %v", err)
	}
	// The audit identity has consumers on the journal only (see
	// docs/security.md): the lifecycle stream is read with the harness's.
	life, err := readStream(ctx, g.NATSURL(), LifecycleStreamName, "licensegw.>", g.privilegedOptions()...)
	if err != nil {
		g.t.Fatalf("read the lifecycle stream: %v", err)
	}
	msgs = append(msgs, life...)
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = m.Subject
	}
	return out
}

// readOptions authenticate the harness's reads: the audit credentials with
// the embedded server, nothing with an external one.
func (g *Gateway) readOptions() []nats.Option {
	if g.opts.NATSURL != "" {
		return nil
	}
	return []nats.Option{g.AuditNATS()}
}

func (g *Gateway) privilegedOptions() []nats.Option {
	if g.opts.NATSURL != "" {
		return nil
	}
	return []nats.Option{g.privilegedOption()}
}

// ReadEvents reads every accounting event of the stream at url, and the
// term events, up to its last sequence when called; not the seals. opts
// authenticate (Gateway.AuditNATS).
func ReadEvents(ctx context.Context, url string, opts ...nats.Option) ([]Event, error) {
	return ReadStream(ctx, url, EventSubjects, opts...)
}

// ReadStream reads every message of the stream at url whose subject
// matches filter, up to the stream's last sequence when called. Payloads
// must be JSON; those that are not accounting events (lifecycle messages,
// when filter admits them) fill Event only partly.
func ReadStream(ctx context.Context, url, filter string, opts ...nats.Option) ([]Event, error) {
	return readStream(ctx, url, StreamName, filter, opts...)
}

func readStream(ctx context.Context, url, stream, filter string, opts ...nats.Option) ([]Event, error) {
	nc, err := nats.Connect(url, append([]nats.Option{nats.Name("licensegw e2etest")}, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("connect %s: %w", url, err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	st, err := js.Stream(ctx, stream)
	if err != nil {
		return nil, fmt.Errorf("stream %s: %w", stream, err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		return nil, err
	}
	last := info.State.LastSeq
	if last == 0 {
		return nil, nil
	}
	cons, err := st.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{filter},
		DeliverPolicy:  jetstream.DeliverAllPolicy,
	})
	if err != nil {
		return nil, fmt.Errorf("ordered consumer: %w", err)
	}
	// The filter skips the stream's other subjects (plugin and gateway
	// lifecycle), so the last event may come before last: the consumer's
	// pending count says when nothing more matches, without waiting out a
	// fetch.
	ci, err := cons.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("consumer info: %w", err)
	}
	if ci.NumPending == 0 {
		return nil, nil
	}
	var out []Event
	for {
		batch, err := cons.Fetch(1000, jetstream.FetchMaxWait(time.Second))
		if err != nil {
			return nil, fmt.Errorf("fetch: %w", err)
		}
		n, done := 0, false
		// Stop reading at the last event: the batch would otherwise wait
		// its MaxWait for messages that will not come.
		for m := range batch.Messages() {
			n++
			md, err := m.Metadata()
			if err != nil {
				return nil, err
			}
			if md.Sequence.Stream > last {
				done = true
				break
			}
			e := Event{Seq: md.Sequence.Stream, Subject: m.Subject(), MsgID: m.Headers().Get(nats.MsgIdHdr)}
			if err := json.Unmarshal(m.Data(), &e.Raw); err != nil {
				return nil, fmt.Errorf("seq %d: %w", e.Seq, err)
			}
			if err := json.Unmarshal(m.Data(), &e.Event); err != nil && filter == EventSubjects {
				return nil, fmt.Errorf("seq %d: %w", e.Seq, err)
			}
			// Seals come when a timer says (events v2): a test that
			// counts events must not count them. The chain tests read
			// them with ReadStream.
			if e.Kind != events.SealKind || filter != EventSubjects {
				out = append(out, e)
			}
			if e.Seq >= last || md.NumPending == 0 {
				done = true
				break
			}
		}
		if done {
			return out, nil
		}
		if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) {
			return nil, fmt.Errorf("fetch: %w", err)
		}
		if n == 0 {
			return out, nil
		}
		if err := ctx.Err(); err != nil {
			return out, err
		}
	}
}

// Kinds filters events by kind.
func Kinds(evs []Event, kinds ...events.Kind) []Event {
	var out []Event
	for _, e := range evs {
		for _, k := range kinds {
			if e.Kind == k {
				out = append(out, e)
				break
			}
		}
	}
	return out
}
