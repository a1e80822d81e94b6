package loadgen

import (
	"context"
	"testing"
	"time"

	clm "github.com/licensegw/licensegw/plugins/concurrentlm/loadgen"
	"github.com/licensegw/licensegw/plugins/flexlm/internal/flextest"
	"github.com/licensegw/licensegw/sdk"
	"github.com/licensegw/licensegw/sdk/sdktest"
)

// A known amount of work against a real vendor daemon and against the
// echo server, with a deadline only a hung server meets: every request is
// answered and checked, and every seat comes back.
func TestRunAndEcho(t *testing.T) {
	seats := sdktest.NewSeats(sdktest.Feature{Vendor: "acme", Name: "bench", Version: "1.0", Seats: 4, TTL: time.Hour})
	srv := flextest.Start(t, seats, map[string]any{"server_host": "gw-test", "vendors": []string{"acme"}})
	o := clm.Options{Addr: srv.Vendor.String(), Feature: "bench", Vendor: "acme", Clients: 4, Cycles: 20, Duration: time.Minute}
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
		t.Fatalf("seats in use after the run: %+v %v", fs, err)
	}
}

// A feature with fewer seats than clients: the denials are counted, not
// taken for errors.
func TestRunCountsDenials(t *testing.T) {
	seats := sdktest.NewSeats(sdktest.Feature{Vendor: "acme", Name: "bench", Version: "1.0", Seats: 1, TTL: time.Hour})
	gate := make(chan struct{})
	srv := flextest.Start(t, &holdingSeats{Seats: seats, gate: gate}, map[string]any{"server_host": "gw-test", "vendors": []string{"acme"}})
	// The one seat is held elsewhere for the whole run.
	if _, err := seats.Checkout(context.Background(), sdk.CheckoutRequest{Vendor: "acme", Feature: "bench", Count: 1, Client: sdk.Client{User: "other"}}); err != nil {
		t.Fatal(err)
	}
	close(gate)
	r, err := Run(context.Background(), clm.Options{Addr: srv.Vendor.String(), Feature: "bench", Vendor: "acme", Clients: 2, Cycles: 5, Duration: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if r.Denied != 2*5 || r.Errors != 0 || r.Ops != 2*5 {
		t.Fatalf("want 10 denials and nothing else: %v", r)
	}
}

// holdingSeats is Seats whose checkouts wait for gate.
type holdingSeats struct {
	sdk.Seats
	gate chan struct{}
}

func (h *holdingSeats) Checkout(ctx context.Context, req sdk.CheckoutRequest) (*sdk.Checkout, error) {
	<-h.gate
	return h.Seats.Checkout(ctx, req)
}
