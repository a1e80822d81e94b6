package ledger_test

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/licensegw/licensegw/gateway/journal"
	"github.com/licensegw/licensegw/gateway/seats"
	"github.com/licensegw/licensegw/sdk"
)

// BenchmarkJournaledPairs measures checkout+checkin pairs through the whole
// ledger: engine, journal, embedded JetStream acknowledgement. Each op is
// one pair; pairs/s and the per-request latency percentiles are reported.
// chain=on is the gateway's journal (prev on every event, a signed seal
// every second); chain=off the same without them, the baseline of what the
// hash chain costs, measured in the same run.
func BenchmarkJournaledPairs(b *testing.B) {
	key := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	for _, workers := range []int{1, 16, 256} {
		for _, chain := range []bool{false, true} { // side by side
			b.Run(fmt.Sprintf("requesters=%d/chain=%s", workers, onOff(chain)), func(b *testing.B) {
				benchPairs(b, workers, func(c *journal.Config) { c.Signer, c.Unchained = key, !chain })
			})
		}
	}
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func benchPairs(b *testing.B, workers int, jcfg func(*journal.Config)) {
	r := newRig(b, features(seats.Feature{Name: "hot", Version: "1.0", Seats: 1_000_000}))
	r.journal = jcfg
	l, _ := r.open(nil)
	ctx := context.Background()
	lat := make([][]time.Duration, workers)
	var wg sync.WaitGroup
	per := b.N/workers + 1
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuTime()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			q := req("hot", fmt.Sprintf("u%d", w))
			mine := make([]time.Duration, 0, 2*per)
			for range per {
				t0 := time.Now()
				res, _, err := l.Checkout(ctx, q)
				t1 := time.Now()
				if err != nil || res.Outcome != seats.Granted {
					b.Error(res, err)
					return
				}
				if err := l.Checkin(ctx, res.Lease.ID); err != nil {
					b.Error(err)
					return
				}
				mine = append(mine, t1.Sub(t0), time.Since(t1))
			}
			lat[w] = mine
		}()
	}
	wg.Wait()
	elapsed, cpu := time.Since(start), cpuTime()-cpu0
	b.StopTimer()
	reportLatency(b, slices.Concat(lat...), float64(per*workers)/elapsed.Seconds(), "pairs/s")
	if cpu > 0 {
		b.ReportMetric(float64(per*workers)/cpu.Seconds(), "pairs/cpu-s")
	}
}

func reportLatency(b *testing.B, all []time.Duration, rate float64, unit string) {
	slices.Sort(all)
	pct := func(p float64) float64 {
		if len(all) == 0 {
			return 0
		}
		return float64(all[int(p*float64(len(all)-1))].Microseconds())
	}
	b.ReportMetric(rate, unit)
	b.ReportMetric(pct(0.50), "p50-µs")
	b.ReportMetric(pct(0.99), "p99-µs")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkRestart100k measures a restart with 100,000 live leases: the
// snapshot is read, later events replayed, every lease revived.
func BenchmarkRestart100k(b *testing.B) {
	for _, mode := range []string{"snapshot", "replay-only"} {
		b.Run(mode, func(b *testing.B) {
			const leases = 100_000
			r := newRig(b, features(seats.Feature{Name: "big", Version: "1.0", Seats: leases}))
			l, j := r.open(nil)
			ctx := context.Background()
			var wg sync.WaitGroup
			for w := range 64 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := w; i < leases; i += 64 {
						if res, _, err := l.Checkout(ctx, req("big", fmt.Sprint("u", i))); err != nil || res.Outcome != seats.Granted {
							b.Error(res, err)
							return
						}
					}
				}()
			}
			wg.Wait()
			if mode == "snapshot" {
				if err := l.Snapshot(ctx); err != nil {
					b.Fatal(err)
				}
			} else {
				r.dataDir = b.TempDir() // no snapshot to start from
			}
			j.Close(ctx)
			b.ResetTimer()
			var took time.Duration
			for range b.N {
				t0 := time.Now()
				l2, j2 := r.open(nil)
				took = time.Since(t0)
				if n, _ := l2.Counts(); n != leases {
					b.Fatalf("rebuilt %d leases", n)
				}
				j2.Close(ctx)
			}
			b.ReportMetric(took.Seconds(), "restart-s")
		})
	}
}

// BenchmarkHostileDenials sends denials of made-up features from 1,000
// spoofed sources as fast as the ledger answers them and reports how much
// the stream grew per 100,000 denials (issue 8: a flood must not grow the
// stream faster than the documented bound).
func BenchmarkHostileDenials(b *testing.B) {
	r := newRig(b, features(seats.Feature{Name: "cad", Version: "1.0", Seats: 1}))
	l, j := r.open(nil)
	ctx := context.Background()
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		q := req(fmt.Sprintf("made-up-%d", i), "mallory")
		q.Client.Addr = fmt.Sprintf("10.%d.%d.1:4000", i%1000/250, i%250)
		if _, _, err := l.Checkout(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
	took := time.Since(start)
	b.StopTimer()
	if err := l.Close(ctx); err != nil {
		b.Fatal(err)
	}
	info, err := j.StreamState(ctx)
	if err != nil {
		b.Fatal(err)
	}
	per := 100_000 / float64(b.N)
	b.ReportMetric(float64(info.Msgs)*per, "events/100k-denials")
	b.ReportMetric(float64(info.Bytes)*per, "stream-bytes/100k-denials")
	b.ReportMetric(float64(b.N)/took.Seconds(), "denials/s")
}

// BenchmarkAsyncSeats measures the path a plugin's session takes for its
// checkouts and checkins: the ledger as sdk.AsyncSeats, 64 calls in
// flight as a busy session keeps them, no goroutine waiting on any. Each
// op is one checkout+checkin pair. allocs/op counts the whole process, so
// the journal's publisher and the in-process NATS server's share is in it.
func BenchmarkAsyncSeats(b *testing.B) {
	r := newRig(b, features(seats.Feature{Name: "hot", Version: "1.0", Seats: 1_000_000}))
	l, _ := r.open(nil)
	as := l.Seats("bench", "concurrent-lm").(sdk.AsyncSeats)
	const inFlight = 64
	slots := make(chan int, inFlight)
	for i := range inFlight {
		slots <- i
	}
	reqs := make([]sdk.CheckoutRequest, inFlight)
	for i := range reqs {
		u := fmt.Sprintf("u%d", i)
		reqs[i] = sdk.CheckoutRequest{Feature: "hot", Client: sdk.Client{User: u, Host: u + "-ws"}}
	}
	var wg sync.WaitGroup
	var failed atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuTime()
	for range b.N {
		slot := <-slots
		wg.Add(1)
		as.CheckoutAsync(reqs[slot], func(co *sdk.Checkout, err error) {
			if err != nil || co.Outcome != sdk.Granted {
				failed.Add(1)
				slots <- slot
				wg.Done()
				return
			}
			as.CheckinAsync(co.Grant.Lease, func(err error) {
				if err != nil {
					failed.Add(1)
				}
				slots <- slot
				wg.Done()
			})
		})
	}
	wg.Wait()
	elapsed, cpu := time.Since(start), cpuTime()-cpu0
	b.StopTimer()
	if n := failed.Load(); n > 0 {
		b.Fatalf("%d of %d pairs failed", n, b.N)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "pairs/s")
	if cpu > 0 {
		b.ReportMetric(float64(b.N)/cpu.Seconds(), "pairs/cpu-s")
	}
}
