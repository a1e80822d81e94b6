package journal_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/licensegw/licensegw/gateway/events"
	"github.com/licensegw/licensegw/gateway/journal"
	"github.com/licensegw/licensegw/gateway/natsd"
	"github.com/licensegw/licensegw/gateway/natsd/natstest"
)

// BenchmarkPairsR1R3 measures journaled checkout+checkin pairs per second,
// the p50/p99 of one acknowledged append and the pairs per CPU second of
// the whole process (servers included), on a single server's R1 stream and
// on a 3-node cluster's R3 stream (the high-availability set-up) in the
// same run, with 1, 16 and 256 appenders: each appends a checkout, waits
// for its acknowledgement, appends the checkin and waits again. Every
// append is fenced (Nats-Expected-Last-Sequence) and chained, as the
// gateway's are. b.N is the number of pairs.
func BenchmarkPairsR1R3(b *testing.B) {
	single := natstest.Start(b)
	cluster := natstest.StartCluster(b, 3)
	for _, tc := range []struct {
		name     string
		srv      *natsd.Server
		replicas int
	}{
		{"R1", single, 1},
		{"R3", cluster[1], 3}, // not necessarily the stream leader
	} {
		for _, appenders := range []int{1, 16, 256} {
			b.Run(fmt.Sprintf("%s/requesters=%d", tc.name, appenders), func(b *testing.B) {
				nc := connectTo(b, tc.srv)
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				name := fmt.Sprintf("%s_%d", tc.name, appenders)
				j, err := journal.Open(ctx, journal.Config{Conn: nc, Gateway: "bench", Replicas: tc.replicas, Stream: "BENCH_" + name, Prefix: "bench" + name})
				cancel()
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { _ = j.Close(context.Background()) })
				benchPairs(b, j, appenders)
			})
		}
	}
}

func benchPairs(b *testing.B, j *journal.Journal, appenders int) {
	ctx := context.Background()
	var (
		engine    sync.Mutex
		next      atomic.Int64
		wg        sync.WaitGroup
		latencies = make([][]time.Duration, appenders)
		failed    atomic.Pointer[error]
	)
	appendWait := func(w int, e events.Event) bool {
		t0 := time.Now()
		engine.Lock()
		c := j.Append([]events.Event{e})
		engine.Unlock()
		if err := c.Wait(ctx); err != nil {
			failed.Store(&err)
			return false
		}
		latencies[w] = append(latencies[w], time.Since(t0))
		return true
	}
	b.ResetTimer()
	start, cpu0 := time.Now(), processCPU()
	for w := range appenders {
		wg.Go(func() {
			out := ev(w)
			in := out
			in.Kind = events.Checkin
			for next.Add(1) <= int64(b.N) {
				if !appendWait(w, out) || !appendWait(w, in) {
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed, cpu := time.Since(start), processCPU()-cpu0
	b.StopTimer()
	if err := failed.Load(); err != nil {
		b.Fatal(*err)
	}
	reportRate(b, "pairs/s", elapsed, latencies)
	if cpu > 0 {
		b.ReportMetric(float64(b.N)/cpu.Seconds(), "pairs/cpu-s")
	}
}
