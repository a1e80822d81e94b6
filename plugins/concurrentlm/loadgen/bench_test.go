package loadgen

import (
	"context"
	"testing"
	"time"

	"github.com/licensegw/licensegw/plugins/concurrentlm"
	"github.com/licensegw/licensegw/sdk/sdktest"
)

// BenchmarkCompare measures the plugin over TCP (16 clients, 3 s per run)
// beside a raw TCP echo server driven the same way, as `make bench` runs
// it: throughput and latency percentiles of both, and their ratio.
func BenchmarkCompare(b *testing.B) {
	seats := sdktest.NewSeats(sdktest.Feature{Name: "bench", Seats: 1000})
	h := sdktest.Run(b, concurrentlm.New(), seats, map[string]any{"rate": 0})
	var c Comparison
	for range b.N {
		var err error
		c, err = Compare(context.Background(), Options{Addr: h.Addr(concurrentlm.ListenerTCP), Clients: 16, Duration: 3 * time.Second})
		if err != nil {
			b.Fatal(err)
		}
		if c.Gateway.Errors > 0 || c.Echo.Errors > 0 {
			b.Fatalf("errors during the run:\n%v", c)
		}
	}
	b.ReportMetric(c.Gateway.OpsPerSec, "gateway-ops/s")
	b.ReportMetric(c.Echo.OpsPerSec, "echo-ops/s")
	b.ReportMetric(c.Ratio, "ratio")
	b.ReportMetric(float64(c.Gateway.P99.Microseconds()), "gateway-p99-µs")
	b.ReportMetric(float64(c.Echo.P99.Microseconds()), "echo-p99-µs")
	b.Logf("\n%v", c)
}
