package journal_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/licensegw/licensegw/gateway/events"
	"github.com/licensegw/licensegw/gateway/journal"
	"github.com/licensegw/licensegw/gateway/natsd/natstest"
)

// TestSecondWriterDeposesTheFirst: events v2 fencing. Every append expects
// the stream's last sequence to be the writer's previous event, so when a
// second gateway starts writing the same journal, the first one's next
// append is refused (10071): it stops writing, answers nothing more, and
// says so in Ready. Replay counts the first writer's events up to the
// second's term, then only the second's.
func TestSecondWriterDeposesTheFirst(t *testing.T) {
	s := natstest.Start(t)
	ctx := waitCtx(t)
	j1 := open(t, s)
	for i := range 5 {
		if err := j1.Append([]events.Event{ev(i)}).Wait(ctx); err != nil {
			t.Fatal(err)
		}
	}
	j2 := open(t, s) // a second gateway on the same stream
	for i := range 3 {
		if err := j2.Append([]events.Event{ev(100 + i)}).Wait(ctx); err != nil {
			t.Fatal(err)
		}
	}

	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	err := j1.Append([]events.Event{ev(5)}).Wait(wctx)
	if !errors.Is(err, journal.ErrDeposed) {
		t.Fatalf("append by the deposed writer: %v, want ErrDeposed", err)
	}
	if err := j1.Ready(); !errors.Is(err, journal.ErrDeposed) {
		t.Fatalf("Ready of the deposed writer: %v", err)
	}
	if err := j1.Append([]events.Event{ev(6)}).Wait(wctx); !errors.Is(err, journal.ErrDeposed) {
		t.Fatalf("a later append: %v, want ErrDeposed at once", err)
	}
	if err := j2.Append([]events.Event{ev(103)}).Wait(ctx); err != nil {
		t.Fatalf("the new writer after the old one was refused: %v", err)
	}

	var leases []string
	var terms []uint64
	if _, err := j2.Replay(ctx, 0, func(_ uint64, e events.Event) error {
		leases = append(leases, e.Lease)
		terms = append(terms, e.Term)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	want := []string{"L0", "L1", "L2", "L3", "L4", "L100", "L101", "L102", "L103"}
	if len(leases) != len(want) {
		t.Fatalf("replayed %v, want %v", leases, want)
	}
	for i := range want {
		if leases[i] != want[i] {
			t.Fatalf("replayed %v, want %v", leases, want)
		}
	}
	if terms[0] != 1 || terms[len(terms)-1] != 2 {
		t.Fatalf("terms %v: want the first writer's 1, then 2", terms)
	}
}
