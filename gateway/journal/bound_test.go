package journal_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/licensegw/licensegw/gateway/events"
	"github.com/licensegw/licensegw/gateway/journal"
	"github.com/licensegw/licensegw/gateway/natsd/natstest"
)

// TestHostileEventsDoNotStopTheJournal reproduces issue 8's defects 1 and 2:
// a feature name longer than NATS's protocol line made the server drop the
// journal's connection for good, and an event over NATS's maximum payload
// was retried forever; either stopped every later append. Now every such
// event is stored, within events.MaxBytes, and the journal keeps appending.
func TestHostileEventsDoNotStopTheJournal(t *testing.T) {
	ctrl := strings.Repeat("\x01", 65_000) // six bytes each once JSON-escaped
	tests := []struct {
		name string
		edit func(*events.Event)
	}{
		{"feature over the protocol line", func(e *events.Event) { e.Feature = strings.Repeat("F", 4030) }},
		{"vendor over the protocol line", func(e *events.Event) { e.Vendor = strings.Repeat("v", 70_000) }},
		{"subject metacharacters", func(e *events.Event) { e.Vendor, e.Feature = "a.*>", "b c.>\x00" }},
		{"payload over a megabyte escaped", func(e *events.Event) {
			e.User, e.Host, e.Display, e.Project = ctrl, ctrl, ctrl, ctrl
		}},
		{"unknown feature denied", func(e *events.Event) {
			e.Kind, e.Reason, e.Feature, e.Vendor = events.Denied, events.ReasonUnknownFeature, strings.Repeat("é", 3000), "x.y"
		}},
	}
	s := natstest.Start(t)
	j := open(t, s)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			hostile := ev(2 * i)
			tt.edit(&hostile)
			c := j.Append([]events.Event{hostile})
			after := j.Append([]events.Event{ev(2*i + 1)})
			if err := c.Wait(ctx); err != nil {
				t.Fatalf("hostile event: %v", err)
			}
			if err := after.Wait(ctx); err != nil {
				t.Fatalf("the event after it: %v", err)
			}
			if err := j.Ready(); err != nil {
				t.Fatalf("Ready after the hostile event: %v", err)
			}
		})
	}
	for _, m := range stored(t, s) {
		if len(m.Data) > events.MaxBytes {
			t.Errorf("seq %d: %d bytes, over events.MaxBytes", m.Sequence, len(m.Data))
		}
		if len(m.Subject) > len("licensegw.events.")+2*events.MaxTokenBytes+len(".unreserved")+1 {
			t.Errorf("seq %d: subject of %d bytes", m.Sequence, len(m.Subject))
		}
		for _, tok := range strings.Split(m.Subject, ".") {
			if tok == "" || strings.ContainsAny(tok, "*> \x00") {
				t.Errorf("seq %d: subject %q has a bad token", m.Sequence, m.Subject)
			}
		}
	}
	if got := len(stored(t, s)); got != 2*len(tests) {
		t.Errorf("stream holds %d events, want %d", got, 2*len(tests))
	}
}

// TestJournalRedialsAClosedConnection: nats.go gives up on a connection the
// server closed with some errors (an over-long protocol line among them)
// instead of reconnecting. A journal given Dial opens a new one by itself;
// Ready says "not ready" until it has.
func TestJournalRedialsAClosedConnection(t *testing.T) {
	s := natstest.Start(t)
	var mu sync.Mutex
	var conns []*nats.Conn
	dial := func(opts ...nats.Option) (*nats.Conn, error) {
		nc, err := s.Connect(opts...)
		if err == nil {
			mu.Lock()
			conns = append(conns, nc)
			mu.Unlock()
		}
		return nc, err
	}
	j, err := journal.Open(waitCtx(t), journal.Config{Dial: dial, Gateway: "gw1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = j.Close(context.Background()) })
	if err := j.Append([]events.Event{ev(1)}).Wait(waitCtx(t)); err != nil {
		t.Fatal(err)
	}

	// Make the server close the journal's connection the way issue 8's
	// datagram did: a protocol line over 4 KiB.
	mu.Lock()
	first := conns[0]
	mu.Unlock()
	_ = first.Publish("x."+strings.Repeat("y", 5000), nil)
	deadline := time.Now().Add(5 * time.Second)
	for !first.IsClosed() {
		if time.Now().After(deadline) {
			t.Fatal("the server did not close the connection")
		}
		time.Sleep(10 * time.Millisecond)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := j.Append([]events.Event{ev(2)}).Wait(ctx); err != nil {
		t.Fatalf("append after the connection was closed: %v", err)
	}
	if err := j.Ready(); err != nil {
		t.Fatalf("Ready after redial: %v", err)
	}
	mu.Lock()
	n := len(conns)
	mu.Unlock()
	if n < 2 {
		t.Fatalf("%d connections dialed, want a second one", n)
	}
	if got := len(stored(t, s)); got != 2 {
		t.Fatalf("stream holds %d events, want 2", got)
	}
}

// TestReadyReportsAStoppedServer: Ready is what /readyz serves, so it must
// say "not ready" while the server is down (the gateway's end-to-end tests
// restart the server and see it ready again).
func TestReadyReportsAStoppedServer(t *testing.T) {
	s := natstest.Start(t)
	nc, err := nats.Connect(s.ClientURL(), natstest.FullAccess(), nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	j := openConn(t, nc)
	if err := j.Ready(); err != nil {
		t.Fatalf("Ready: %v", err)
	}
	s.Shutdown()
	waitFor(t, func() bool { return errors.Is(j.Ready(), journal.ErrNotReady) })
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
