package forward

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/licensegw/licensegw/gateway/natsd/natstest"
	"github.com/licensegw/licensegw/sdk"
	"github.com/licensegw/licensegw/sdk/sdktest"
)

// BenchmarkForwardedHeartbeat measures what forwarding adds to a seat
// call: a heartbeat answered by an in-memory accounting directly, and the
// same heartbeat forwarded over NATS request/reply to a service on one
// server (the leader's own plugins' path; a follower's adds a route hop).
func BenchmarkForwardedHeartbeat(b *testing.B) {
	s := natstest.Start(b)
	e := &engine{seats: sdktest.NewSeats(sdktest.Feature{Vendor: "acme", Name: "cad", Seats: 10})}
	ctx := context.Background()
	co, err := e.seats.Checkout(ctx, sdk.CheckoutRequest{Feature: "cad", Client: client})
	if err != nil {
		b.Fatal(err)
	}
	lease := co.Grant.Lease
	leader, follower := connB(b, s.ClientURL()), connB(b, s.ClientURL())
	svc, err := Serve(ServiceConfig{Conn: leader, Prefix: prefix, Term: 1, Engine: e})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(svc.Stop)
	f, err := New(Config{Conn: follower, Prefix: prefix, Node: "gw-2"})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(f.Close)
	for _, bc := range []struct {
		name  string
		seats sdk.Seats
	}{{"direct", e.seats}, {"forwarded", f.Seats("clm", "concurrent-lm")}} {
		b.Run(bc.name, func(b *testing.B) {
			lat := make([]time.Duration, 0, b.N)
			for b.Loop() {
				t0 := time.Now()
				if _, err := bc.seats.Heartbeat(ctx, lease); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t0))
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
		})
	}
}
