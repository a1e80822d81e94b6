package journal_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/licensegw/licensegw/gateway/events"
	"github.com/licensegw/licensegw/gateway/journal"
	"github.com/licensegw/licensegw/gateway/natsd"
	"github.com/licensegw/licensegw/gateway/natsd/natstest"
)

// TestStreamLeaderStepDownMidBurst runs the journal on a replicated (R3)
// stream of a 3-node cluster and makes the stream's raft leader step down
// while events are in flight: every append is acknowledged, the stream
// holds each event exactly once and in append order, and it is still
// writable afterwards (events v2: fencing with Nats-Expected-Last-Sequence
// survives a leader change, where Msg-Id chaining wedged the stream).
func TestStreamLeaderStepDownMidBurst(t *testing.T) {
	t0 := time.Now()
	srvs := natstest.StartCluster(t, 3)
	t.Logf("cluster up in %v", time.Since(t0))
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	nc := connectTo(t, srvs[1])
	j, err := journal.Open(ctx, journal.Config{Conn: nc, Gateway: "gw1", Replicas: 3})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = j.Close(c)
	})
	admin := connectTo(t, srvs[0])
	js, _ := jetstream.New(admin)
	oldLeader, err := natstest.WaitStreamLeader(ctx, js, events.DefaultStream)
	if err != nil {
		t.Fatal(err)
	}

	// The producer appends without waiting (as the engine does, many
	// commits in flight) and waits for every 20th commit, so the
	// pipeline stays a few hundred events deep, until told to stop.
	stop := make(chan struct{})
	type result struct {
		commits []*journal.Commit
		err     error
	}
	produced := make(chan result, 1)
	go func() {
		var r result
		defer func() { produced <- r }()
		for n := 0; ; n++ {
			batch := make([]events.Event, n%7+1)
			for i := range batch {
				batch[i] = ev(n*10 + i)
			}
			c := j.Append(batch)
			r.commits = append(r.commits, c)
			if n%20 == 19 {
				if r.err = c.Wait(ctx); r.err != nil {
					return
				}
				select {
				case <-stop:
					return
				default:
				}
			}
		}
	}()

	const before, after = 400, 400
	waitSeq(ctx, t, j, before)
	t1 := time.Now()
	stepDown(ctx, t, admin, events.DefaultStream)
	newLeader := oldLeader
	for newLeader == oldLeader {
		if newLeader, err = natstest.WaitStreamLeader(ctx, js, events.DefaultStream); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("new stream leader in %v", time.Since(t1))
	j.Nudge() // as a cluster leader does once it moved the stream's leader
	mark := j.LastSeq()
	waitSeq(ctx, t, j, mark+after)
	t.Logf("%d more events acknowledged in %v", after, time.Since(t1))
	close(stop)
	r := <-produced
	if r.err != nil {
		t.Fatalf("a commit failed across the step-down: %v", r.err)
	}
	var want []string
	for _, c := range r.commits {
		if err := c.Wait(ctx); err != nil {
			t.Fatalf("commit failed across the step-down: %v", err)
		}
		for _, e := range c.Events() {
			want = append(want, e.ID)
		}
	}
	t.Logf("stream leader %s -> %s; %d events appended, %d acknowledged before the step-down", oldLeader, newLeader, len(want), mark)

	// Still writable after the step-down.
	last := j.Append([]events.Event{ev(-1)})
	if err := last.Wait(ctx); err != nil {
		t.Fatalf("append after the step-down: %v", err)
	}
	want = append(want, last.Events()[0].ID)

	// Replay (read rule) gives every event once, in append order.
	replaysInOrder(ctx, t, j, want)
	// And the stream stores nothing twice, not even an event the read
	// rule would skip: one term event, then the events.
	raw := readAll(ctx, t, js, events.DefaultStream)
	if len(raw) != len(want)+1 {
		t.Errorf("stream holds %d messages, want %d events and 1 term event", len(raw), len(want))
	}
	seen := map[string]uint64{}
	for _, m := range raw {
		id := m.Header.Get(jetstream.MsgIDHeader)
		if prev, dup := seen[id]; dup {
			t.Errorf("event %s stored twice, at %d and %d", id, prev, m.Sequence)
		}
		seen[id] = m.Sequence
	}
}

// connectTo opens an in-process connection to s, closed when the test ends.
func connectTo(t testing.TB, s *natsd.Server) *nats.Conn {
	t.Helper()
	nc, err := s.Connect()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// waitSeq waits until j has an event acknowledged at seq or later.
func waitSeq(ctx context.Context, t *testing.T, j *journal.Journal, seq uint64) {
	t.Helper()
	for j.LastSeq() < seq {
		select {
		case <-ctx.Done():
			t.Fatalf("journal stuck at sequence %d, waiting for %d: %v", j.LastSeq(), seq, j.Ready())
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// stepDown asks the stream's raft leader to step down, retrying while the
// cluster cannot yet.
func stepDown(ctx context.Context, t *testing.T, nc *nats.Conn, stream string) {
	t.Helper()
	for {
		var resp struct {
			Success bool `json:"success"`
			Error   *struct {
				Description string `json:"description"`
			} `json:"error"`
		}
		m, err := nc.RequestWithContext(ctx, "$JS.API.STREAM.LEADER.STEPDOWN."+stream, nil)
		if err == nil {
			err = json.Unmarshal(m.Data, &resp)
		}
		if err == nil && resp.Error != nil {
			err = fmt.Errorf("%s", resp.Error.Description)
		}
		if err == nil && resp.Success {
			return
		}
		if ctx.Err() != nil {
			t.Fatalf("stream leader step-down: %v", err)
		}
		t.Logf("stream leader step-down: %v; retrying", err)
		time.Sleep(100 * time.Millisecond)
	}
}

// replaysInOrder checks that j's replay (the read rule) gives the events
// with ids want, each once, in that order.
func replaysInOrder(ctx context.Context, t *testing.T, j *journal.Journal, want []string) {
	t.Helper()
	var got []string
	for _, e := range replayed(ctx, t, j) {
		got = append(got, e.ID)
	}
	if len(got) != len(want) {
		t.Fatalf("replay gave %d events, %d were acknowledged", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("replay event %d is %s, want %s (lost, duplicated or reordered)", i, got[i], want[i])
		}
	}
}
