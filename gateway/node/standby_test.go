package node

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/licensegw/licensegw/gateway/cluster"
	"github.com/licensegw/licensegw/gateway/journal"
	"github.com/licensegw/licensegw/gateway/natsd/natstest"
	"github.com/licensegw/licensegw/gateway/seats"
)

// TestLeaderThatLosesItsLeaseStandsBy: a leader whose lease another
// writer took ends with ErrLostLeadership (serve starts it again in
// place as a standby; it does not exit), and from then on its journal
// sends nothing: a checkout on its ledger fails and the stream does not
// grow.
//
// The leader's placement pass moves raft leaders (the meta group's, the
// streams') right after it takes over, which is when this test talks to
// the cluster: nats-server answers no JetStream API request that reaches
// a stream during its leader change, so every request here is bounded and
// asked again (cluster.Retry) rather than waited on for a minute.
func TestLeaderThatLosesItsLeaseStandsBy(t *testing.T) {
	srvs := natstest.StartCluster(t, 3)
	leader := startCluster(t, srvs, func(string) string { return `feature "cad" { seats = 2 }` })
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	req := seats.CheckoutRequest{Feature: "cad", Client: seats.Client{User: "u", Host: "h"}}
	if _, _, err := leader.ledger.Checkout(ctx, req); err != nil {
		t.Fatalf("checkout while leading: %v", err)
	}

	// Another writer takes the key: the leader's next renewal fails. The
	// test talks to the cluster on a connection of its own: the node's own
	// go down with its leadership.
	js := natstest.JetStream(t, srvs[0])
	// The intruder is another node with the same signing key: the
	// nodes standing by read its lease (a key they do not share would
	// make them refuse to join, and stop).
	intruder, err := json.Marshal(cluster.Lease{Node: "intruder", PublicKey: leader.lead.self.PublicKey})
	if err != nil {
		t.Fatal(err)
	}
	var kv jetstream.KeyValue
	err = cluster.Retry(ctx, hclog.NewNullLogger(), "intruder's lease", func(ctx context.Context) (err error) {
		if kv == nil {
			if kv, err = js.KeyValue(ctx, cluster.DefaultBucket); err != nil {
				return err
			}
		}
		_, err = kv.Put(ctx, "leader", intruder)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// It keeps its lease until the test ends, so that no node standing
	// by takes over (and appends its term event to the stream).
	ictx, istop := context.WithCancel(context.Background())
	t.Cleanup(istop)
	go func() {
		for {
			select {
			case <-ictx.Done():
				return
			case <-time.After(cluster.DefaultRenewEvery):
			}
			c, cancel := context.WithTimeout(ictx, cluster.DefaultRenewEvery)
			_, _ = kv.Put(c, "leader", intruder)
			cancel()
		}
	}()
	select {
	case <-leader.Done():
	case <-ctx.Done():
		t.Fatal("the leader went on after its lease was taken")
	}
	if err := leader.Err(); !errors.Is(err, ErrLostLeadership) || errors.Is(err, ErrSteppedDown) {
		t.Fatalf("Err() = %v, want ErrLostLeadership", err)
	}
	if leader.lead.el.Holds() {
		t.Error("the elector still holds the lease")
	}
	before := leader.journal.LastSeq()
	// Refused either by the revocation itself or, once the publisher has
	// seen it, by the journal's readiness check: never appended.
	cctx, ccancel := context.WithTimeout(context.Background(), 10*time.Second)
	_, _, err = leader.ledger.Checkout(cctx, req)
	ccancel()
	if !errors.Is(err, journal.ErrRevoked) && !errors.Is(err, journal.ErrNotReady) {
		t.Errorf("checkout after the lease was lost: %v, want ErrRevoked or ErrNotReady", err)
	}
	ctx, cancel = context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var last uint64
	err = cluster.Retry(ctx, hclog.NewNullLogger(), "event stream", func(ctx context.Context) error {
		st, err := js.Stream(ctx, leader.cfg.NATS.Stream)
		if err != nil {
			return err
		}
		info, err := st.Info(ctx)
		if err != nil {
			return err
		}
		last = info.State.LastSeq
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if last != before {
		t.Errorf("the stream grew from %d to %d after the lease was lost", before, last)
	}
}
