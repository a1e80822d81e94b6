package journal_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/licensegw/licensegw/gateway/events"
	"github.com/licensegw/licensegw/gateway/journal"
	"github.com/licensegw/licensegw/gateway/natsd/natstest"
)

// BenchmarkAppendWait measures acknowledged events per second the way the
// engine produces them: each appender takes the engine lock, appends one
// event, releases the lock and waits for the commit. b.N is the total number
// of events.
func BenchmarkAppendWait(b *testing.B) {
	for _, appenders := range []int{1, 16, 256} {
		b.Run(fmt.Sprintf("appenders=%d", appenders), func(b *testing.B) {
			j := openBench(b)
			ctx := context.Background()
			var (
				engine    sync.Mutex
				next      atomic.Int64
				wg        sync.WaitGroup
				latencies = make([][]time.Duration, appenders)
				failed    atomic.Pointer[error]
			)
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			for w := range appenders {
				wg.Go(func() {
					e := ev(w)
					batch := make([]events.Event, 1)
					for next.Add(1) <= int64(b.N) {
						t0 := time.Now()
						batch[0] = e
						engine.Lock()
						c := j.Append(batch)
						engine.Unlock()
						if err := c.Wait(ctx); err != nil {
							failed.Store(&err)
							return
						}
						latencies[w] = append(latencies[w], time.Since(t0))
					}
				})
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			if err := failed.Load(); err != nil {
				b.Fatal(*err)
			}
			reportRate(b, "events/s", elapsed, latencies)
		})
	}
}

// reportRate reports b.N operations over elapsed as unit, and the p50 and
// p99 of the latencies every worker recorded.
func reportRate(b *testing.B, unit string, elapsed time.Duration, latencies [][]time.Duration) {
	all := slices.Concat(latencies...)
	slices.Sort(all)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), unit)
	b.ReportMetric(float64(percentile(all, 0.50).Microseconds()), "p50-µs")
	b.ReportMetric(float64(percentile(all, 0.99).Microseconds()), "p99-µs")
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[int(float64(len(sorted)-1)*p)]
}

// BenchmarkReplay100k replays a stream of 100,000 events, as a restart does.
func BenchmarkReplay100k(b *testing.B) {
	const n = 100_000
	j := openBench(b)
	ctx := context.Background()
	var last *journal.Commit
	for i := 0; i < n; i += 1000 {
		batch := make([]events.Event, 1000)
		for k := range batch {
			batch[k] = ev(i + k)
		}
		last = j.Append(batch)
	}
	if err := last.Wait(ctx); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		count := 0
		if _, err := j.Replay(ctx, 0, func(uint64, events.Event) error { count++; return nil }); err != nil {
			b.Fatal(err)
		}
		if count != n {
			b.Fatalf("replayed %d events, want %d", count, n)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// openBench opens a journal on a fresh server, in-process by default or over
// loopback TCP with JOURNAL_BENCH_TCP=1.
func openBench(b *testing.B) *journal.Journal {
	s := startServer(b)
	if os.Getenv("JOURNAL_BENCH_TCP") == "" {
		return open(b, s)
	}
	nc, err := nats.Connect(s.ClientURL(), natstest.FullAccess())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(nc.Close)
	return openConn(b, nc)
}
