package vendors

import (
	"context"
	"errors"
	"fmt"
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
			var clients []checkoutFunc
			for i := range 6 {
				c, err := clm.Dial(ctx, g.Addr("clm"), clm.Options{})
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				clients = append(clients, func(ctx context.Context, count int, wait time.Duration) (func(context.Context) error, error) {
					l, err := c.Checkout(ctx, clm.CheckoutOptions{Feature: "tool", User: fmt.Sprintf("c%d", i), Host: "h", Count: count, Wait: wait})
					if err != nil {
						return nil, err
					}
					return l.Checkin, nil
				})
			}
			denied := func(err error) bool { var d *clm.DeniedError; return errors.As(err, &d) }
			// CLM waits are whole seconds: a waiter is served by a checkin
			// well within one.
			seatRace(t, ctx, g, "tool", clients, denied, []time.Duration{0, time.Second}, tc.giveUp, 11)
		})
	}
}
