package journal

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/licensegw/licensegw/gateway/events"
	"github.com/licensegw/licensegw/gateway/natsd/natstest"
)

// The walk reads through a consumer, which a replica behind the stream's
// leader may serve: the leader's last sequence (end) is then not there yet,
// and the consumer's NumPending says 0 before it. A walk that took that as
// the end started a term on the wrong tail (a term event chained to a
// predecessor that is not the stream's: no node could open the journal
// again) and made a new leader replay without the last events. These tests
// give walk an end past what the consumer has, as such a replica would.

// walkRig is a journal with a few events, and its stream's last sequence.
type walkRig struct {
	j    *Journal
	last uint64
}

func newWalkRig(t *testing.T) *walkRig {
	t.Helper()
	ns := natstest.Start(t)
	nc := natstest.Connect(t, ns)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	j, err := Open(ctx, Config{Conn: nc, Gateway: "walk"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = j.Close(ctx)
	})
	r := &walkRig{j: j}
	r.append(t, 3)
	return r
}

// append journals n checkouts and notes the stream's last sequence.
func (r *walkRig) append(t *testing.T, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for range n {
		c := r.j.Append([]events.Event{{Kind: events.Checkout, Feature: "cad", User: "u", Lease: "l"}})
		if err := c.Wait(ctx); err != nil {
			t.Fatal(err)
		}
	}
	info, err := r.j.link.Load().stream.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r.last = info.State.LastSeq
}

// walk runs walk from 1 to end in the background.
func (r *walkRig) walk(end uint64) <-chan walkResult {
	out := make(chan walkResult, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		l := r.j.link.Load()
		var seen []uint64
		done, err := walk(ctx, l.nc, l.stream, r.j.cfg.Prefix, 1, end, func(seq uint64, _ []byte) error {
			seen = append(seen, seq)
			return nil
		})
		out <- walkResult{done, seen, err}
	}()
	return out
}

type walkResult struct {
	done uint64
	seen []uint64
	err  error
}

func TestWalkWaitsForTheStreamsEnd(t *testing.T) {
	r := newWalkRig(t)
	end := r.last + 1 // the leader's end, not yet on the consumer's replica
	res := r.walk(end)
	time.Sleep(500 * time.Millisecond) // the consumer has delivered all it has
	select {
	case got := <-res:
		t.Fatalf("walk ended at %d (%v, seen %v) with %d not delivered", got.done, got.err, got.seen, end)
	default:
	}
	r.append(t, 1) // the replica catches up
	got := <-res
	if got.err != nil || got.done != end || got.seen[len(got.seen)-1] != end {
		t.Fatalf("walk to %d: done %d, seen %v, %v", end, got.done, got.seen, got.err)
	}
}

func TestWalkThatNeverReachesTheEndFails(t *testing.T) {
	r := newWalkRig(t)
	got := <-r.walk(r.last + 2)
	if !errors.Is(got.err, ErrReplayShort) || got.done != r.last {
		t.Fatalf("walk to %d with the stream at %d: done %d, %v; want ErrReplayShort at %d", r.last+2, r.last, got.done, got.err, r.last)
	}
}

func TestWalkToADeletedTailEnds(t *testing.T) {
	r := newWalkRig(t)
	r.append(t, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st := r.j.link.Load().stream
	for _, seq := range []uint64{r.last - 1, r.last} { // a repair truncated the tail
		if err := st.DeleteMsg(ctx, seq); err != nil {
			t.Fatal(err)
		}
	}
	got := <-r.walk(r.last)
	if got.err != nil || got.done != r.last-2 {
		t.Fatalf("walk to %d with %d and %d deleted: done %d, %v; want %d", r.last, r.last-1, r.last, got.done, got.err, r.last-2)
	}
}
