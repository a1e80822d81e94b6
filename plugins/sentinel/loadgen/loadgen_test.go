package loadgen

import (
	"context"
	"testing"
	"time"

	clm "github.com/licensegw/licensegw/plugins/concurrentlm/loadgen"
	"github.com/licensegw/licensegw/plugins/sentinel"
	"github.com/licensegw/licensegw/sdk"
	"github.com/licensegw/licensegw/sdk/sdktest"
)

// A known amount of work against a real Sentinel-style server and against
// the UDP echo, with a deadline only a hung server meets: every request is
// answered and checked, and every token comes back.
func TestRunAndEcho(t *testing.T) {
	seats := sdktest.NewSeats(sdktest.Feature{Name: "bench", Seats: 4, TTL: time.Hour})
	h := sdktest.Run(t, sentinel.New(), seats, map[string]any{"rate_limit": 100000, "rate_burst": 100000})
	o := clm.Options{Addr: h.Addr(sentinel.ListenerName), Feature: "bench", Clients: 4, Cycles: 20, Duration: time.Minute}
	for _, run := range []func(context.Context, clm.Options) (clm.Report, error){Run, Echo} {
		r, err := run(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		t.Log(r)
		if r.Ops != 4*20*3 || r.Errors != 0 || r.Denied != 0 || r.P50 <= 0 || r.P99 < r.P50 {
			t.Errorf("bad report %v", r)
		}
	}
	fs, err := seats.Status(context.Background(), sdk.StatusQuery{Feature: "bench"})
	if err != nil || fs[0].InUse != 0 {
		t.Fatalf("tokens in use after the run: %+v %v", fs, err)
	}
}

// A server that drops most requests (rate limit 1/s): each is sent again
// until the client's timeout, and a request never answered counts as an
// error.
func TestRunRetransmits(t *testing.T) {
	seats := sdktest.NewSeats(sdktest.Feature{Name: "bench", Seats: 4, TTL: time.Hour})
	h := sdktest.Run(t, sentinel.New(), seats, map[string]any{"rate_limit": 1, "rate_burst": 1})
	// A burst of 1: the first request passes the rate limit, the rest are
	// dropped unanswered.
	r, err := Run(context.Background(), clm.Options{Addr: h.Addr(sentinel.ListenerName), Feature: "bench", Clients: 1, Cycles: 5, Timeout: 600 * time.Millisecond, Duration: time.Minute})
	if err != nil {
		t.Fatal(err) // the first checkout passes the limit: something is answered
	}
	if r.Retransmits == 0 || r.Errors == 0 {
		t.Fatalf("want retransmissions and unanswered requests against a server that drops requests: %v", r)
	}
}
