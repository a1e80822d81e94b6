package relay

import (
	"testing"
	"time"

	"github.com/licensegw/licensegw/plugins/relay/conformance"
	"github.com/licensegw/licensegw/sdk/sdktest"
)

// TestConformance runs the node API suite against the plugin over
// in-memory seats; internal/e2e/vendors runs it against the real gateway.
func TestConformance(t *testing.T) {
	const ttl = 2 * time.Second
	seats := sdktest.NewSeats(sdktest.Feature{Name: "cad", Seats: 3, TTL: ttl}, sdktest.Feature{Name: "dev", Seats: 1, TTL: ttl})
	secret := "conformance-secret"
	r := serve(t, seats, map[string]any{
		"pools": []string{"dev"}, "licenses_dir": licenceDir(t, 3), "public_key": vendorHex(),
		"signing_secret": secret, "cull_interval": 100 * time.Millisecond,
	}, nil)
	conformance.Run(t, conformance.Target{
		URL: r.base, Pool: "cad", Seats: 3, OtherPool: "dev", TTL: ttl, Files: true,
		Secret: []byte(secret), Expiry: true, CullWithin: 200 * time.Millisecond,
	})
}
