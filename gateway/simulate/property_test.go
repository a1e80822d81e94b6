package simulate_test

import (
	"fmt"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/licensegw/licensegw/gateway/events"
	"github.com/licensegw/licensegw/gateway/seats"
	"github.com/licensegw/licensegw/gateway/simulate"
)

var start = time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)

// TestSimulatingTheConfigInForceReproducesTheRecord: random demand runs
// through the real engine, producing a record; simulating that record under
// the same configuration gives every request its recorded outcome, and the
// same queue grants, waits and timeouts.
func TestSimulatingTheConfigInForceReproducesTheRecord(t *testing.T) {
	queued, denied, promoted := 0, 0, 0
	rapid.Check(t, func(t *rapid.T) {
		cfg := genConfig(t)
		record := genRecord(t, cfg)
		sim, err := simulate.New(cfg, simulate.Options{Since: start, Observe: func(rec, got string) {
			if rec != got {
				t.Fatalf("a request recorded %q was simulated %q", rec, got)
			}
		}})
		if err != nil {
			t.Fatal(err)
		}
		for i := range record {
			sim.Add(&record[i])
		}
		res, err := sim.Result()
		if err != nil {
			t.Skip(err) // no requests generated
		}
		for _, f := range res.Features {
			r, s := f.Recorded, f.Simulated
			if r.Requests != s.Requests || r.Granted != s.Granted || r.Queued != s.Queued || r.Denied != s.Denied ||
				r.GrantedQueued != s.GrantedQueued || r.DequeuedUnmet != s.DequeuedUnmet ||
				r.QueueWaitAvg != s.QueueWaitAvg || r.QueueWaitMax != s.QueueWaitMax || r.PeakInUse != s.PeakInUse {
				t.Fatalf("feature %s:\nrecorded  %+v\nsimulated %+v", f.Feature, r, s)
			}
			queued += r.Queued
			denied += r.Denied
			promoted += r.GrantedQueued
		}
	})
	// The property means little if the runs never queue or deny.
	if queued == 0 || denied == 0 || promoted == 0 {
		t.Errorf("runs queued %d, denied %d, granted from a queue %d: the generator misses cases", queued, denied, promoted)
	}
}

func genConfig(t *rapid.T) seats.Config {
	var cfg seats.Config
	for i := range rapid.IntRange(1, 3).Draw(t, "features") {
		f := seats.Feature{
			Name: fmt.Sprintf("f%d", i), Version: "1.0", Seats: rapid.IntRange(1, 3).Draw(t, "seats"),
			LeaseTTL: 60 * time.Second, Queue: rapid.Bool().Draw(t, "queue"),
		}
		if rapid.Bool().Draw(t, "limited") {
			f.Max = []seats.Limit{{Seats: 1, Who: seats.Subject{Kind: seats.User, Name: "u0"}}}
		}
		cfg.Features = append(cfg.Features, f)
	}
	return cfg
}

// genRecord runs random operations through the engine, ticking it at every
// deadline as the ledger's clock does, and returns its events.
func genRecord(t *rapid.T, cfg seats.Config) []events.Event {
	eng, err := seats.New(cfg, seats.Options{})
	if err != nil {
		t.Fatal(err)
	}
	now := start
	var record []events.Event
	var leases, tickets []string
	for range rapid.IntRange(1, 60).Draw(t, "ops") {
		now = now.Add(time.Duration(rapid.IntRange(0, 40).Draw(t, "dt")) * time.Second)
		// The ledger's clock wakes at every deadline.
		for next := eng.NextDeadline(); !next.IsZero() && !next.After(now); next = eng.NextDeadline() {
			record = eng.Tick(next, record)
		}
		switch op := rapid.IntRange(0, 9).Draw(t, "op"); {
		case op < 5:
			req := seats.CheckoutRequest{
				Feature: fmt.Sprintf("f%d", rapid.IntRange(0, len(cfg.Features)).Draw(t, "feature")), // one past: unknown
				Count:   rapid.IntRange(1, 2).Draw(t, "count"),
				Client:  seats.Client{User: fmt.Sprintf("u%d", rapid.IntRange(0, 3).Draw(t, "user")), Host: "h", Protocol: "concurrent-lm"},
			}
			if rapid.Bool().Draw(t, "wait") {
				// Half-second deadlines never tie with whole-second expiries.
				req.Wait = time.Duration(rapid.IntRange(1, 90).Draw(t, "wait_s"))*time.Second + 500*time.Millisecond
			}
			var res seats.Result
			res, record = eng.Checkout(now, req, record)
			switch res.Outcome {
			case seats.Granted:
				leases = append(leases, res.Lease.ID)
			case seats.Queued:
				tickets = append(tickets, res.Ticket)
			}
		case op < 7 && len(leases) > 0:
			record, _ = eng.Checkin(now, leases[rapid.IntRange(0, len(leases)-1).Draw(t, "lease")], record)
		case op < 8 && len(leases) > 0:
			record, _ = eng.Remove(now, leases[rapid.IntRange(0, len(leases)-1).Draw(t, "lease")], record)
		case op < 9 && len(tickets) > 0:
			record, _ = eng.Cancel(now, tickets[rapid.IntRange(0, len(tickets)-1).Draw(t, "ticket")], seats.Cancelled, record)
		}
		// Leases granted from queues are held too.
		for _, ev := range record {
			if ev.Kind == events.Checkout && ev.Ticket != "" {
				leases = append(leases, ev.Lease)
			}
		}
	}
	return record
}
