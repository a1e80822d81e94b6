package vendors

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/licensegw/licensegw/gateway/events"
	"github.com/licensegw/licensegw/internal/e2etest"
	"github.com/licensegw/licensegw/plugins/sentinel/client"
)

// TestSentinelLossy: several clients check out, queue, commute, refresh,
// release and return hundreds of times through a relay that drops, duplicates and
// reorders datagrams both ways, against the real gateway. Afterwards the
// gateway's leases are exactly those the clients believe they hold, every
// grant the clients saw is one event (a retransmission never costs a
// second token), and no grant ever took a feature over its seats.
func TestSentinelLossy(t *testing.T) {
	if testing.Short() {
		t.Skip("hundreds of operations over a lossy relay")
	}
	const (
		clients = 4
		ops     = 80 // per client
		seed    = 20261126
	)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	g := startSentinel(t, "10m") // no token expires during the run
	relay, err := e2etest.NewLossyRelay(g.Addr("sentinel"), e2etest.Loss{Drop: 0.15, Duplicate: 0.1, Reorder: 0.1, Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	defer relay.Close()

	beliefs := make([]map[string]token, clients) // per client: lease -> token
	var granted, queued atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	start := time.Now()
	for i := range clients {
		beliefs[i] = map[string]token{}
		c, err := client.Dial(relay.Addr(), client.Options{
			User: fmt.Sprintf("u%d", i), Host: "lossy", Display: ":0",
			Timeout: 20 * time.Millisecond, MaxTimeout: 200 * time.Millisecond,
			Attempts: -1, // until ctx ends: every call gets its answer
		})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		rnd := rand.New(rand.NewPCG(seed, uint64(i)))
		held := beliefs[i]
		wg.Go(func() {
			for range ops {
				if err := step(ctx, c, rnd, held, &granted, &queued); err != nil {
					errs <- err
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
	stats := relay.Stats()
	t.Logf("%d operations (%d grants, %d queued) in %s; relay: %+v", clients*ops, granted.Load(), queued.Load(), time.Since(start).Round(time.Millisecond), stats)
	if queued.Load() == 0 {
		t.Error("no checkout queued: the run did not test queueing")
	}
	if stats.Dropped == 0 || stats.Duplicated == 0 || stats.Reordered == 0 {
		t.Errorf("the relay was not lossy: %+v", stats)
	}

	// The gateway's leases are the clients' beliefs.
	believed := map[string]token{}
	for _, b := range beliefs {
		maps.Copy(believed, b)
	}
	actual := map[string]token{}
	inUse := 0
	for _, f := range g.Status().Features {
		inUse += f.InUse
		for _, l := range f.Leases {
			actual[l.ID] = token{feature: l.Feature, commuter: l.Borrowed}
		}
	}
	if !maps.Equal(believed, actual) {
		t.Errorf("the gateway holds %v\nthe clients believe they hold %v", actual, believed)
	}
	if inUse != len(believed) {
		t.Errorf("%d seats in use, the clients hold %d tokens", inUse, len(believed))
	}

	// The stream: one grant event per grant seen, never over the seats.
	evs := g.Events()
	checkContract(t, evs)
	grants := e2etest.Kinds(evs, events.Checkout, events.Borrowed)
	if int64(len(grants)) != granted.Load() {
		t.Errorf("%d checkout/borrowed events, the clients were granted %d tokens", len(grants), granted.Load())
	}
	for _, e := range grants {
		if e.InUse > e.Seats {
			t.Errorf("event %d: %s of %s with %d of %d seats in use", e.Seq, e.Kind, e.Feature, e.InUse, e.Seats)
		}
	}
}

// token is what a client believes it holds under one lease.
type token struct {
	feature  string
	commuter bool
}

// step is one random operation of a client holding held: give a token
// back, refresh one, or take one (a commuter token now and then). Denials
// are outcomes, not failures; any other error ends the run.
func step(ctx context.Context, c *client.Client, rnd *rand.Rand, held map[string]token, granted, queued *atomic.Int64) error {
	leases := slices.Sorted(maps.Keys(held))
	r := rnd.Float64()
	switch {
	case len(leases) > 0 && r < 0.35:
		lease := leases[rnd.IntN(len(leases))]
		var err error
		if held[lease].commuter {
			err = c.ReturnCommuter(ctx, lease)
		} else {
			err = c.Release(ctx, lease)
		}
		if err != nil {
			return fmt.Errorf("give back %s: %w", lease, err)
		}
		delete(held, lease)
	case len(leases) > 0 && r < 0.55:
		lease := leases[rnd.IntN(len(leases))]
		if held[lease].commuter {
			return nil // commuter tokens are not refreshed
		}
		if _, err := c.Refresh(ctx, lease); err != nil {
			return fmt.Errorf("refresh %s: %w", lease, err)
		}
	default:
		feature := []string{"cad", "solver"}[rnd.IntN(2)]
		var tok *client.Token
		var err error
		switch r := rnd.IntN(4); {
		case feature == "cad" && r == 0:
			tok, err = c.Commute(ctx, feature, "", 1, 1)
		case feature == "cad" && r == 1:
			// Queue for a second at most, polling the ticket: a grant
			// whose answer to a poll is lost is polled for again.
			var place *client.Queued
			tok, place, err = c.Checkout(ctx, client.CheckoutRequest{Feature: feature, Queue: true, Wait: time.Second})
			if place != nil {
				queued.Add(1)
				tok, err = c.WaitQueued(ctx, place.Ticket, 50*time.Millisecond)
			}
		default:
			tok, _, err = c.Checkout(ctx, client.CheckoutRequest{Feature: feature})
		}
		var se *client.StatusError
		switch {
		case errors.As(err, &se):
			return nil // denied: no seat, reserved for the team
		case err != nil:
			return fmt.Errorf("checkout %s: %w", feature, err)
		}
		granted.Add(1)
		held[tok.Handle] = token{feature: feature, commuter: tok.Commuter}
	}
	return nil
}
