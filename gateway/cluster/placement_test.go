package cluster_test

import (
	"context"
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
	leader := waitStreamLeader(ctx, t, js, "PLACED")
	// Under load the replicas catch up some time after the stream is
	// created: only a current replica can take over.
	for {
		l, others, err := cluster.StreamLeader(ctx, js, "PLACED")
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
	if now, _, err := cluster.StreamLeader(ctx, onJS, "PLACED"); err != nil || now == leader {
		t.Errorf("stream leader after the move = %q, %v", now, err)
	}
	pctx, pcancel := context.WithTimeout(ctx, 20*time.Second)
	defer pcancel()
	if _, err := onJS.Publish(pctx, "placed.x", []byte("still writable")); err != nil {
		t.Errorf("publish after the move: %v", err)
	}
}

func waitStreamLeader(ctx context.Context, t *testing.T, js jetstream.JetStream, stream string) string {
	t.Helper()
	for {
		leader, _, err := cluster.StreamLeader(ctx, js, stream)
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
