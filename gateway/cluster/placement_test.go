package cluster_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/licensegw/licensegw/gateway/cluster"
	"github.com/licensegw/licensegw/gateway/natsd"
	"github.com/licensegw/licensegw/gateway/natsd/natstest"
)

// TestMoveAway puts an R3 stream's raft leader elsewhere when it sits on
// the server asking, and leaves it alone when it does not; the stream
// stays writable.
func TestMoveAway(t *testing.T) {
	srvs := natstest.StartCluster(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	nc, err := srvs[0].Connect()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, _ := jetstream.New(nc)
	err = cluster.Retry(ctx, hclog.NewNullLogger(), "stream", func(ctx context.Context) error {
		_, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{Name: "PLACED", Subjects: []string{"placed.>"}, Replicas: 3})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var leader string
	// Under load the replicas catch up some time after the stream is
	// created: only a current replica can take over. Each ask is bounded:
	// a request made during a raft leader change may never be answered.
	for {
		c, cancel := context.WithTimeout(ctx, time.Second)
		l, others, err := cluster.StreamLeader(c, js, "PLACED")
		cancel()
		if err == nil && l != "" && len(others) == 2 {
			leader = l
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("replicas of PLACED never current: %v %v", others, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
	var on, off *natsd.Server
	for _, s := range srvs {
		if s.NATS().Name() == leader {
			on = s
		} else if off == nil {
			off = s
		}
	}
	if on == nil {
		t.Fatalf("stream leader %q is none of the servers", leader)
	}

	// Asked by a server that does not lead it: nothing moves.
	offNC, err := off.Connect()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(offNC.Close)
	offJS, _ := jetstream.New(offNC)
	moves, err := cluster.MoveAway(ctx, offNC, offJS, off.NATS().Name(), "PLACED", "NO_SUCH_STREAM")
	if err != nil || len(moves) != 0 {
		t.Fatalf("MoveAway from a server not leading = %v, %v; want nothing moved", moves, err)
	}

	// Asked by the server that leads it: another one leads it.
	onNC, err := on.Connect()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(onNC.Close)
	onJS, _ := jetstream.New(onNC)
	mctx, mcancel := context.WithTimeout(ctx, 30*time.Second)
	moves, err = cluster.MoveAway(mctx, onNC, onJS, leader, "PLACED")
	mcancel()
	if err != nil {
		t.Fatal(err)
	}
	if len(moves) != 1 || moves[0].From != leader || moves[0].To == "" || moves[0].To == leader {
		t.Fatalf("moves = %+v, want PLACED from %s to another server", moves, leader)
	}
	t.Logf("stream leader moved %s -> %s in %v", moves[0].From, moves[0].To, moves[0].Took)
	if now := boundedStreamLeader(ctx, t, onJS, "PLACED"); now == leader {
		t.Errorf("stream leader after the move = %q", now)
	}
	pctx, pcancel := context.WithTimeout(ctx, 20*time.Second)
	defer pcancel()
	if _, err := onJS.Publish(pctx, "placed.x", []byte("still writable")); err != nil {
		t.Errorf("publish after the move: %v", err)
	}
}

// TestMovingTheLeaseKeepsIt moves the lease bucket's raft leader off the
// leader's server again and again, onto it by MoveAwayAvoiding and off it
// by MoveLease, with the default lease (renewed every 400 ms, given up
// 1.5 s after the last renewal): no move costs the elector its lease. A
// renewal waiting on one request that a raft leader change dropped lost it.
func TestMovingTheLeaseKeepsIt(t *testing.T) {
	srvs := natstest.StartCluster(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	jss := make([]jetstream.JetStream, len(srvs))
	names := make([]string, len(srvs))
	for i, s := range srvs {
		nc, err := s.Connect()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		jss[i], _ = jetstream.New(nc)
		names[i] = s.NATS().Name()
	}
	el := cluster.NewElector(cluster.ElectorConfig{
		JS: jss[0], Replicas: 3, Self: cluster.Lease{Node: "gw1"},
		// The product's lease timings: a tighter lease (renewed every
		// 100 ms, given up after 600 ms) was lost to CI's load alone,
		// with no move under way.
		Log: hclog.New(&hclog.LoggerOptions{Name: "gw1", Output: testWriter{t}, Level: hclog.Info}),
	})
	rctx, stop := context.WithCancel(ctx)
	ran := make(chan struct{})
	go func() { defer close(ran); el.Run(rctx) }()
	t.Cleanup(func() { stop(); <-ran })
	select {
	case <-el.Won():
	case <-ctx.Done():
		t.Fatal("the only candidate was not elected")
	}
	lost := func() bool {
		select {
		case <-el.Lost():
			return true
		default:
			return false
		}
	}
	lease := cluster.LeaseStream("")
	const want = 6
	moved := 0
	for attempt := 0; moved < want && !lost(); attempt++ {
		if ctx.Err() != nil {
			t.Fatalf("%d moves of %d in time", moved, want)
		}
		leader := boundedStreamLeader(ctx, t, jss[0], lease)
		if leader != names[0] {
			// Onto the elector's server first (avoiding the third).
			i := slices.Index(names, leader)
			if i < 0 {
				t.Fatalf("lease stream leader %q is none of %v", leader, names)
			}
			third := names[3-i]
			mctx, mcancel := context.WithTimeout(ctx, 10*time.Second)
			_, err := cluster.MoveAwayAvoiding(mctx, jss[i].Conn(), jss[i], leader, []string{third}, lease)
			mcancel()
			if err != nil {
				t.Logf("moving the lease stream onto %s: %v", names[0], err)
			}
			continue
		}
		mctx, mcancel := context.WithTimeout(ctx, 10*time.Second)
		m, err := el.MoveLease(mctx, names[0], nil)
		mcancel()
		switch {
		case errors.Is(err, cluster.ErrNotMoved):
			t.Logf("not moved (a loaded machine): %v", err)
		case err != nil:
			t.Fatalf("MoveLease: %v", err)
		case m == nil:
			t.Logf("nothing to move (replicas not current yet)")
		default:
			moved++
			t.Logf("lease stream moved %s -> %s in %v", m.From, m.To, m.Took.Round(time.Millisecond))
		}
	}
	// Past the window a renewal lost during the last move would end.
	select {
	case <-el.Lost():
	case <-time.After(time.Second):
	}
	if lost() {
		t.Fatalf("the lease was lost after %d moves: %v", moved, el.Err())
	}
	if !el.Holds() {
		t.Error("the elector does not hold its lease after the moves")
	}
}

// boundedStreamLeader waits for stream's leader, each ask bounded: a
// JetStream API request made during a raft leader change may never be
// answered.
func boundedStreamLeader(ctx context.Context, t *testing.T, js jetstream.JetStream, stream string) string {
	t.Helper()
	for {
		c, cancel := context.WithTimeout(ctx, time.Second)
		leader, _, err := cluster.StreamLeader(c, js, stream)
		cancel()
		if err == nil && leader != "" {
			return leader
		}
		select {
		case <-ctx.Done():
			t.Fatalf("stream %s has no leader: %v", stream, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
