package ledger_test

import (
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/licensegw/licensegw/gateway/cluster"
	"github.com/licensegw/licensegw/gateway/ledger"
	"github.com/licensegw/licensegw/gateway/natsd/natstest"
	"github.com/licensegw/licensegw/gateway/seats"
)

// TestStartsFromTheSnapshotStore: a ledger with an empty data directory
// (a node taking over) starts from the snapshot another ledger (the
// previous leader) put in the cluster's object store, and replays only
// the events after it: the events before it are purged from the stream,
// and a ledger without the store cannot know the leases they granted.
func TestStartsFromTheSnapshotStore(t *testing.T) {
	r := newRig(t, features(seats.Feature{Name: "cad", Version: "1.0", Seats: 50}))
	js, store := openStore(t, r)
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

// TestRebindReachesTheSnapshotStore: a bound lease asked for again with its
// key through another node is bound to that node's connection (soft state,
// no event), and a snapshot carrying it reaches the store by itself: the
// node that takes over next, from the store, does not release the lease
// when the first node leaves, only when the second does.
func TestRebindReachesTheSnapshotStore(t *testing.T) {
	r := newRig(t, features(seats.Feature{Name: "cad", Version: "1.0", Seats: 5}))
	_, store := openStore(t, r)
	withStore := func(o *ledger.Options) { o.Snapshots = store }
	l1, j1 := r.openWith(withStore)

	ask := func(node string) seats.Result {
		q := req("cad", "alice")
		q.Bound, q.Key, q.Client.Node, q.Client.Plugin = true, "clm/bound-1", node, "concurrentlm"
		res, _, err := l1.Checkout(ctx(t), q)
		if err != nil || res.Outcome != seats.Granted {
			t.Fatalf("checkout through %s: %+v, %v", node, res, err)
		}
		return res
	}
	first := ask("gw-1")
	if again := ask("gw-2"); again.Lease.ID != first.Lease.ID || again.Lease.Client.Node != "gw-2" {
		t.Fatalf("asked again through gw-2: %+v, want lease %s bound to gw-2", again.Lease, first.Lease.ID)
	}
	// No call to Snapshot: the rebind itself must bring one about.
	deadline := time.Now().Add(20 * time.Second)
	for !storeHoldsBinding(t, store, first.Lease.ID, "gw-2") {
		if time.Now().After(deadline) {
			t.Fatal("no snapshot with the rebound lease reached the store")
		}
		time.Sleep(50 * time.Millisecond)
	}
	j1.Close(ctx(t)) // the leader is gone

	r.dataDir = t.TempDir() // the next leader, from the store
	l2, _ := r.openWith(func(o *ledger.Options) {
		withStore(o)
		o.KeepBound = func(seats.Lease) bool { return true } // gw-1 and gw-2 were alive then
	})
	if err := l2.ReleaseBoundOn(ctx(t), "gw-1", "", time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := l2.Heartbeat(ctx(t), first.Lease.ID); err != nil {
		t.Fatalf("gw-1 left and the lease rebound to gw-2 went with it: %v", err)
	}
	if err := l2.ReleaseBoundOn(ctx(t), "gw-2", "", time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := l2.Heartbeat(ctx(t), first.Lease.ID); err == nil {
		t.Fatal("gw-2 left and the lease bound to its connection lives on")
	}
}

// storeHoldsBinding reports whether the store's newest snapshot binds lease
// to node.
func storeHoldsBinding(t *testing.T, store *cluster.SnapshotStore, lease, node string) bool {
	t.Helper()
	snaps, err := store.Load(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range snaps {
		var s struct {
			State struct {
				Leases []seats.Lease
			}
		}
		if err := json.Unmarshal(b, &s); err != nil {
			t.Fatal(err)
		}
		for _, l := range s.State.Leases {
			if l.ID == lease && l.Client.Node == node {
				return true
			}
		}
	}
	return false
}

// openStore opens the cluster's snapshot store on r's server, as the nodes
// of a cluster share it, with the JetStream context it uses.
func openStore(t *testing.T, r *rig) (jetstream.JetStream, *cluster.SnapshotStore) {
	t.Helper()
	js := natstest.JetStream(t, r.ns)
	store, err := cluster.OpenSnapshotStore(ctx(t), js, "", 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	return js, store
}
