package vendors

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/licensegw/licensegw/internal/e2etest"
	"github.com/licensegw/licensegw/plugins/flexlm/client"
)

// TestFlexLMConcurrent: clients race for three seats, checking out with
// and without waiting in the queue, and check in what they got. While every
// connection is still open, nothing may be left over: no seat in use, no
// ticket. In the second case a third of the waiting callers give up (their
// context ends) while they wait.
func TestFlexLMConcurrent(t *testing.T) {
	for _, tc := range []struct {
		name   string
		giveUp bool
	}{
		{"server waits", false},
		{"callers give up", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raceForSeats(t, tc.giveUp)
		})
	}
}

func raceForSeats(t *testing.T, giveUp bool) {
	const (
		clients = 6
		rounds  = 40
	)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	g := startFlexLM(t)
	var granted, denied, gaveUp atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for i := range clients {
		c := dialFlex(ctx, t, g, fmt.Sprintf("c%d", i))
		rnd := rand.New(rand.NewPCG(7, uint64(i)))
		wg.Go(func() {
			for range rounds {
				wait := []time.Duration{0, 30 * time.Millisecond, 300 * time.Millisecond}[rnd.IntN(3)]
				octx, ocancel := context.WithTimeout(ctx, time.Minute)
				if giveUp && wait > 0 && rnd.IntN(3) == 0 {
					ocancel()
					octx, ocancel = context.WithTimeout(ctx, time.Duration(rnd.IntN(40))*time.Millisecond)
				}
				lic, err := c.Checkout(octx, client.CheckoutRequest{Feature: "render", Count: 1 + rnd.IntN(2), Wait: wait})
				cut := octx.Err() != nil // before ocancel, which ends octx too
				ocancel()
				var d *client.DeniedError
				switch {
				case errors.As(err, &d):
					denied.Add(1)
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
				if err := lic.Checkin(ctx); err != nil {
					errs <- fmt.Errorf("checkin %d: %w", lic.Handle, err)
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
	t.Logf("%d granted, %d denied, %d gave up waiting", granted.Load(), denied.Load(), gaveUp.Load())
	if granted.Load() == 0 || denied.Load() == 0 {
		t.Error("no contention: every checkout was granted, or none")
	}
	e2etest.Eventually(t, 10*time.Second, "render free again", func() error {
		f := g.Feature("render")
		if f.InUse != 0 || len(f.Tickets) != 0 {
			return fmt.Errorf("%d in use by %+v, tickets %+v", f.InUse, f.Leases, f.Tickets)
		}
		return nil
	})
	checkContract(t, g.Events())
}
