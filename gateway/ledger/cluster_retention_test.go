package ledger_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/licensegw/licensegw/gateway/cluster"
	"github.com/licensegw/licensegw/gateway/events"
	"github.com/licensegw/licensegw/gateway/journal"
	"github.com/licensegw/licensegw/gateway/ledger"
	"github.com/licensegw/licensegw/gateway/natsd"
	"github.com/licensegw/licensegw/gateway/natsd/natstest"
	"github.com/licensegw/licensegw/gateway/seats"
)

// clusterLedger opens a ledger as the leader on ns would: its own
// connection, a journal on the R3 stream with the lifecycle limits, the
// cluster's snapshot store, and dataDir.
func clusterLedger(t *testing.T, ns *natsd.Server, dataDir string, r ledger.Retention) (*ledger.Ledger, func()) {
	t.Helper()
	nc, err := ns.Connect(nats.Name(t.Name()))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	j, err := journal.Open(ctx, journal.Config{Conn: nc, Gateway: "gw", Replicas: 3, LifecycleLimits: r})
	if err != nil {
		t.Fatal(err)
	}
	js, _ := jetstream.New(nc)
	store, err := cluster.OpenSnapshotStore(ctx, js, "", 3, nil)
	if err != nil {
		t.Fatal(err)
	}
	l, err := ledger.Open(ctx, ledger.Options{
		Config:  features(seats.Feature{Name: "cad", Version: "1.0", Seats: 1000, LeaseTTL: time.Hour}),
		Journal: j, DataDir: dataDir, SnapshotEvery: 1_000_000, Snapshots: store, Retention: r,
	})
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	closeAll := func() {
		if closed {
			return
		}
		closed = true
		c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := l.Close(c); err != nil {
			t.Errorf("close: %v", err)
		}
		_ = j.Close(c)
		nc.Close()
	}
	t.Cleanup(closeAll)
	return l, closeAll
}

// Retention in a cluster: the leader trims the replicated journal (on
// every replica) only below what the snapshot store's older snapshot
// includes, so a node that takes over with no snapshot of its own starts
// from the store and finds every lease; the lifecycle stream carries the
// configured limits, replicated.
func TestRetentionInACluster(t *testing.T) {
	srvs := natstest.StartCluster(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	r := ledger.Retention{MaxMsgs: 40}
	l1, close1 := clusterLedger(t, srvs[0], t.TempDir(), r)

	var held []string
	checkouts := func(n int) {
		for i := range n {
			res, _, err := l1.Checkout(ctx, req("cad", fmt.Sprintf("u%d", len(held)+i)))
			if err != nil || res.Outcome != seats.Granted {
				t.Fatalf("checkout: %+v, %v", res, err)
			}
			held = append(held, res.Lease.ID)
		}
	}
	checkouts(100)
	if err := l1.Snapshot(ctx); err != nil { // the store's first: nothing trimmed yet
		t.Fatal(err)
	}
	first := streamFirst(t, ctx, srvs[0])
	if first != 1 {
		t.Fatalf("first snapshot: the stream begins at %d, want 1 (the store had no older snapshot)", first)
	}
	checkouts(100)
	if err := l1.Snapshot(ctx); err != nil {
		t.Fatal(err)
	}
	first = streamFirst(t, ctx, srvs[0])
	if first <= 1 {
		t.Fatalf("second snapshot: the stream still begins at %d; max_msgs 40 trims nothing", first)
	}
	t.Logf("the stream begins at %d after the second snapshot", first)
	// Every replica trimmed (a purge goes through the stream's raft log).
	deadline := time.Now().Add(30 * time.Second)
	for i, ns := range srvs {
		for {
			got, ok := replicaFirst(ns, events.DefaultStream)
			if ok && got == first {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("server %d's replica begins at %d (found %v), the stream at %d", i+1, got, ok, first)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}

	nc := natstest.Connect(t, srvs[1])
	js, _ := jetstream.New(nc)
	lc, err := js.Stream(ctx, events.DefaultLifecycleStream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := lc.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.Config.MaxMsgs != 40 || info.Config.Replicas != 3 || info.Config.MaxAge != journal.DefaultLifecycleAge {
		t.Errorf("lifecycle stream: max_msgs %d, replicas %d, max_age %v; want 40, 3, %v",
			info.Config.MaxMsgs, info.Config.Replicas, info.Config.MaxAge, journal.DefaultLifecycleAge)
	}

	// The next leader, on another server, has no snapshot of its own.
	close1()
	l2, _ := clusterLedger(t, srvs[2], t.TempDir(), r)
	for _, id := range held {
		if _, ok := l2.Lease(id); !ok {
			t.Fatalf("lease %s lost at the takeover after retention trimmed the stream", id)
		}
	}
	if leases, _ := l2.Counts(); leases != len(held) {
		t.Fatalf("%d leases after the takeover, want %d", leases, len(held))
	}
}

// streamFirst is the journal stream's first sequence, as its leader says.
func streamFirst(t *testing.T, ctx context.Context, ns *natsd.Server) uint64 {
	t.Helper()
	js := natstest.JetStream(t, ns)
	st, err := js.Stream(ctx, events.DefaultStream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return info.State.FirstSeq
}

// replicaFirst is the first sequence of ns's own replica of stream.
func replicaFirst(ns *natsd.Server, stream string) (uint64, bool) {
	info, err := ns.NATS().Jsz(&server.JSzOptions{Accounts: true, Streams: true})
	if err != nil {
		return 0, false
	}
	for _, a := range info.AccountDetails {
		for _, s := range a.Streams {
			if s.Name == stream {
				return s.State.FirstSeq, true
			}
		}
	}
	return 0, false
}
