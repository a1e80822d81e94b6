package ledger_test

import (
	"strconv"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/licensegw/licensegw/gateway/cluster"
	"github.com/licensegw/licensegw/gateway/ledger"
	"github.com/licensegw/licensegw/gateway/seats"
)

// TestStartsFromTheSnapshotStore: a ledger with an empty data directory
// (a node taking over) starts from the snapshot another ledger (the
// previous leader) put in the cluster's object store, and replays only
// the events after it: the events before it are purged from the stream,
// and a ledger without the store cannot know the leases they granted.
func TestStartsFromTheSnapshotStore(t *testing.T) {
	r := newRig(t, features(seats.Feature{Name: "cad", Version: "1.0", Seats: 50}))
	nc, err := r.ns.Connect()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, _ := jetstream.New(nc)
	store, err := cluster.OpenSnapshotStore(ctx(t), js, "", 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	withStore := func(o *ledger.Options) { o.Snapshots = store }

	l1, j1 := r.openWith(withStore)
	var ids []string
	for i := range 20 {
		res, _, err := l1.Checkout(ctx(t), req("cad", "u"+strconv.Itoa(i)))
		if err != nil || res.Outcome != seats.Granted {
			t.Fatal(res, err)
		}
		ids = append(ids, res.Lease.ID)
	}
	if err := l1.Snapshot(ctx(t)); err != nil {
		t.Fatal(err)
	}
	_, snapped, err := j1.Bounds(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	// After the snapshot: five checkins only the stream knows.
	for _, id := range ids[:5] {
		if err := l1.Checkin(ctx(t), id); err != nil {
			t.Fatal(err)
		}
	}
	j1.Close(ctx(t)) // the leader is gone; its ledger never closed

	// What the snapshot includes leaves the stream (as retention would).
	st, err := js.Stream(ctx(t), "LICENSEGW_EVENTS")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Purge(ctx(t), jetstream.WithPurgeSequence(snapped+1)); err != nil {
		t.Fatal(err)
	}

	// Another node: a data directory of its own, empty.
	r.dataDir = t.TempDir()
	l2, _ := r.openWith(withStore)
	if n, _ := l2.Counts(); n != 15 {
		t.Fatalf("started with %d leases, want 15 (the store's snapshot, then the checkins)", n)
	}
	for _, id := range ids[5:] {
		if _, err := l2.Heartbeat(ctx(t), id); err != nil {
			t.Fatalf("lease %s lost: %v", id, err)
		}
	}
	for _, id := range ids[:5] {
		if _, err := l2.Heartbeat(ctx(t), id); err == nil {
			t.Fatalf("checked-in lease %s came back", id)
		}
	}

	// The control: the same start without the store knows none of them.
	r.dataDir = t.TempDir()
	l3, _ := r.openWith(func(*ledger.Options) {})
	if n, _ := l3.Counts(); n != 0 {
		t.Fatalf("without the store: %d leases, want 0 (their events were purged)", n)
	}
}
