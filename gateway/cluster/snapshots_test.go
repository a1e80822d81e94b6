package cluster_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/licensegw/licensegw/gateway/cluster"
	"github.com/licensegw/licensegw/gateway/natsd/natstest"
)

// TestSnapshotStoreKeepsTwo: the store holds the latest snapshot and the
// one before it, also across a reopen (a new leader writes over the older
// of the two, never the latest).
func TestSnapshotStoreKeepsTwo(t *testing.T) {
	s := natstest.Start(t)
	nc, err := s.Connect()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	store, err := cluster.OpenSnapshotStore(ctx, js, "", 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := store.Load(ctx); err != nil || len(got) != 0 {
		t.Fatalf("empty store: Load = %q, %v", got, err)
	}
	for i := 1; i <= 3; i++ {
		if err := store.Save(ctx, fmt.Appendf(nil, "snap %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	check := func(want ...string) {
		t.Helper()
		blobs, err := store.Load(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, b := range blobs {
			got = append(got, string(b))
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Fatalf("stored %q, want %q", got, want)
		}
	}
	check("snap 2", "snap 3")

	// Another leader opens the store: its first snapshot replaces the
	// older one.
	store, err = cluster.OpenSnapshotStore(ctx, js, "", 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Save(ctx, []byte("snap 4")); err != nil {
		t.Fatal(err)
	}
	check("snap 3", "snap 4")
}
