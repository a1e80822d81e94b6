package natsd_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/licensegw/licensegw/gateway/natsd"
	"github.com/licensegw/licensegw/gateway/natsd/natstest"
)

// TestMoveMetaLeader: the JetStream meta leader moves off the server that
// asks when it leads, stays when another server asks, and JetStream keeps
// working for the gateway's account (the system account is declared).
func TestMoveMetaLeader(t *testing.T) {
	srvs := natstest.StartCluster(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var leader, other *natsd.Server
	for leader == nil {
		for _, s := range srvs {
			if s.MetaLeader() == s.NATS().Name() {
				leader = s
			} else if other == nil {
				other = s
			}
		}
		if leader == nil {
			select {
			case <-ctx.Done():
				t.Fatal("no meta leader")
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	if moved, err := other.MoveMetaLeader(ctx, ""); moved || err != nil {
		t.Fatalf("a server not leading moved the meta leader: %v, %v", moved, err)
	}
	mctx, mcancel := context.WithTimeout(ctx, 30*time.Second)
	moved, err := leader.MoveMetaLeader(mctx, other.NATS().Name())
	mcancel()
	if err != nil || !moved {
		t.Fatalf("MoveMetaLeader = %v, %v", moved, err)
	}
	if now := leader.MetaLeader(); now == leader.NATS().Name() || now == "" {
		t.Errorf("meta leader after the move: %q", now)
	}
	nc, err := leader.Connect()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, _ := jetstream.New(nc)
	for {
		sctx, scancel := context.WithTimeout(ctx, 5*time.Second)
		_, err := js.CreateOrUpdateStream(sctx, jetstream.StreamConfig{Name: "AFTER", Subjects: []string{"after.>"}, Replicas: 3})
		scancel()
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("JetStream after the move: %v", err)
		}
	}
}
