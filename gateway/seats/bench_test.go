package seats

import (
	"fmt"
	"testing"
	"time"

	"github.com/licensegw/licensegw/gateway/events"
)

// benchPairs runs b.N checkout+checkin pairs over the named features,
// round-robin, reusing one event slice as the ledger does.
func benchPairs(b *testing.B, e *Engine, features []string) {
	b.Helper()
	evs := make([]events.Event, 0, 8)
	c := alice()
	now := t0
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		var res Result
		res, evs = e.Checkout(now, CheckoutRequest{Feature: features[i%len(features)], Client: c}, evs[:0])
		if res.Outcome != Granted {
			b.Fatalf("checkout: %+v", res)
		}
		var err error
		if evs, err = e.Checkin(now, res.Lease.ID, evs[:0]); err != nil {
			b.Fatal(err)
		}
		if i&1023 == 0 {
			now = now.Add(time.Millisecond)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pairs/s")
	if cpu := cpuTime() - cpu0; cpu > 0 {
		b.ReportMetric(float64(b.N)/cpu.Seconds(), "pairs/cpu-s")
	}
}

// BenchmarkCheckoutCheckinHot is one busy feature with many seats, a
// thousand of them held throughout so that the maps and the heap are not
// trivially small.
func BenchmarkCheckoutCheckinHot(b *testing.B) {
	e := newEngine(b, Config{Features: []Feature{{Name: "cad", Seats: 100000}}})
	for range 1000 {
		mustGrant(b, e, t0, req("cad", who("holder", "h")))
	}
	benchPairs(b, e, []string{"cad"})
}

// BenchmarkCheckoutCheckin1000Features spreads the pairs round-robin over
// a thousand features.
func BenchmarkCheckoutCheckin1000Features(b *testing.B) {
	cfg := Config{}
	names := make([]string, 1000)
	for i := range names {
		names[i] = fmt.Sprintf("feature-%04d", i)
		cfg.Features = append(cfg.Features, Feature{Name: names[i], Version: "1.0", Seats: 10})
	}
	benchPairs(b, newEngine(b, cfg), names)
}

// BenchmarkCheckoutCheckinPolicies is the hot path with reservations and
// limits to evaluate.
func BenchmarkCheckoutCheckinPolicies(b *testing.B) {
	e := newEngine(b, Config{
		Features: []Feature{{Name: "cad", Seats: 100000, Queue: true,
			Reserve: []Reservation{{Seats: 10, Who: Subject{Kind: User, Name: "bob"}}, {Seats: 10, Who: Subject{Kind: Group, Name: "ops"}}},
			Max:     []Limit{{Seats: 50000, Who: Subject{Kind: Group, Name: "eng"}}},
			Exclude: []Subject{{Kind: Host, Name: "kiosk"}},
		}},
		Groups: map[string][]string{"eng": {"alice"}, "ops": {"carol"}},
	})
	benchPairs(b, e, []string{"cad"})
}

// BenchmarkHeartbeat renews one of 100000 leases per op.
func BenchmarkHeartbeat(b *testing.B) {
	e := newEngine(b, Config{Features: []Feature{{Name: "cad", Seats: 100000}}})
	ids := make([]string, 100000)
	for i := range ids {
		ids[i] = mustGrant(b, e, t0, req("cad", alice())).ID
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := e.Heartbeat(t0.Add(time.Duration(i)*time.Microsecond), ids[i%len(ids)]); err != nil {
			b.Fatal(err)
		}
	}
}
