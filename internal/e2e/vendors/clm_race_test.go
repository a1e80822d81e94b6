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
	clm "github.com/licensegw/licensegw/plugins/concurrentlm/client"
)

// TestCLMConcurrent is TestFlexLMConcurrent for the concurrent-lm client:
// clients race for three seats, some giving up while they wait; once every
// checkout has ended, nothing is held or queued although every connection
// is still open.
func TestCLMConcurrent(t *testing.T) {
	for _, tc := range []struct {
		name   string
		giveUp bool
	}{
		{"server waits", false},
		{"callers give up", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			g := e2etest.Start(t, e2etest.Options{Bins: bins, Config: `
feature "tool" {
  seats = 3
  queue {}
}

plugin "concurrentlm" {
  path   = "{{.Bin "licensegw-concurrentlm"}}"
  listen = { tcp = "{{.TCPUDP "clm"}}", udp = "{{.TCPUDP "clm"}}" }
}
`})
			var granted, denied, gaveUp atomic.Int64
			var wg sync.WaitGroup
			errs := make(chan error, 6)
			for i := range 6 {
				c, err := clm.Dial(ctx, g.Addr("clm"), clm.Options{})
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				rnd := rand.New(rand.NewPCG(11, uint64(i)))
				wg.Go(func() {
					for range 40 {
						// CLM waits are whole seconds: a waiter is served by
						// a checkin well within one.
						wait := []time.Duration{0, time.Second}[rnd.IntN(2)]
						octx, ocancel := context.WithTimeout(ctx, time.Minute)
						if tc.giveUp && wait > 0 && rnd.IntN(2) == 0 {
							ocancel()
							octx, ocancel = context.WithTimeout(ctx, time.Duration(rnd.IntN(40))*time.Millisecond)
						}
						l, err := c.Checkout(octx, clm.CheckoutOptions{Feature: "tool", User: fmt.Sprintf("c%d", i), Host: "h", Count: 1 + rnd.IntN(2), Wait: wait})
						cut := octx.Err() != nil // before ocancel, which ends octx too
						ocancel()
						var d *clm.DeniedError
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
						if err := l.Checkin(ctx); err != nil {
							errs <- fmt.Errorf("checkin %s: %w", l.ID, err)
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
			e2etest.Eventually(t, 10*time.Second, "tool free again", func() error {
				f := g.Feature("tool")
				if f.InUse != 0 || len(f.Tickets) != 0 {
					return fmt.Errorf("%d in use by %+v, tickets %+v", f.InUse, f.Leases, f.Tickets)
				}
				return nil
			})
			checkContract(t, g.Events())
		})
	}
}
