package sentinel

import (
	"context"
	"testing"
	"time"

	"github.com/licensegw/licensegw/sdk"
	"github.com/licensegw/licensegw/sdk/sdktest"
)

// TestTicketSweep: a ticket nobody polls is cancelled after the ticket
// lifetime; a polled one stays, and its grant is kept for later polls.
func TestTicketSweep(t *testing.T) {
	clock := newFakeClock()
	seats := sdktest.NewSeats(sdktest.Feature{Name: "cad", Seats: 1, Queue: true}).WithClock(clock.Now)
	ctx := context.Background()
	holder, err := seats.Checkout(ctx, sdk.CheckoutRequest{Feature: "cad"})
	if err != nil {
		t.Fatal(err)
	}
	ts := newTickets(time.Minute, clock.Now)
	queue := func() string {
		c, err := seats.Checkout(ctx, sdk.CheckoutRequest{Feature: "cad", Wait: time.Hour})
		if err != nil || c.Outcome != sdk.Queued {
			t.Fatalf("queued checkout = %+v, %v", c, err)
		}
		ts.add(c)
		return c.Ticket
	}
	abandoned, polled := queue(), queue()
	clock.Add(40 * time.Second)
	if _, ok := ts.poll(polled); !ok {
		t.Fatal("polled ticket unknown")
	}
	clock.Add(30 * time.Second)
	ts.sweep(ctx, seats)
	if _, ok := ts.poll(abandoned); ok {
		t.Error("abandoned ticket still kept")
	}
	fss, _ := seats.Status(ctx, sdk.StatusQuery{Feature: "cad"})
	if len(fss[0].Tickets) != 1 || fss[0].Tickets[0].Ticket != polled {
		t.Errorf("gateway tickets = %+v, want only the polled one", fss[0].Tickets)
	}
	// The holder leaves: the polled ticket is granted, and the grant is
	// there for polls until a lifetime after it came.
	if err := seats.Checkin(ctx, holder.Grant.Lease); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Second)
	for {
		tk, ok := ts.poll(polled)
		if ok && tk.final != nil {
			if tk.final.Grant == nil {
				t.Fatalf("final update = %+v, want a grant", tk.final)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("grant never reached the ticket")
		}
		time.Sleep(5 * time.Millisecond)
	}
	clock.Add(59 * time.Second)
	ts.sweep(ctx, seats)
	if _, ok := ts.poll(polled); !ok {
		t.Error("granted ticket forgotten early")
	}
	clock.Add(2 * time.Second)
	ts.sweep(ctx, seats)
	if _, ok := ts.poll(polled); ok {
		t.Error("granted ticket kept beyond its lifetime")
	}
}
