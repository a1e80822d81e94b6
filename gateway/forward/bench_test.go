package forward

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/licensegw/licensegw/gateway/natsd/natstest"
	accounting "github.com/licensegw/licensegw/gateway/seats"
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

// BenchmarkLeaderSeats measures the leader's own plugins' seat calls on a
// real ledger and journal: "single" is a single node's path (the ledger's
// sdk.Seats), "local" the clustered leader's (Forwarder.Lead), "forwarded"
// the same call sent over NATS request/reply to the forwarding service on
// the same server (what the leader's plugins did before the local path,
// and about what a follower's do, less the route hop). Heartbeats are
// not journaled; a checkout+checkin pair waits for two acknowledgements.
func BenchmarkLeaderSeats(b *testing.B) {
	ns := natstest.Start(b)
	l, _ := openLedger(b, ns, accounting.Feature{Vendor: "acme", Name: "cad", Version: "1.0", Seats: 1_000_000})
	svc, err := Serve(ServiceConfig{Conn: connB(b, ns.ClientURL()), Prefix: prefix, Term: 1, Engine: &ledgerEngine{l}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(svc.Stop)
	newFwd := func(lead bool) *Forwarder {
		f, err := New(Config{Conn: connB(b, ns.ClientURL()), Prefix: prefix, Node: "gw-1"})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(f.Close)
		if lead {
			f.Lead(&Local{Engine: &ledgerEngine{l}, Term: 1, Leading: func() bool { return true }})
		}
		return f
	}
	ctx := context.Background()
	paths := []struct {
		name  string
		seats sdk.Seats
	}{
		{"single", l.Seats("clm", "concurrent-lm")},
		{"local", newFwd(true).Seats("clm", "concurrent-lm")},
		{"forwarded", newFwd(false).Seats("clm", "concurrent-lm")},
	}
	co, err := paths[0].seats.Checkout(ctx, sdk.CheckoutRequest{Feature: "cad", Client: client})
	if err != nil {
		b.Fatal(err)
	}
	ops := []struct {
		name string
		do   func(sdk.Seats) error
	}{
		{"heartbeat", func(s sdk.Seats) error {
			_, err := s.Heartbeat(ctx, co.Grant.Lease)
			return err
		}},
		{"checkout+checkin", func(s sdk.Seats) error {
			c, err := s.Checkout(ctx, sdk.CheckoutRequest{Feature: "cad", Client: client})
			if err != nil {
				return err
			}
			return s.Checkin(ctx, c.Grant.Lease)
		}},
	}
	for _, op := range ops {
		for _, p := range paths { // side by side, in one run
			b.Run(op.name+"/"+p.name, func(b *testing.B) {
				lat := make([]time.Duration, 0, b.N)
				for b.Loop() {
					t0 := time.Now()
					if err := op.do(p.seats); err != nil {
						b.Fatal(err)
					}
					lat = append(lat, time.Since(t0))
				}
				slices.Sort(lat)
				b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds())/1e3, "p50-µs")
				b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds())/1e3, "p99-µs")
			})
		}
	}
}
