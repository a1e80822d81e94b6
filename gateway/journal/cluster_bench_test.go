package journal_test

import (
	"context"
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
// and the p99 of one acknowledged append, on a single server's R1 stream
// and on a 3-node cluster's R3 stream (the high-availability set-up) in
// the same run: 64 appenders, each appends a checkout, waits for its
// acknowledgement, appends the checkin and waits again. b.N is the number
// of pairs.
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
		b.Run(tc.name, func(b *testing.B) {
			nc := connectTo(b, tc.srv)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			j, err := journal.Open(ctx, journal.Config{Conn: nc, Gateway: "bench", Replicas: tc.replicas, Stream: "BENCH_" + tc.name, Prefix: "bench" + tc.name})
			cancel()
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = j.Close(context.Background()) })
			benchPairs(b, j, 64)
		})
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
	start := time.Now()
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
	elapsed := time.Since(start)
	b.StopTimer()
	if err := failed.Load(); err != nil {
		b.Fatal(*err)
	}
	reportRate(b, "pairs/s", elapsed, latencies)
}
