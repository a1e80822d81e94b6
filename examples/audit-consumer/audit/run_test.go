package audit_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/licensegw/licensegw/examples/audit-consumer/audit"
	"github.com/licensegw/licensegw/gateway/events"
	"github.com/licensegw/licensegw/gateway/journal"
	"github.com/licensegw/licensegw/gateway/natsd"
	"github.com/licensegw/licensegw/gateway/natsd/natstest"
)

// publisher journals events on a test server, the way the gateway does.
type publisher struct {
	t   testing.TB
	j   *journal.Journal
	ids []string // every event published, in stream order
}

func newPublisher(t testing.TB, s *natsd.Server) *publisher {
	nc, err := s.Connect()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	j, err := journal.Open(ctx, journal.Config{Conn: nc, Gateway: "gw-test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = j.Close(context.Background()) })
	return &publisher{t: t, j: j}
}

// publish journals n checkout events and waits for their acks.
func (p *publisher) publish(n int) {
	p.t.Helper()
	batch := make([]events.Event, n)
	for i := range batch {
		batch[i] = events.Event{Kind: events.Checkout, Vendor: "acme", Feature: "cad", Lease: fmt.Sprint("L", len(p.ids)+i), Count: 1, InUse: 1, Seats: 10}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := p.j.Append(batch)
	if err := c.Wait(ctx); err != nil {
		p.t.Fatal(err)
	}
	for _, e := range c.Events() {
		p.ids = append(p.ids, e.ID)
	}
}

// fileIDs reads the ids of the audit file's lines, checking each line is a
// whole event.
func fileIDs(t testing.TB, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var ids []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var ev events.Event
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("line %d: %v: %s", len(ids)+1, err, sc.Bytes())
		}
		if ev.Kind == events.TermKind {
			continue // the journal's own: it opens each writer's history
		}
		if ev.Schema != events.Schema || ev.Gateway != "gw-test" || ev.Kind != events.Checkout {
			t.Fatalf("line %d is not a published event: %s", len(ids)+1, sc.Bytes())
		}
		ids = append(ids, ev.ID)
	}
	return ids
}

// waitLines waits until the file holds n complete lines.
func waitLines(t testing.TB, path string, n int) {
	t.Helper()
	count := func() int {
		b, _ := os.ReadFile(path)
		return bytes.Count(b, []byte{'\n'})
	}
	deadline := time.Now().Add(15 * time.Second)
	for count() < n {
		if time.Now().After(deadline) {
			t.Fatalf("file has %d lines after 15s, want %d", count(), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitAcked waits until the default durable consumer has nothing pending
// and no acknowledgement outstanding: nothing can be delivered (again) to it.
func waitAcked(t testing.TB, s *natsd.Server) {
	t.Helper()
	nc, err := s.Connect()
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	cons, err := js.Consumer(ctx, audit.DefaultStream, audit.DefaultDurable)
	if err != nil {
		t.Fatal(err)
	}
	for {
		info, err := cons.Info(ctx)
		if err == nil && info.NumPending == 0 && info.NumAckPending == 0 {
			return
		}
		if ctx.Err() != nil {
			t.Fatalf("consumer not done after 15 s: %+v, %v", info, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// running is a consumer started with audit.Run.
type running struct {
	cancel context.CancelFunc
	done   chan struct{}
	err    error // Run's result, set before done is closed
}

func start(t testing.TB, cfg audit.Config) *running {
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{cancel: cancel, done: make(chan struct{})}
	go func() {
		r.err = audit.Run(ctx, cfg)
		close(r.done)
	}()
	t.Cleanup(func() { r.cancel(); <-r.done })
	return r
}

// stop ends Run the way a signal does and checks it returned cleanly.
func (r *running) stop(t testing.TB) {
	t.Helper()
	r.cancel()
	select {
	case <-r.done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not stop")
	}
	if r.err != nil {
		t.Fatalf("Run: %v", r.err)
	}
}

func TestResumesWhereItStopped(t *testing.T) {
	s := natstest.Start(t)
	p := newPublisher(t, s)
	out := filepath.Join(t.TempDir(), "audit.jsonl")
	cfg := audit.Config{URL: s.ClientURL(), Creds: natstest.ReadOnlyCreds(t), Out: out, Batch: 16, MaxWait: 100 * time.Millisecond}

	p.publish(100)
	r := start(t, cfg)
	waitLines(t, out, 100)
	r.stop(t)

	// Events published while the consumer is down are not missed...
	p.publish(50)
	r = start(t, cfg)
	waitLines(t, out, 150)
	// ...and those published while it runs are not either.
	p.publish(30)
	waitLines(t, out, 180)
	waitAcked(t, s) // after which no wrong extra line can come
	r.stop(t)

	if got := fileIDs(t, out); !slices.Equal(got, p.ids) {
		t.Fatalf("file holds %d events, want the %d published, each once, in order", len(got), len(p.ids))
	}
}

// TestSkipsWrittenButUnacked covers a crash after the write and before the
// ack: the file already holds events the consumer never acknowledged, and
// they are delivered again.
func TestSkipsWrittenButUnacked(t *testing.T) {
	s := natstest.Start(t)
	p := newPublisher(t, s)
	p.publish(40)

	// What a crashed consumer left: 15 events written and a 16th cut
	// short mid-line, none acknowledged (at most MaxAckPending, 2 batches,
	// can be in that state).
	out := filepath.Join(t.TempDir(), "audit.jsonl")
	// The lines are the stored payloads, as the consumer writes them.
	var written []byte
	nc, err := s.Connect()
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	st, err := js.Stream(context.Background(), audit.DefaultStream)
	if err != nil {
		t.Fatal(err)
	}
	for seq := uint64(1); seq <= 15; seq++ {
		m, err := st.GetMsg(context.Background(), seq)
		if err != nil {
			t.Fatal(err)
		}
		written = append(append(written, m.Data...), '\n')
	}
	written = append(written, `{"schema":"licensegw.event/v1","id":"`...)
	if err := os.WriteFile(out, written, 0o600); err != nil {
		t.Fatal(err)
	}

	r := start(t, audit.Config{URL: s.ClientURL(), Creds: natstest.ReadOnlyCreds(t), Out: out, Batch: 10, MaxWait: 100 * time.Millisecond})
	waitLines(t, out, 40)
	waitAcked(t, s)
	r.stop(t)
	if got := fileIDs(t, out); !slices.Equal(got, p.ids) {
		t.Fatalf("file holds %d events, want the %d published, each once, in order", len(got), len(p.ids))
	}
}

func TestRunErrors(t *testing.T) {
	s := natstest.Start(t)
	tests := []struct {
		name string
		cfg  audit.Config
	}{
		{"no output", audit.Config{URL: s.ClientURL()}},
		{"no stream", audit.Config{URL: s.ClientURL(), Creds: natstest.FullAccessCreds(t), Stream: "NOPE", Out: filepath.Join(t.TempDir(), "a")}},
		{"no server", audit.Config{URL: "nats://127.0.0.1:1", Out: filepath.Join(t.TempDir(), "a")}},
		{"no credentials", audit.Config{URL: s.ClientURL(), Out: filepath.Join(t.TempDir(), "a")}},
		{"output in a missing directory", audit.Config{URL: s.ClientURL(), Creds: natstest.ReadOnlyCreds(t), Out: filepath.Join(t.TempDir(), "x", "a")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := audit.Run(ctx, tt.cfg); err == nil {
				t.Fatal("Run succeeded")
			}
		})
	}
}
