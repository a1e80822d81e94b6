package journal_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/licensegw/licensegw/gateway/events"
	"github.com/licensegw/licensegw/gateway/journal"
	"github.com/licensegw/licensegw/gateway/natsd"
	"github.com/licensegw/licensegw/gateway/natsd/natstest"
)

// TestStraysOfANewerTermAreIgnored: the read rule ignores every event that
// is neither idx 0 of a higher term nor the next idx of the current one,
// and the stream can hold such strays without anyone tampering. A writer
// elected with a newer term whose term event was refused (the old leader
// appended after the new one read the tail) may still have the events it
// pipelined behind it stored, at idx 1, 2, ... of a term that never
// opened; a writer whose append was refused may have a later pipelined
// one stored, leaving a gap in its term's idx. Neither may break the hash
// chain: the next leader must open the journal, and replay must skip them.
// (TestTwoLeadersThroughTheFence in gateway/ledger found the first.)
func TestStraysOfANewerTermAreIgnored(t *testing.T) {
	s := natstest.Start(t)
	ctx := waitCtx(t)
	j1 := openSigned(t, s, func(c *journal.Config) { c.Term = 3 })
	for i := range 2 {
		if err := j1.Append([]events.Event{ev(i)}).Wait(ctx); err != nil {
			t.Fatal(err)
		}
	}

	// The strays, as the deposed writers' pipelined appends leave them:
	// copies of the last event under another id, term and idx.
	js, last := lastStored(ctx, t, s)
	for i, stray := range []struct{ term, idx uint64 }{
		{4, 1}, // a newer term whose term event was refused
		{4, 2},
		{3, 4}, // the current term, one idx skipped (idx 3 was refused)
	} {
		storeStray(ctx, t, js, last, map[string]any{
			"id": fmt.Sprintf("01STRAY%019d", i), "term": stray.term, "idx": stray.idx, "lease": fmt.Sprint("stray", i),
		})
	}
	// The first writer's next append meets the strays: it is deposed.
	if err := j1.Append([]events.Event{ev(2)}).Wait(ctx); !errors.Is(err, journal.ErrDeposed) {
		t.Fatalf("append after the strays: %v, want ErrDeposed", err)
	}

	// The next leader opens the journal and writes on.
	j2 := openSigned(t, s, func(c *journal.Config) { c.Term = 5; c.Gateway = "gw2" })
	if err := j2.Append([]events.Event{ev(10)}).Wait(ctx); err != nil {
		t.Fatal(err)
	}
	leases := leasesOf(replayed(ctx, t, j2))
	if fmt.Sprint(leases) != "[L0 L1 L10]" {
		t.Errorf("replayed %v, want [L0 L1 L10]: the strays skipped", leases)
	}
}

// A deposed writer's pipelined append can land after the new writer's
// events when its fence happens to match: a stray of an older term, which
// the read rule ignores. The new writer's next append is refused by its own
// fence there; it must step past the stray and write on, not count itself
// deposed (it holds the lease, and would answer "unavailable" until it
// exits).
func TestStrayOfAnOlderTermDoesNotDeposeTheNewWriter(t *testing.T) {
	s := natstest.Start(t)
	ctx := waitCtx(t)
	old := openSigned(t, s, func(c *journal.Config) { c.Term = 3 })
	if err := old.Append([]events.Event{ev(0)}).Wait(ctx); err != nil {
		t.Fatal(err)
	}
	cur := openSigned(t, s, func(c *journal.Config) { c.Term = 5; c.Gateway = "gw2" })
	if err := cur.Append([]events.Event{ev(1)}).Wait(ctx); err != nil {
		t.Fatal(err)
	}

	js, last := lastStored(ctx, t, s)
	for i := range 2 { // two in a row, as a pipelined burst leaves them
		storeStray(ctx, t, js, last, map[string]any{
			"id": fmt.Sprintf("01OLDSTRAY%016d", i), "term": 3, "idx": 2 + i, "node": "gw1", "lease": fmt.Sprint("stray", i),
		})
	}

	if err := cur.Append([]events.Event{ev(2), ev(3)}).Wait(ctx); err != nil {
		t.Fatalf("append after an older term's strays: %v, want it stored past them", err)
	}
	if err := cur.Ready(); err != nil {
		t.Errorf("Ready after stepping past the strays: %v", err)
	}
	// The old writer is still deposed by them.
	if err := old.Append([]events.Event{ev(9)}).Wait(ctx); !errors.Is(err, journal.ErrDeposed) {
		t.Errorf("the old writer's append: %v, want ErrDeposed", err)
	}

	next := openSigned(t, s, func(c *journal.Config) { c.Term = 7; c.Gateway = "gw3" })
	leases := leasesOf(replayed(ctx, t, next))
	if fmt.Sprint(leases) != "[L0 L1 L2 L3]" {
		t.Errorf("replayed %v, want [L0 L1 L2 L3]: the strays skipped", leases)
	}
}

// lastStored is the stream's last message, read on a privileged
// connection, and that connection's JetStream for storing strays.
func lastStored(ctx context.Context, t *testing.T, s *natsd.Server) (jetstream.JetStream, *jetstream.RawStreamMsg) {
	t.Helper()
	js, err := jetstream.New(privileged(t, s))
	if err != nil {
		t.Fatal(err)
	}
	st, err := js.Stream(ctx, events.DefaultStream)
	if err != nil {
		t.Fatal(err)
	}
	last, err := st.GetMsg(ctx, st.CachedInfo().State.LastSeq)
	if err != nil {
		t.Fatal(err)
	}
	return js, last
}

// storeStray stores a copy of msg with the fields in set changed, on msg's
// subject, as a deposed writer's pipelined append leaves one: nobody
// tampered with the stream.
func storeStray(ctx context.Context, t *testing.T, js jetstream.JetStream, msg *jetstream.RawStreamMsg, set map[string]any) {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(msg.Data, &m); err != nil {
		t.Fatal(err)
	}
	maps.Copy(m, set)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(ctx, msg.Subject, b); err != nil {
		t.Fatal(err)
	}
}
