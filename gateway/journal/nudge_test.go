package journal_test

import (
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/licensegw/licensegw/gateway/events"
	"github.com/licensegw/licensegw/gateway/journal"
)

// TestNudgesLoseAndRepeatNothing nudges the journal (as a cluster leader
// does after moving the stream's leader) every millisecond while a producer
// keeps hundreds of events in flight: every event sent again at a nudge is
// either stored once or acknowledged as the copy already stored, so every
// commit succeeds, the stream holds each event once in append order, and
// the writer is never deposed by its own re-sends.
func TestNudgesLoseAndRepeatNothing(t *testing.T) {
	s := startServer(t)
	nc := connectTo(t, s)
	ctx := waitCtx(t)
	j, err := journal.Open(ctx, journal.Config{Conn: nc, Gateway: "gw1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = j.Close(waitCtx(t)) })

	stop := make(chan struct{})
	nudged := make(chan int)
	go func() {
		n := 0
		defer func() { nudged <- n }()
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				j.Nudge()
				n++
			}
		}
	}()
	var commits []*journal.Commit
	for n := range 600 {
		batch := make([]events.Event, n%5+1)
		for i := range batch {
			batch[i] = ev(n*10 + i)
		}
		commits = append(commits, j.Append(batch))
		if n%50 == 49 {
			if err := commits[len(commits)-1].Wait(ctx); err != nil {
				t.Fatalf("commit %d with nudges: %v", n, err)
			}
		}
	}
	var want []string
	for _, c := range commits {
		if err := c.Wait(ctx); err != nil {
			t.Fatalf("a commit failed with nudges: %v", err)
		}
		for _, e := range c.Events() {
			want = append(want, e.ID)
		}
	}
	close(stop)
	t.Logf("%d events appended under %d nudges", len(want), <-nudged)
	if err := j.Ready(); err != nil {
		t.Fatalf("the journal is not ready after the nudges: %v", err)
	}

	replaysInOrder(ctx, t, j, want)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	raw := readAll(ctx, t, js, events.DefaultStream)
	seen := map[string]bool{}
	for _, m := range raw {
		id := m.Header.Get(jetstream.MsgIDHeader)
		if seen[id] {
			t.Fatalf("event %s stored twice", id)
		}
		seen[id] = true
	}
}
