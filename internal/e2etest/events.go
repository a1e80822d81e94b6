package e2etest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
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
// NATS port with the audit credentials, every message from the start up to
// the stream's last sequence at the time of the call. In a cluster it goes
// on from another running node when this one cannot answer (the stream's
// leader moving, the node stopped); it never waits longer than a minute.
func (g *Gateway) Events() []Event {
	g.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), readTimeout)
	defer cancel()
	evs, err := readStream(ctx, g.readSources(false), StreamName, EventSubjects)
	if err != nil {
		g.t.Fatalf("read the event stream: %v", err)
	}
	return evs
}

// Journal returns every message of the journal stream now, in order, or
// fails the test: the accounting events, the term events and the seals
// (Events leaves out the seals), which is what the events v2 read rule
// walks: a seal takes an idx of its term like any counted event.
func (g *Gateway) Journal() []Event {
	g.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), readTimeout)
	defer cancel()
	r := &streamRead{stream: StreamName, filter: EventSubjects, next: 1, keepSeals: true}
	evs, err := r.run(ctx, g.readSources(false))
	if err != nil {
		g.t.Fatalf("read the journal stream: %v", err)
	}
	return evs
}

// readTimeout bounds one read of a whole stream, retries included:
// generous, for a loaded machine and a cluster electing a stream leader.
const readTimeout = 60 * time.Second

// WaitEvent polls the stream until an event matches, and returns it; the
// test fails after timeout.
func (g *Gateway) WaitEvent(timeout time.Duration, what string, match func(Event) bool) Event {
	g.t.Helper()
	var found Event
	Eventually(g.t, timeout, "event "+what, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		evs, err := readStream(ctx, g.readSources(false), StreamName, EventSubjects)
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
	ctx, cancel := context.WithTimeout(context.Background(), readTimeout)
	defer cancel()
	msgs, err := readStream(ctx, g.readSources(false), StreamName, "licensegw.>")
	if err != nil {
		g.t.Fatalf("read the stream: %v", err)
	}
	// The audit identity has consumers on the journal only (see
	// docs/security.md): the lifecycle stream is read with the harness's.
	life, err := readStream(ctx, g.readSources(true), LifecycleStreamName, "licensegw.>")
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

// source is one server a stream can be read from, with the options that
// authenticate there (every node of a cluster has its own identities).
type source struct {
	url  string
	opts []nats.Option
}

// readSources are this gateway's server and then, in a cluster, those of
// the other nodes whose process runs now; privileged picks the harness's
// identity instead of the audit one.
func (g *Gateway) readSources(privileged bool) []source {
	g.t.Helper()
	nodes := []*Gateway{g}
	if c := g.cluster; c != nil {
		for _, n := range c.Nodes {
			if n != g && n.running() {
				nodes = append(nodes, n)
			}
		}
	}
	var out []source
	for _, n := range nodes {
		if n.opts.NATSURL != "" {
			out = append(out, source{url: n.opts.NATSURL})
			continue
		}
		opts := n.readOptions()
		if privileged {
			opts = n.privilegedOptions()
		}
		out = append(out, source{url: n.NATSURL(), opts: opts})
	}
	return out
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
// when filter admits them) fill Event only partly. It retries until ctx
// ends, and then fails saying how far it got.
func ReadStream(ctx context.Context, url, filter string, opts ...nats.Option) ([]Event, error) {
	return readStream(ctx, []source{{url: url, opts: opts}}, StreamName, filter)
}

// Bounds of one read attempt: the whole of it, and the wait for any one
// answer of the server. A stalled attempt is abandoned and the read goes
// on from where it was, on the next source.
const (
	attemptTimeout = 15 * time.Second
	answerTimeout  = 5 * time.Second
	readBatch      = 1000
)

// streamRead is a read in progress across attempts: the messages up to
// next-1 are in out.
type streamRead struct {
	stream, filter string
	last           uint64 // the stream's last sequence when the read began; 0 until known
	known          bool
	next           uint64
	out            []Event
	keepSeals      bool // hand over seals too (they are dropped from EventSubjects otherwise)
	holes          bool // the stream has removed messages (NumDeleted > 0)
}

// readStream reads the stream from srcs, taking them in turn: an attempt
// that fails (the node gone, the stream without a leader for a while, a
// replica behind the others) is followed by another from where the read
// got to, until ctx ends. Nothing in it waits without a deadline: it
// makes no consumer (creating one needs the cluster's meta leader, and a
// consumer's fetch can wait on a stream leader that moved), but reads with
// batched direct gets, which any replica answers, or single gets.
func readStream(ctx context.Context, srcs []source, stream, filter string) ([]Event, error) {
	r := &streamRead{stream: stream, filter: filter, next: 1}
	return r.run(ctx, srcs)
}

// run reads the stream from srcs, taking them in turn (see readStream).
func (r *streamRead) run(ctx context.Context, srcs []source) ([]Event, error) {
	stream := r.stream
	var errs []string
	pause := 50 * time.Millisecond
	for attempt := 0; ; attempt++ {
		src := srcs[attempt%len(srcs)]
		actx, cancel := context.WithTimeout(ctx, attemptTimeout)
		done, err := r.attempt(actx, src)
		cancel()
		if done {
			return r.out, nil
		}
		if len(errs) < 5 {
			errs = append(errs, fmt.Sprintf("%s: %v", src.url, err))
		} else {
			errs[4] = fmt.Sprintf("... %s: %v", src.url, err)
		}
		select {
		case <-ctx.Done():
			return r.out, fmt.Errorf("stream %s: gave up after %d attempts, %d messages read up to sequence %d of %d: %w (%s)",
				stream, attempt+1, len(r.out), r.next-1, r.last, ctx.Err(), strings.Join(errs, "; "))
		case <-time.After(pause):
		}
		pause = min(2*pause, time.Second)
	}
}

// attempt reads from one source as far as it can; done says the read is
// complete.
func (r *streamRead) attempt(ctx context.Context, src source) (done bool, err error) {
	opts := append([]nats.Option{nats.Name("licensegw e2etest"), nats.Timeout(2 * time.Second), nats.NoReconnect()}, src.opts...)
	nc, err := nats.Connect(src.url, opts...)
	if err != nil {
		return false, fmt.Errorf("connect: %w", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return false, err
	}
	st, err := js.Stream(ctx, r.stream)
	if err != nil {
		return false, fmt.Errorf("stream info: %w", err)
	}
	info := st.CachedInfo()
	if !r.known {
		r.last, r.known = info.State.LastSeq, true
	}
	r.next = max(r.next, info.State.FirstSeq)
	if r.last == 0 || r.next > r.last {
		return true, nil
	}
	if info.Config.AllowDirect {
		if err := r.direct(ctx, nc); err != nil {
			return false, err
		}
	}
	// The rest, if the replica that answered the direct gets ended before
	// the last sequence (it lags, or the messages there were removed):
	// from the stream's leader, which knows.
	// A message "not found" between the stream's first and last
	// sequences is a removed one only if the stream has removed any:
	// otherwise it is a direct get answered by a replica that lags (any
	// replica answers them), and is asked again.
	r.holes = info.State.NumDeleted > 0
	if err := r.single(ctx, st); err != nil {
		return false, err
	}
	return true, nil
}

// direct reads with batched direct gets, each batch asked for once the
// previous one's end marker came, until the end of the stream or of what
// the replica answering holds.
func (r *streamRead) direct(ctx context.Context, nc *nats.Conn) error {
	inbox := nc.NewInbox()
	sub, err := nc.SubscribeSync(inbox)
	if err != nil {
		return err
	}
	defer func() { _ = sub.Unsubscribe() }()
	if err := sub.SetPendingLimits(-1, -1); err != nil {
		return err
	}
	ask := func() error {
		body, err := json.Marshal(map[string]any{"seq": r.next, "batch": readBatch, "max_bytes": 8 << 20, "up_to_seq": r.last})
		if err != nil {
			return err
		}
		return nc.PublishRequest("$JS.API.DIRECT.GET."+r.stream, inbox, body)
	}
	if err := ask(); err != nil {
		return err
	}
	for {
		mctx, cancel := context.WithTimeout(ctx, answerTimeout)
		m, err := sub.NextMsgWithContext(mctx)
		cancel()
		if err != nil {
			return fmt.Errorf("direct get from %d: %w", r.next, err)
		}
		status := m.Header.Get("Status")
		switch status {
		case "":
			seq, err := strconv.ParseUint(m.Header.Get(jetstream.SequenceHeader), 10, 64)
			if err != nil {
				return fmt.Errorf("direct get: message without a sequence: %w", err)
			}
			if seq < r.next {
				continue // an answer to an earlier request
			}
			if err := r.add(seq, m.Header.Get(jetstream.SubjectHeader), m.Header.Get(nats.MsgIdHdr), m.Data); err != nil {
				return err
			}
		case "204": // end of batch
			if r.next > r.last {
				return nil
			}
			if pending, _ := strconv.ParseUint(m.Header.Get("Nats-Num-Pending"), 10, 64); pending == 0 {
				return nil
			}
			if err := ask(); err != nil {
				return err
			}
		case "404": // nothing from r.next on
			return nil
		default:
			return fmt.Errorf("direct get answered %s %s", status, m.Header.Get("Description"))
		}
	}
}

// single reads message by message, for a stream that allows no direct
// gets.
func (r *streamRead) single(ctx context.Context, st jetstream.Stream) error {
	for r.next <= r.last {
		mctx, cancel := context.WithTimeout(ctx, answerTimeout)
		m, err := st.GetMsg(mctx, r.next)
		cancel()
		switch {
		case errors.Is(err, jetstream.ErrMsgNotFound) && r.holes: // removed
			r.next++
		case errors.Is(err, jetstream.ErrMsgNotFound):
			// A lagging replica answered: ask again.
			select {
			case <-ctx.Done():
				return fmt.Errorf("get %d: %w", r.next, ctx.Err())
			case <-time.After(20 * time.Millisecond):
			}
		case err != nil:
			return fmt.Errorf("get %d: %w", r.next, err)
		default:
			if err := r.add(m.Sequence, m.Subject, m.Header.Get(nats.MsgIdHdr), m.Data); err != nil {
				return err
			}
		}
	}
	return nil
}

// add takes the message at seq (the next one the stream holds) if its
// subject matches the read's filter.
func (r *streamRead) add(seq uint64, subject, msgID string, data []byte) error {
	r.next = seq + 1
	if seq > r.last || !subjectMatches(r.filter, subject) {
		return nil
	}
	e := Event{Seq: seq, Subject: subject, MsgID: msgID}
	if err := json.Unmarshal(data, &e.Raw); err != nil {
		return fmt.Errorf("seq %d: %w", seq, err)
	}
	if err := json.Unmarshal(data, &e.Event); err != nil && r.filter == EventSubjects {
		return fmt.Errorf("seq %d: %w", seq, err)
	}
	// Seals come when a timer says (events v2): a test that counts events
	// must not count them. The chain tests read them with ReadStream.
	if e.Kind != events.SealKind || r.filter != EventSubjects || r.keepSeals {
		r.out = append(r.out, e)
	}
	return nil
}

// subjectMatches reports whether subject is in filter, a NATS subject
// with wildcards (* one token, > the rest).
func subjectMatches(filter, subject string) bool {
	ft, st := strings.Split(filter, "."), strings.Split(subject, ".")
	for i, f := range ft {
		switch {
		case f == ">":
			return len(st) > i
		case i >= len(st):
			return false
		case f != "*" && f != st[i]:
			return false
		}
	}
	return len(ft) == len(st)
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
