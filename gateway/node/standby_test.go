package node

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

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
// It runs with LICENSEGW_FAULTS=1 only: on an idle machine the in-process
// cluster's JetStream API stopped answering for a minute in 3 runs of 4
// (the intruder's Put or the stream info timed out), a defect still open.
func TestLeaderThatLosesItsLeaseStandsBy(t *testing.T) {
	if os.Getenv("LICENSEGW_FAULTS") == "" {
		t.Skip("set LICENSEGW_FAULTS=1: the in-process cluster's JetStream API stalls here (open defect)")
	}
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
	nc, err := srvs[0].Connect()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	kv, err := js.KeyValue(ctx, cluster.DefaultBucket)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(ctx, "leader", []byte(`{"node":"intruder"}`)); err != nil {
		t.Fatal(err)
	}
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
	st, err := js.Stream(ctx, leader.cfg.NATS.Stream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.LastSeq != before {
		t.Errorf("the stream grew from %d to %d after the lease was lost", before, info.State.LastSeq)
	}
}
