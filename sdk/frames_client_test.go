package sdk_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/licensegw/licensegw/sdk"
	"github.com/licensegw/licensegw/sdk/sdktest"
)

// framesClient opens a plugin's Seats on the data plane of backend.
func framesClient(t *testing.T, backend sdk.Seats) *sdk.SeatsClient {
	t.Helper()
	srv := listenFrames(t, backend)
	c, err := sdk.NewFramesSeatsClient(srv.Socket(), srv.Cookie(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// On the data plane too, a checkout whose caller gives up but which the
// gateway grants anyway is checked back in (the undo is written by a
// goroutine of its own, since nobody waits for it).
func TestFramesAbandonedCheckoutIsUndone(t *testing.T) {
	backend := sdktest.NewSeats(sdktest.Feature{Name: "cad", Seats: 1})
	gated := &gatedSeats{Seats: backend, gate: make(chan struct{})}
	seats := framesClient(t, gated)

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := seats.Checkout(ctx, sdk.CheckoutRequest{Feature: "cad", Client: sdk.Client{User: "u"}}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("want deadline exceeded, got %v", err)
	}
	close(gated.gate)
	waitFor(t, "the abandoned grant to be checked in", func() bool { return gated.checkins.Load() == 1 })
	c, err := seats.Checkout(context.Background(), sdk.CheckoutRequest{Feature: "cad", Client: sdk.Client{User: "u"}})
	if err != nil || c.Outcome != sdk.Granted {
		t.Fatalf("the seat did not come back: %+v, %v", c, err)
	}
}

// Many goroutines share one data-plane session whose calls are reused:
// every call gets its own answer (the heartbeat names the caller's own
// lease), callers that give up do not disturb the others, and the counts
// stay right.
func TestFramesConcurrency(t *testing.T) {
	const (
		workers = 64
		rounds  = 60
	)
	backend := sdktest.NewSeats(sdktest.Feature{Name: "cad", Seats: workers, TTL: time.Hour})
	seats := framesClient(t, backend)

	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			for i := range rounds {
				user := fmt.Sprintf("u%d-%d", w, i)
				c, err := seats.Checkout(ctx, sdk.CheckoutRequest{Feature: "cad", Client: sdk.Client{User: user}})
				if err != nil {
					errs <- err
					return
				}
				if c.Outcome != sdk.Granted {
					errs <- fmt.Errorf("checkout %s: %+v", user, c)
					return
				}
				st, err := seats.Heartbeat(ctx, c.Grant.Lease)
				if err != nil || st.Lease != c.Grant.Lease {
					errs <- fmt.Errorf("heartbeat of %s answered %+v, %v", c.Grant.Lease, st, err)
					return
				}
				if i%10 == 0 {
					// A call given up at once: never answered to this
					// caller, never recycled under another.
					gone, stop := context.WithCancel(ctx)
					stop()
					if _, err := seats.Heartbeat(gone, c.Grant.Lease); !errors.Is(err, context.Canceled) {
						errs <- fmt.Errorf("heartbeat with a cancelled context: %v", err)
						return
					}
				}
				if err := seats.Checkin(ctx, c.Grant.Lease); err != nil {
					errs <- fmt.Errorf("checkin %s: %w", c.Grant.Lease, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	fs, err := backend.Status(context.Background(), sdk.StatusQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if fs[0].InUse != 0 {
		t.Fatalf("%d seats still in use after every checkin", fs[0].InUse)
	}
}
