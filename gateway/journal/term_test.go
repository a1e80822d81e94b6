package journal_test

import (
	"errors"
	"testing"

	"github.com/licensegw/licensegw/gateway/events"
	"github.com/licensegw/licensegw/gateway/journal"
	"github.com/licensegw/licensegw/gateway/natsd/natstest"
)

// TestBeginFencesTheOldWriter: a writer that opens its term with Begin,
// before it has anything to journal, deposes the writer before it: the
// old writer's next append is refused, although the new one appended no
// event of its own.
func TestBeginFencesTheOldWriter(t *testing.T) {
	s := natstest.Start(t)
	ctx := waitCtx(t)
	old := open(t, s)
	if err := old.Append([]events.Event{ev(0)}).Wait(ctx); err != nil {
		t.Fatal(err)
	}
	next := open(t, s)
	if err := next.Begin(ctx); err != nil {
		t.Fatalf("Begin: %v", err)
	}
	if err := next.Begin(ctx); err != nil {
		t.Fatalf("Begin again: %v", err)
	}
	if err := old.Append([]events.Event{ev(1)}).Wait(ctx); !errors.Is(err, journal.ErrDeposed) {
		t.Fatalf("the old writer's append after the new one's Begin: %v, want ErrDeposed", err)
	}
	if err := next.Append([]events.Event{ev(2)}).Wait(ctx); err != nil {
		t.Fatalf("the new writer's first append: %v", err)
	}
	var leases []string
	var terms []uint64
	if _, err := next.Replay(ctx, 0, func(_ uint64, e events.Event) error {
		leases, terms = append(leases, e.Lease), append(terms, e.Term)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(leases) != 2 || leases[0] != "L0" || leases[1] != "L2" || terms[1] <= terms[0] {
		t.Fatalf("replayed %v (terms %v), want [L0 L2] with the second term higher", leases, terms)
	}

	// A writer opened before another's Begin is deposed by its own Begin.
	late := open(t, s)
	if err := next.Append([]events.Event{ev(3)}).Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if err := late.Begin(ctx); !errors.Is(err, journal.ErrDeposed) {
		t.Fatalf("Begin after another writer appended: %v, want ErrDeposed", err)
	}
}
