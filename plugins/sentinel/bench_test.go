package sentinel

import (
	"context"
	"testing"
	"time"

	"github.com/licensegw/licensegw/plugins/sentinel/client"
	"github.com/licensegw/licensegw/sdk/sdktest"
)

// BenchmarkCheckoutRelease measures a checkout and a release over loopback
// UDP against the in-memory Seats: two round trips per iteration.
func BenchmarkCheckoutRelease(b *testing.B) {
	seats := sdktest.NewSeats(sdktest.Feature{Name: "cad", Seats: 1000, TTL: time.Hour})
	// A cache as large as a minute of this rate needs.
	r := serve(b, seats, map[string]any{"rate_limit": 1e9, "rate_burst": 1e9, "cache_size": float64(1 << 22)}, nil)
	c, err := client.Dial(r.addr, client.Options{User: "u", Host: "h"})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		tok, _, err := c.Checkout(ctx, client.CheckoutRequest{Feature: "cad"})
		if err != nil {
			b.Fatal(err)
		}
		if err := c.Release(ctx, tok.Handle); err != nil {
			b.Fatal(err)
		}
	}
}
