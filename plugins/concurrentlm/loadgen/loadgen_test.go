package loadgen

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/licensegw/licensegw/plugins/concurrentlm"
	"github.com/licensegw/licensegw/sdk"
	"github.com/licensegw/licensegw/sdk/sdktest"
)

func TestCompare(t *testing.T) {
	seats := sdktest.NewSeats(sdktest.Feature{Name: "bench", Seats: 64})
	h := sdktest.Run(t, concurrentlm.New(), seats, map[string]any{"rate": 0})
	start := time.Now()
	c, err := Compare(context.Background(), Options{Addr: h.Addr(concurrentlm.ListenerTCP), Clients: 4, Duration: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%v", c)
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("two 500 ms runs took %v", el)
	}
	for _, r := range []Report{c.Gateway, c.Echo} {
		if r.Ops == 0 || r.Errors != 0 || r.Denied != 0 || r.P50 <= 0 || r.P99 < r.P50 || r.Max < r.P99 {
			t.Errorf("bad report %v", r)
		}
	}
	if c.Ratio <= 0 || !strings.Contains(c.String(), "ratio") {
		t.Errorf("ratio %v", c.Ratio)
	}
	// Every lease was given back (bind=conn covers cycles cut short).
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		fs, err := seats.Status(context.Background(), sdk.StatusQuery{Feature: "bench"})
		if err == nil && fs[0].InUse == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("seats still in use after the run: %+v %v", fs, err)
		}
	}
}

func TestRunNeedsAServer(t *testing.T) {
	if _, err := Run(context.Background(), Options{Addr: "127.0.0.1:1", Clients: 1, Duration: 100 * time.Millisecond}); err == nil {
		t.Fatal("Run against a closed port succeeded")
	}
}
