package journal_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/licensegw/licensegw/gateway/events"
	"github.com/licensegw/licensegw/gateway/journal"
	"github.com/licensegw/licensegw/gateway/natsd"
	"github.com/licensegw/licensegw/gateway/natsd/natstest"
)

// open starts a journal on an in-process connection to s.
func open(t testing.TB, s *natsd.Server) *journal.Journal {
	t.Helper()
	nc, err := s.Connect()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return openConn(t, nc)
}

// lockedBuffer is an io.Writer safe for a logger and a reading test.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func openConn(t testing.TB, nc *nats.Conn) *journal.Journal {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	j, err := journal.Open(ctx, journal.Config{Conn: nc, Gateway: "gw1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = j.Close(ctx) // the server may be gone already
	})
	return j
}

// ev builds a checkout event numbered n.
func ev(n int) events.Event {
	return events.Event{
		Kind: events.Checkout, Vendor: "acme", Feature: "cad pro", Version: "2024.1",
		Lease: "L" + strconv.Itoa(n), Count: 1, User: "alice", Host: "ws1",
		Protocol: "concurrent-lm", InUse: n, Seats: 1 << 20,
		Time: time.Date(2026, 11, 26, 20, 0, 0, n*1000, time.UTC),
	}
}

// waitCtx bounds a test's waits: generous, for -race on a loaded machine
// (TestLargeAppend took 7 s of its former 10 at a load average of 35).
func waitCtx(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// stored reads every message of the stream, in order, but the term events
// that open each journal's history.
func stored(t testing.TB, s *natsd.Server) []*jetstream.RawStreamMsg {
	t.Helper()
	return storedIn(t, s, events.DefaultStream)
}

// storedIn is stored for the stream named name.
func storedIn(t testing.TB, s *natsd.Server, name string) []*jetstream.RawStreamMsg {
	t.Helper()
	nc, err := s.Connect()
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	return slices.DeleteFunc(readAll(waitCtx(t), t, js, name), func(m *jetstream.RawStreamMsg) bool {
		return strings.HasSuffix(m.Subject, "._journal.term")
	})
}

// readAll reads every message the named stream holds, in order (sequences
// of deleted messages are skipped).
func readAll(ctx context.Context, t testing.TB, js jetstream.JetStream, name string) []*jetstream.RawStreamMsg {
	t.Helper()
	st, err := js.Stream(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var msgs []*jetstream.RawStreamMsg
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		m, err := st.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			t.Fatalf("GetMsg(%d): %v", seq, err)
		}
		msgs = append(msgs, m)
	}
	return msgs
}

func TestAppendPublishesEvents(t *testing.T) {
	s := natstest.Start(t)
	j := open(t, s)
	ctx := waitCtx(t)

	in := []events.Event{ev(1), ev(2)}
	in[1].Vendor = "" // the default vendor in the subject, empty in the payload
	in[1].Kind = events.Denied
	in[1].Reason = "no seats"
	c := j.Append(in)
	in[0].Lease = "reused" // the caller's slice is free after Append
	if err := c.Wait(ctx); err != nil {
		t.Fatal(err)
	}

	got := c.Events()
	if len(got) != 2 || got[0].Lease != "L1" {
		t.Fatalf("Events() = %+v", got)
	}
	msgs := stored(t, s)
	if len(msgs) != 2 {
		t.Fatalf("stream holds %d messages, want 2", len(msgs))
	}
	wantSubjects := []string{"licensegw.events.acme.cad_pro.checkout", "licensegw.events.local.cad_pro.denied"}
	for i, m := range msgs {
		if m.Subject != wantSubjects[i] {
			t.Errorf("msg %d subject %q, want %q", i, m.Subject, wantSubjects[i])
		}
		if id := m.Header.Get(jetstream.MsgIDHeader); id != got[i].ID || id == "" {
			t.Errorf("msg %d Nats-Msg-Id %q, want %q", i, id, got[i].ID)
		}
		var fields map[string]any
		if err := json.Unmarshal(m.Data, &fields); err != nil {
			t.Fatal(err)
		}
		want := map[string]any{
			"schema": events.Schema, "id": got[i].ID, "gateway": "gw1", "kind": string(in[i].Kind),
			"feature": "cad pro", "user": "alice", "time": fmt.Sprintf("2026-11-26T20:00:00.00000%dZ", i+1),
		}
		for k, v := range want {
			if fields[k] != v {
				t.Errorf("msg %d field %s = %v, want %v", i, k, fields[k], v)
			}
		}
	}
	if j.LastSeq() != msgs[1].Sequence {
		t.Errorf("LastSeq = %d, want %d", j.LastSeq(), msgs[1].Sequence)
	}
	if got[0].ID >= got[1].ID {
		t.Errorf("ids not increasing: %s, %s", got[0].ID, got[1].ID)
	}
}

func TestEmptyAppend(t *testing.T) {
	j := open(t, natstest.Start(t))
	c := j.Append(nil)
	if err := c.Wait(waitCtx(t)); err != nil || len(c.Events()) != 0 {
		t.Fatalf("Wait = %v, Events = %v", err, c.Events())
	}
	if j.LastSeq() != 0 {
		t.Errorf("LastSeq = %d before any event", j.LastSeq())
	}
}

// TestStreamOrderIsAppendOrder appends from many goroutines, the way the
// engine does (Append under the engine's lock, Wait outside it), and checks
// that the stream holds the events in exactly the order of the Appends.
func TestStreamOrderIsAppendOrder(t *testing.T) {
	s := natstest.Start(t)
	j := open(t, s)
	ctx := waitCtx(t)

	const workers, perWorker = 16, 100
	var (
		engine sync.Mutex
		order  []string // event ids in Append order
		wg     sync.WaitGroup
		errs   = make(chan error, workers+1)
	)
	// Lifecycle messages, published meanwhile, go to their own stream and
	// must not cost an event or reorder them.
	wg.Go(func() {
		for i := range 50 {
			if err := j.PublishLifecycle(ctx, events.PluginSubject(j.Prefix(), "p", "started"), i); err != nil {
				errs <- err
				return
			}
		}
	})
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				batch := []events.Event{ev(w*1000 + i)}
				if i%3 == 0 {
					batch = append(batch, ev(w*1000+i+500)) // some multi-event appends
				}
				engine.Lock()
				c := j.Append(batch)
				for _, e := range c.Events() {
					order = append(order, e.ID)
				}
				engine.Unlock()
				if err := c.Wait(ctx); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	var replayed []string
	last, err := j.Replay(ctx, 0, func(seq uint64, e events.Event) error {
		replayed = append(replayed, e.ID)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(replayed, order) {
		t.Fatalf("stream order differs from append order (%d vs %d events)", len(replayed), len(order))
	}
	if !slices.IsSorted(order) {
		t.Error("ids are not sorted in append order")
	}
	if last != uint64(len(order)+1) || j.LastSeq() > last { // and the term event
		t.Errorf("Replay reached %d, LastSeq %d, events %d", last, j.LastSeq(), len(order))
	}
}

func TestDuplicatePublishStoredOnce(t *testing.T) {
	s := natstest.Start(t)
	j := open(t, s)
	ctx := waitCtx(t)
	c := j.Append([]events.Event{ev(1)})
	if err := c.Wait(ctx); err != nil {
		t.Fatal(err)
	}

	// Send the same event again, as the publisher's retry does.
	nc, err := s.Connect()
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	e := c.Events()[0]
	data, _ := json.Marshal(e)
	ack, err := js.PublishMsg(ctx, &nats.Msg{
		Subject: e.Subject(events.DefaultPrefix), Data: data,
		Header: nats.Header{jetstream.MsgIDHeader: []string{e.ID}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !ack.Duplicate || ack.Sequence != j.LastSeq() {
		t.Errorf("ack = %+v, want a duplicate of seq %d", ack, j.LastSeq())
	}
	if n := len(stored(t, s)); n != 1 {
		t.Fatalf("stream holds %d messages, want 1", n)
	}
}

func TestReplay(t *testing.T) {
	s := natstest.Start(t)
	j := open(t, s)
	ctx := waitCtx(t)

	var all []events.Event
	for i := range 10 {
		c := j.Append([]events.Event{ev(2 * i), ev(2*i + 1)})
		if err := c.Wait(ctx); err != nil {
			t.Fatal(err)
		}
		all = append(all, c.Events()...)
		if i == 4 {
			// Lifecycle messages go to their own stream.
			if err := j.PublishLifecycle(ctx, events.GatewaySubject(j.Prefix(), "reloaded"), map[string]string{"gateway": "gw1"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := j.PublishLifecycle(ctx, events.PluginSubject(j.Prefix(), "clm", "exited"), map[string]int{"code": 1}); err != nil {
		t.Fatal(err)
	}
	const total = 21 // the term event, 20 events

	type seen struct {
		seq uint64
		id  string
	}
	replay := func(after uint64) ([]seen, uint64) {
		t.Helper()
		var got []seen
		last, err := j.Replay(ctx, after, func(seq uint64, e events.Event) error {
			if e.Schema != events.Schema || e.Gateway != "gw1" {
				return fmt.Errorf("bad event %+v", e)
			}
			got = append(got, seen{seq, e.ID})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return got, last
	}

	tests := []struct {
		name      string
		after     uint64
		wantFirst int // index into all
	}{
		{"from 0", 0, 0},
		{"after the term event", 1, 0},
		{"from the middle", 5, 4},
		{"from the last event", 20, 19},
		{"from the end", total, 20},
		{"beyond the end", total + 5, 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, last := replay(tt.after)
			want := all[tt.wantFirst:]
			if len(got) != len(want) {
				t.Fatalf("replayed %d events, want %d", len(got), len(want))
			}
			for i := range got {
				if got[i].id != want[i].ID {
					t.Fatalf("event %d: id %s, want %s", i, got[i].id, want[i].ID)
				}
				if i > 0 && got[i].seq <= got[i-1].seq {
					t.Fatalf("sequences not increasing: %d after %d", got[i].seq, got[i-1].seq)
				}
			}
			wantLast := uint64(total)
			if tt.after > total {
				wantLast = tt.after
			}
			if last != wantLast {
				t.Errorf("lastSeq = %d, want %d", last, wantLast)
			}
		})
	}

	t.Run("callback error stops", func(t *testing.T) {
		stop := errors.New("stop")
		n := 0
		last, err := j.Replay(ctx, 0, func(seq uint64, e events.Event) error {
			if n == 3 {
				return stop
			}
			n++
			return nil
		})
		if !errors.Is(err, stop) || last != 4 { // the term event, then three
			t.Fatalf("Replay = %d, %v; want 4, %v", last, err, stop)
		}
	})
}

func TestPublishLifecycle(t *testing.T) {
	s := natstest.Start(t)
	j := open(t, s)
	ctx := waitCtx(t)
	subject := events.PluginSubject(j.Prefix(), "clm.1", "exited")
	if err := j.PublishLifecycle(ctx, subject, map[string]any{"plugin": "clm.1", "code": 2}); err != nil {
		t.Fatal(err)
	}
	if msgs := stored(t, s); len(msgs) != 0 {
		t.Fatalf("the journal holds %d messages, want none", len(msgs))
	}
	msgs := storedIn(t, s, events.DefaultLifecycleStream)
	if len(msgs) != 1 {
		t.Fatalf("stream holds %d messages, want 1", len(msgs))
	}
	m := msgs[0]
	if m.Subject != "licensegw.plugins.clm_1.exited" || string(m.Data) != `{"code":2,"plugin":"clm.1"}` || m.Header.Get(jetstream.MsgIDHeader) == "" {
		t.Errorf("stored %s %s %v", m.Subject, m.Data, m.Header)
	}

	for _, subj := range []string{"licensegw.events.acme.x.checkout", "other.gateway.started", "licensegw.gatewayx"} {
		if err := j.PublishLifecycle(ctx, subj, nil); !errors.Is(err, journal.ErrSubject) {
			t.Errorf("PublishLifecycle(%q) = %v, want ErrSubject", subj, err)
		}
	}
	if err := j.PublishLifecycle(ctx, subject, func() {}); err == nil {
		t.Error("PublishLifecycle of a payload JSON cannot encode succeeded")
	}
}

func TestOpen(t *testing.T) {
	s := natstest.Start(t)
	nc, err := s.Connect()
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	ctx := waitCtx(t)

	if _, err := journal.Open(ctx, journal.Config{}); err == nil {
		t.Error("Open without a connection succeeded")
	}

	// A stream created with JetStream's own age limit (as earlier
	// versions did) is updated: the gateway trims it itself, never past a
	// snapshot, so JetStream must not delete anything.
	js, _ := jetstream.New(nc)
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "EV", Subjects: []string{"lgw.events.>"}, MaxAge: 24 * time.Hour}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		j, err := journal.Open(ctx, journal.Config{Conn: nc, Prefix: "lgw", Stream: "EV"})
		if err != nil {
			t.Fatal(err)
		}
		st, err := js.Stream(ctx, "EV")
		if err != nil {
			t.Fatal(err)
		}
		cfg := st.CachedInfo().Config
		if cfg.MaxAge != 0 || cfg.MaxBytes > 0 || cfg.MaxMsgSize <= events.MaxBytes || cfg.Storage != jetstream.FileStorage ||
			cfg.Duplicates != journal.DuplicateWindow || !slices.Equal(cfg.Subjects, events.StreamSubjects("lgw")) {
			t.Errorf("stream config %+v", cfg)
		}
		if err := j.Close(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

func TestCloseFlushes(t *testing.T) {
	s := natstest.Start(t)
	j := open(t, s)
	var commits []*journal.Commit
	for i := range 2000 {
		commits = append(commits, j.Append([]events.Event{ev(i)}))
	}
	if err := j.Close(waitCtx(t)); err != nil {
		t.Fatal(err)
	}
	for i, c := range commits {
		select {
		case <-c.Done():
		default:
			t.Fatalf("commit %d not done after Close", i)
		}
		if err := c.Wait(context.Background()); err != nil {
			t.Fatalf("commit %d: %v", i, err)
		}
	}
	if n := len(stored(t, s)); n != 2000 {
		t.Fatalf("stream holds %d messages, want 2000", n)
	}
	if err := j.Append([]events.Event{ev(1)}).Wait(waitCtx(t)); !errors.Is(err, journal.ErrClosed) {
		t.Errorf("Append after Close: %v, want ErrClosed", err)
	}
	if err := j.Close(waitCtx(t)); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestWaitFailsWhenServerGone(t *testing.T) {
	s := natstest.Start(t)
	j := open(t, s)
	if err := j.Append([]events.Event{ev(0)}).Wait(waitCtx(t)); err != nil {
		t.Fatal(err)
	}
	s.Shutdown()

	c := j.Append([]events.Event{ev(1)})
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := c.Wait(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait = %v, want a deadline error", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Wait took %v", d)
	}

	// Close gives up on the pending commit when its ctx ends.
	ctx2, cancel2 := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel2()
	if err := j.Close(ctx2); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Close = %v, want a deadline error", err)
	}
	if err := c.Wait(context.Background()); !errors.Is(err, journal.ErrClosed) {
		t.Errorf("Wait after Close = %v, want ErrClosed", err)
	}
}

// freePort returns a loopback address nobody listens on right now.
func freePort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// restartable is a NATS server on a fixed address and store directory:
// each start serves the same stream again, as a restarted server does.
// Every server started is shut down when t ends.
func restartable(t *testing.T) (start func() *natsd.Server, addr string) {
	dir, addr := t.TempDir(), freePort(t)
	return func() *natsd.Server {
		s, err := natsd.Start(waitCtx(t), natsd.Config{Listen: addr, StoreDir: dir, Auth: natstest.Auth()}, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Shutdown)
		return s
	}, addr
}

// openLogged opens a journal from cfg whose warnings and errors go to the
// returned buffer, and closes it when t ends.
func openLogged(t *testing.T, cfg journal.Config) (*journal.Journal, *lockedBuffer) {
	t.Helper()
	logs := &lockedBuffer{}
	cfg.Log = hclog.New(&hclog.LoggerOptions{Output: logs, Level: hclog.Warn})
	j, err := journal.Open(waitCtx(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = j.Close(ctx)
	})
	return j, logs
}

// replayed is every event j's replay (the read rule) gives, in order.
func replayed(ctx context.Context, t testing.TB, j *journal.Journal) []events.Event {
	t.Helper()
	var out []events.Event
	if _, err := j.Replay(ctx, 0, func(_ uint64, e events.Event) error {
		out = append(out, e)
		return nil
	}); err != nil {
		t.Fatalf("replay: %v", err)
	}
	return out
}

// leasesOf is the lease of each of evs.
func leasesOf(evs []events.Event) []string {
	out := make([]string, len(evs))
	for i := range evs {
		out[i] = evs[i].Lease
	}
	return out
}

// TestRetryAcrossServerRestart appends while the server is down: the
// publisher retries with the same ids, the client replays its buffered
// publishes on reconnect, and the stream still holds every event once and in
// order, the events from before the restart included.
func TestRetryAcrossServerRestart(t *testing.T) {
	start, _ := restartable(t)
	s := start()
	nc, err := nats.Connect(s.ClientURL(), natstest.FullAccess(), nats.MaxReconnects(-1), nats.ReconnectWait(20*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	// The journal's log tells when a publish failed and is retried.
	j, logs := openLogged(t, journal.Config{Conn: nc, Gateway: "gw1"})
	ctx := waitCtx(t)

	var ids []string
	for i := range 50 {
		c := j.Append([]events.Event{ev(i)})
		if err := c.Wait(ctx); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.Events()[0].ID)
	}
	s.Shutdown()

	var commits []*journal.Commit
	for i := range 50 {
		c := j.Append([]events.Event{ev(100 + i)})
		commits = append(commits, c)
		ids = append(ids, c.Events()[0].ID)
	}
	// Wait until the publisher has failed and failed again on retrying,
	// so the commits below succeed by a retry, not by a first attempt.
	const retrying = "publishing events failed; retrying"
	for deadline := time.Now().Add(10 * time.Second); strings.Count(logs.String(), retrying) < 2; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no second failed attempt while the server was down; log:\n%s", logs.String())
		}
	}
	for _, c := range commits {
		if c.Seq() != 0 {
			t.Fatal("a commit succeeded while the server was down")
		}
	}
	s = start()
	for i, c := range commits {
		if err := c.Wait(ctx); err != nil {
			t.Fatalf("commit %d after restart: %v", i, err)
		}
	}

	msgs := stored(t, s)
	var got []string
	for _, m := range msgs {
		got = append(got, m.Header.Get(jetstream.MsgIDHeader))
	}
	if !slices.Equal(got, ids) {
		pos := make(map[string]int, len(ids))
		for i, id := range ids {
			pos[id] = i
		}
		var order []int
		for _, id := range got {
			order = append(order, pos[id])
		}
		t.Fatalf("stream after restart holds %d messages, want %d in append order; append positions in stream order: %v", len(got), len(ids), order)
	}

	// A new journal on the restarted server replays everything.
	j2 := open(t, s)
	n := 0
	if _, err := j2.Replay(ctx, 0, func(uint64, events.Event) error { n++; return nil }); err != nil || n != 100 {
		t.Fatalf("replay after restart: %d events, %v", n, err)
	}
}

// startServer is natstest.Start, for benchmarks too.
func startServer(tb testing.TB) *natsd.Server { return natstest.Start(tb) }

// TestLargeAppend appends more events at once than one burst carries: the
// commit completes only when all are stored, in order.
func TestLargeAppend(t *testing.T) {
	s := natstest.Start(t)
	j := open(t, s)
	in := make([]events.Event, 5000)
	for i := range in {
		in[i] = ev(i)
	}
	// 5,000 acknowledged appends take a few seconds under -race on an
	// idle 2-core machine and over 10 s on a loaded one: the test is about
	// completeness and order, so it waits as long as a slow machine needs.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := j.Append(in)
	if err := c.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	leases := leasesOf(replayed(ctx, t, j))
	if len(leases) != len(in) {
		t.Fatalf("replayed %d events, want %d", len(leases), len(in))
	}
	for i, l := range leases {
		if l != in[i].Lease {
			t.Fatalf("event %d has lease %s, want %s", i, l, in[i].Lease)
		}
	}
	if j.LastSeq() != uint64(len(in)+1) || c.Seq() != uint64(len(in)+1) { // after the term event
		t.Errorf("LastSeq = %d, Commit.Seq = %d, want %d", j.LastSeq(), c.Seq(), len(in)+1)
	}
}

func TestSync(t *testing.T) {
	s := natstest.Start(t)
	j := open(t, s)
	ctx := waitCtx(t)
	if seq, err := j.Sync(ctx); err != nil || seq != 0 {
		t.Fatalf("Sync before any event = %d, %v", seq, err)
	}
	var commits []*journal.Commit
	for i := range 300 {
		commits = append(commits, j.Append([]events.Event{ev(i)}))
	}
	seq, err := j.Sync(ctx)
	if err != nil || seq != 301 { // the term event, then 300
		t.Fatalf("Sync = %d, %v; want 301", seq, err)
	}
	for i, c := range commits {
		if c.Seq() != uint64(i+2) {
			t.Fatalf("commit %d: Seq = %d, want %d", i, c.Seq(), i+1)
		}
	}
}
