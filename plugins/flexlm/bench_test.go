package flexlm_test

import (
	"context"
	"testing"
	"time"

	"github.com/licensegw/licensegw/plugins/flexlm/client"
	"github.com/licensegw/licensegw/plugins/flexlm/internal/flextest"
	"github.com/licensegw/licensegw/sdk/sdktest"
)

// BenchmarkCheckoutCheckin measures a checkout and checkin round trip over
// loopback TCP against the in-memory Seats.
func BenchmarkCheckoutCheckin(b *testing.B) {
	s := sdktest.NewSeats(sdktest.Feature{Vendor: "acme", Name: "cad", Version: "1.0", Seats: 1 << 20, TTL: time.Hour})
	srv := flextest.Start(b, s, cfg())
	ctx := context.Background()
	c, err := client.Dial(ctx, srv.LmgrdSpec(), client.Options{Vendor: "acme", User: "bench", Host: "h"})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	b.ResetTimer()
	for b.Loop() {
		lic, err := c.Checkout(ctx, client.CheckoutRequest{Feature: "cad"})
		if err != nil {
			b.Fatal(err)
		}
		if err := lic.Checkin(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStatus measures a status of one feature with 100 leases.
func BenchmarkStatus(b *testing.B) {
	s := sdktest.NewSeats(sdktest.Feature{Vendor: "acme", Name: "cad", Version: "1.0", Seats: 1000, TTL: time.Hour})
	srv := flextest.Start(b, s, cfg())
	ctx := context.Background()
	c, err := client.Dial(ctx, srv.LmgrdSpec(), client.Options{Vendor: "acme", User: "bench", Host: "h"})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	for range 100 {
		if _, err := c.Checkout(ctx, client.CheckoutRequest{Feature: "cad"}); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for b.Loop() {
		fs, err := c.Status(ctx, "cad")
		if err != nil || len(fs[0].Leases) != 100 {
			b.Fatal(fs, err)
		}
	}
}
