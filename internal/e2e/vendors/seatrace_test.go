package vendors

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/licensegw/licensegw/internal/e2etest"
)

// checkoutFunc takes count seats, waiting up to wait in the queue, and
// returns how to give them back; denied tells a denial from other errors.
type checkoutFunc func(ctx context.Context, count int, wait time.Duration) (checkin func(context.Context) error, err error)

// seatRace has one client per checkout function race for feature's seats:
// rounds of checkout (with a wait drawn from waits) → hold briefly →
// checkin; with giveUp, some callers give up while they wait. Once every
// checkout has ended, nothing may be held or queued although every
// connection is still open, and the stream must keep the event contract.
func seatRace(t *testing.T, ctx context.Context, g *e2etest.Gateway, feature string, clients []checkoutFunc,
	denied func(error) bool, waits []time.Duration, giveUp bool, seed uint64) {
	t.Helper()
	const rounds = 40
	var granted, refused, gaveUp atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, len(clients))
	for i, checkout := range clients {
		rnd := rand.New(rand.NewPCG(seed, uint64(i)))
		wg.Go(func() {
			for range rounds {
				wait := waits[rnd.IntN(len(waits))]
				octx, ocancel := context.WithTimeout(ctx, time.Minute)
				if giveUp && wait > 0 && rnd.IntN(2) == 0 {
					ocancel()
					octx, ocancel = context.WithTimeout(ctx, time.Duration(rnd.IntN(40))*time.Millisecond)
				}
				checkin, err := checkout(octx, 1+rnd.IntN(2), wait)
				cut := octx.Err() != nil // before ocancel, which ends octx too
				ocancel()
				switch {
				case err != nil && denied(err):
					refused.Add(1)
					continue
				case err != nil && cut:
					gaveUp.Add(1)
					continue
				case err != nil:
					errs <- err
					return
				}
				granted.Add(1)
				time.Sleep(time.Duration(rnd.IntN(15)) * time.Millisecond)
				if err := checkin(ctx); err != nil {
					errs <- fmt.Errorf("checkin: %w", err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	t.Logf("%d granted, %d denied, %d gave up waiting", granted.Load(), refused.Load(), gaveUp.Load())
	if granted.Load() == 0 || refused.Load() == 0 {
		t.Error("no contention: every checkout was granted, or none")
	}
	e2etest.Eventually(t, 10*time.Second, feature+" free again", func() error {
		f := g.Feature(feature)
		if f.InUse != 0 || len(f.Tickets) != 0 {
			return fmt.Errorf("%d in use by %+v, tickets %+v", f.InUse, f.Leases, f.Tickets)
		}
		return nil
	})
	checkContract(t, g.Events())
}
