package vendors

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/licensegw/licensegw/internal/e2etest"
	"github.com/licensegw/licensegw/plugins/flexlm/client"
)

// knownBugsEnv runs the tests that are skipped for a known bug.
const knownBugsEnv = "LICENSEGW_E2E_KNOWN_BUGS"

// skipKnownBug skips a test that fails for a known bug, unless
// knownBugsEnv is set (to see whether it is fixed).
func skipKnownBug(t *testing.T, bug string) {
	t.Helper()
	if os.Getenv(knownBugsEnv) == "" {
		t.Skipf("known bug (set %s=1 to run): %s", knownBugsEnv, bug)
	}
}

// TestFlexLMConcurrent: clients race for three seats, checking out with
// and without waiting in the queue, and check in what they got. While every
// connection is still open, nothing may be left over: no seat in use, no
// ticket. In the second case a third of the waiting callers give up (their
// context ends) while they wait.
func TestFlexLMConcurrent(t *testing.T) {
	for _, tc := range []struct {
		name   string
		giveUp bool
		bug    string
	}{
		{"server waits", false, "the gateway panics (send on closed channel, gateway/ledger/queue.go deliver): " +
			"a position update computed by one operation is delivered after a later operation's final update closed the waiter's channel"},
		{"callers give up", true, "plugins/flexlm/client Checkout drops a GRANTED that races the caller's context " +
			"(and sends no CANCEL when QUEUED has not come yet): the seat stays held until the connection closes or the TTL ends"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			skipKnownBug(t, tc.bug)
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
				ocancel()
				var d *client.DeniedError
				switch {
				case errors.As(err, &d):
					denied.Add(1)
					continue
				case err != nil && ctx.Err() == nil && octx.Err() != nil:
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
