package simulate_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/licensegw/licensegw/gateway/events"
	"github.com/licensegw/licensegw/gateway/seats"
	"github.com/licensegw/licensegw/gateway/simulate"
)

// busyDay is the record of cad with 2 seats: four users ask within ten
// minutes and hold for an hour; two are denied.
func busyDay(t *testing.T) []events.Event {
	cfg := seats.Config{Features: []seats.Feature{{Name: "cad", Version: "1.0", Seats: 2, LeaseTTL: 2 * time.Hour}}}
	eng, err := seats.New(cfg, seats.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var evs []events.Event
	var leases []string
	for i, u := range []string{"a", "b", "c", "d"} {
		res, out := eng.Checkout(start.Add(time.Duration(i)*time.Minute), seats.CheckoutRequest{Feature: "cad", Client: seats.Client{User: u, Host: "h"}}, evs)
		evs = out
		if res.Outcome == seats.Granted {
			leases = append(leases, res.Lease.ID)
		}
	}
	for _, l := range leases {
		evs, _ = eng.Checkin(start.Add(time.Hour), l, evs)
	}
	return evs
}

func runSim(t *testing.T, cfg seats.Config, evs []events.Event) *simulate.Result {
	t.Helper()
	sim, err := simulate.New(cfg, simulate.Options{Since: start})
	if err != nil {
		t.Fatal(err)
	}
	for i := range evs {
		sim.Add(&evs[i])
	}
	res, err := sim.Result()
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestWhatIf(t *testing.T) {
	evs := busyDay(t)
	for _, tc := range []struct {
		seats, granted, denied, peak int
	}{
		{2, 2, 2, 2}, // what happened
		{4, 4, 0, 4}, // enough for everyone
		{1, 1, 3, 1},
	} {
		res := runSim(t, seats.Config{Features: []seats.Feature{{Name: "cad", Version: "1.0", Seats: tc.seats}}}, evs)
		f := res.Features[0]
		if f.Recorded.Granted != 2 || f.Recorded.Denied != 2 {
			t.Errorf("recorded %+v, want 2 granted, 2 denied", f.Recorded)
		}
		if s := f.Simulated; s.Granted != tc.granted || s.Denied != tc.denied || s.PeakInUse != tc.peak || f.Seats != tc.seats {
			t.Errorf("%d seats: simulated %+v, want %d granted, %d denied, peak %d", tc.seats, s, tc.granted, tc.denied, tc.peak)
		}
	}
	// With a queue, the two denied users would have waited for the first
	// leases' end: an hour less the minutes between their requests.
	res := runSim(t, seats.Config{Features: []seats.Feature{{Name: "cad", Version: "1.0", Seats: 2, Queue: true}}}, evs)
	if s := res.Features[0].Simulated; s.Denied != 2 {
		t.Errorf("a denied request is replayed without a wait (the record has none): %+v", s)
	}
}

func TestMissingFeatureAndEmpty(t *testing.T) {
	evs := busyDay(t)
	res := runSim(t, seats.Config{Features: []seats.Feature{{Name: "viewer", Version: "1.0", Seats: 2}}}, evs)
	if len(res.Notes) != 1 || !strings.Contains(res.Notes[0], "local/cad is in the journal but not in the simulated configuration") {
		t.Errorf("notes %q", res.Notes)
	}
	if f := res.Features[0]; !f.Missing || f.Simulated.Denied != 4 || f.Simulated.Reasons["unknown-feature"] != 4 {
		t.Errorf("missing feature: %+v", f)
	}

	sim, _ := simulate.New(seats.Config{}, simulate.Options{})
	if _, err := sim.Result(); !errors.Is(err, simulate.ErrEmpty) {
		t.Errorf("empty journal: %v", err)
	}
	sim, _ = simulate.New(seats.Config{}, simulate.Options{Since: start.Add(48 * time.Hour)})
	for i := range evs {
		sim.Add(&evs[i])
	}
	if _, err := sim.Result(); !errors.Is(err, simulate.ErrEmpty) || !strings.Contains(err.Error(), "between") {
		t.Errorf("empty range: %v", err)
	}
}
