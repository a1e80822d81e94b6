package journal_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/licensegw/licensegw/gateway/events"
	"github.com/licensegw/licensegw/gateway/journal"
	"github.com/licensegw/licensegw/gateway/natsd"
	"github.com/licensegw/licensegw/gateway/natsd/natstest"
)

// A scan of scanEvents crosses several batches of scanBatch.
const (
	scanEvents = 2_500
	scanBatch  = 1000
)

// TestScan: Scan hands over exactly the events Replay does, in the same
// order, from any starting sequence, across batches and across two
// writers' terms, and reaches the same sequence; an error from fn or the
// end of ctx stops it at once, and fn is not called again.
func TestScan(t *testing.T) {
	s := natstest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	j1 := openScan(t, s)
	appendN(ctx, t, j1, 0, scanEvents/2)
	j := openScan(t, s) // a second writer opens a new term
	appendN(ctx, t, j, scanEvents/2, scanEvents)

	type seen struct {
		seq uint64
		id  string
	}
	var all []seen
	end, err := j.Replay(ctx, 0, func(seq uint64, e events.Event) error { all = append(all, seen{seq, e.ID}); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != scanEvents {
		t.Fatalf("replay read %d events, want %d", len(all), scanEvents)
	}

	t.Run("matches replay", func(t *testing.T) {
		for _, after := range []uint64{0, 1, scanBatch - 1, scanBatch + 1, end - 1, end, end + 5} {
			var want []string
			for _, e := range all {
				if e.seq > after {
					want = append(want, e.id)
				}
			}
			var got []string
			last, err := j.Scan(ctx, after, func(e *events.Event) error {
				if e.Schema != events.Schema || e.Kind != events.Checkout || e.Feature != "cad pro" {
					return errors.New("bad event " + e.ID)
				}
				got = append(got, e.ID)
				return nil
			})
			if err != nil {
				t.Fatalf("scan after %d: %v", after, err)
			}
			if last != max(end, after) || !slices.Equal(got, want) {
				t.Fatalf("scan after %d: %d events to %d, want %d events to %d", after, len(got), last, len(want), max(end, after))
			}
		}
	})

	t.Run("fn error stops", func(t *testing.T) {
		errStop := errors.New("enough")
		calls := 0
		_, err := j.Scan(ctx, 0, func(*events.Event) error {
			calls++
			if calls == scanBatch+500 {
				return errStop
			}
			return nil
		})
		if !errors.Is(err, errStop) || calls != scanBatch+500 {
			t.Fatalf("scan stopped by fn: %v after %d calls", err, calls)
		}
	})

	t.Run("cancel stops", func(t *testing.T) {
		sctx, scancel := context.WithCancel(ctx)
		defer scancel()
		calls := 0
		_, err := j.Scan(sctx, 0, func(*events.Event) error {
			calls++
			if calls == 100 {
				scancel()
			}
			return nil
		})
		if !errors.Is(err, context.Canceled) || calls != 100 {
			t.Fatalf("scan with a context cancelled at the 100th event: %v after %d calls", err, calls)
		}
	})
}

// openScan opens a journal on s with Scan batches of scanBatch.
func openScan(t *testing.T, s *natsd.Server) *journal.Journal {
	t.Helper()
	nc, err := s.Connect()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	j, err := journal.Open(t.Context(), journal.Config{Conn: nc, Gateway: "gw1", ScanBatch: scanBatch})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = j.Close(ctx)
	})
	return j
}

// appendN appends events numbered from to to-1, in commits of 1000.
func appendN(ctx context.Context, t *testing.T, j *journal.Journal, from, to int) {
	t.Helper()
	var last *journal.Commit
	for i := from; i < to; i += 1000 {
		evs := make([]events.Event, 0, 1000)
		for n := i; n < min(i+1000, to); n++ {
			evs = append(evs, ev(n))
		}
		last = j.Append(evs)
	}
	if err := last.Wait(ctx); err != nil {
		t.Fatal(err)
	}
}
