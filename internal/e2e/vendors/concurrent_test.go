package vendors

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/licensegw/licensegw/plugins/flexlm/client"
)

// TestFlexLMConcurrent: clients race for three seats, checking out with
// and without waiting in the queue, and check in what they got. While every
// connection is still open, nothing may be left over: no seat in use, no
// ticket. In the second case half of the waiting callers give up (their
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
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	g := startFlexLM(t)
	var clients []checkoutFunc
	for i := range 6 {
		c := dialFlex(ctx, t, g, fmt.Sprintf("c%d", i))
		clients = append(clients, func(ctx context.Context, count int, wait time.Duration) (func(context.Context) error, error) {
			lic, err := c.Checkout(ctx, client.CheckoutRequest{Feature: "render", Count: count, Wait: wait})
			if err != nil {
				return nil, err
			}
			return lic.Checkin, nil
		})
	}
	denied := func(err error) bool { var d *client.DeniedError; return errors.As(err, &d) }
	seatRace(t, ctx, g, "render", clients, denied, []time.Duration{0, 30 * time.Millisecond, 300 * time.Millisecond}, giveUp, 7)
}
