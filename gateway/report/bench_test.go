package report_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/licensegw/licensegw/gateway/events"
	"github.com/licensegw/licensegw/gateway/journal"
	"github.com/licensegw/licensegw/gateway/natsd/natstest"
	"github.com/licensegw/licensegw/gateway/report"
	"github.com/licensegw/licensegw/gateway/seats"
)

// benchEvents is the size of the benchmark's stream.
const benchEvents = 200_000

// BenchmarkReport measures reports read from a local JetStream stream
// (embedded server) beside the raw stream read alone, in the same run:
//
//   - stream-raw-read: every message of the stream by batched direct gets,
//     payloads counted, nothing decoded: the floor of any reader;
//   - replay-read: the journal's Replay (an ephemeral push consumer with
//     flow control), decoded, as the gateway's start-up replay reads;
//   - scan-read: the journal's Scan (the bulk reader), decoded;
//   - usage-from-stream: a usage report by feature and user over Scan;
//   - usage-in-memory: the report's own cost over decoded events.
//
// The stream is a month of real engine output: 20 features, 400 users,
// checkouts, checkins, expiries and denials.
func BenchmarkReport(b *testing.B) {
	evs := engineEvents(b, benchEvents)
	q := benchQuery(b, evs)
	b.Run("usage-in-memory", func(b *testing.B) { benchInMemory(b, q, evs) })
	j, nc := benchJournal(b, evs)
	ctx := context.Background()

	b.Run("stream-raw-read", func(b *testing.B) {
		cpu0 := cpuTime()
		for b.Loop() {
			// The stream holds the events and the writer's term event.
			if n := rawRead(b, nc, uint64(len(evs))+1); n != len(evs)+1 {
				b.Fatalf("read %d messages, want %d", n, len(evs)+1)
			}
		}
		reportRates(b, len(evs), cpu0)
	})
	b.Run("replay-read", func(b *testing.B) {
		cpu0 := cpuTime()
		for b.Loop() {
			n := 0
			if _, err := j.Replay(ctx, 0, func(uint64, events.Event) error { n++; return nil }); err != nil {
				b.Fatal(err)
			}
			if n != len(evs) {
				b.Fatalf("read %d events, want %d", n, len(evs))
			}
		}
		reportRates(b, len(evs), cpu0)
	})
	b.Run("scan-read", func(b *testing.B) {
		cpu0 := cpuTime()
		for b.Loop() {
			n := 0
			if _, err := j.Scan(ctx, 0, func(*events.Event) error { n++; return nil }); err != nil {
				b.Fatal(err)
			}
			if n != len(evs) {
				b.Fatalf("read %d events, want %d", n, len(evs))
			}
		}
		reportRates(b, len(evs), cpu0)
	})
	b.Run("usage-from-stream", func(b *testing.B) {
		cpu0 := cpuTime()
		for b.Loop() {
			r := report.New(q)
			if _, err := j.Scan(ctx, 0, func(ev *events.Event) error { r.Add(ev); return nil }); err != nil {
				b.Fatal(err)
			}
			if _, err := r.Result(report.KindUsage); err != nil {
				b.Fatal(err)
			}
		}
		reportRates(b, len(evs), cpu0)
	})
}

// rawRead reads messages 1..n of the journal's stream by batched direct
// gets (payloads only) and counts them, decoding nothing.
func rawRead(b *testing.B, nc *nats.Conn, n uint64) int {
	inbox := nc.NewInbox()
	sub, err := nc.SubscribeSync(inbox)
	if err != nil {
		b.Fatal(err)
	}
	defer sub.Unsubscribe()
	_ = sub.SetPendingLimits(-1, -1)
	count, bytes := 0, 0
	for next := uint64(1); next <= n; {
		req := fmt.Sprintf(`{"seq":%d,"batch":8192,"max_bytes":8388608,"up_to_seq":%d,"no_hdr":true}`, next, n)
		if err := nc.PublishRequest("$JS.API.DIRECT.GET."+events.DefaultStream, inbox, []byte(req)); err != nil {
			b.Fatal(err)
		}
		for {
			m, err := sub.NextMsg(30 * time.Second)
			if err != nil {
				b.Fatal(err)
			}
			if m.Header == nil {
				count++
				bytes += len(m.Data)
				continue
			}
			if m.Header.Get("Status") != "204" {
				b.Fatalf("direct get: %v", m.Header)
			}
			last, _ := strconv.ParseUint(m.Header.Get("Nats-Last-Sequence"), 10, 64)
			next = last + 1
			break
		}
	}
	if bytes == 0 {
		b.Fatal("no payload bytes")
	}
	return count
}

// BenchmarkReportInMemory is the report's own cost, without the stream.
func BenchmarkReportInMemory(b *testing.B) {
	evs := engineEvents(b, benchEvents)
	benchInMemory(b, benchQuery(b, evs), evs)
}

func benchQuery(b *testing.B, evs []events.Event) report.Query {
	q := report.Query{Since: evs[0].Time, Until: evs[len(evs)-1].Time.Add(time.Second), By: []string{"feature", "user"}}
	if err := q.Validate(time.Now()); err != nil {
		b.Fatal(err)
	}
	return q
}

func benchInMemory(b *testing.B, q report.Query, evs []events.Event) {
	cpu0 := cpuTime()
	for b.Loop() {
		r := report.New(q)
		for i := range evs {
			r.Add(&evs[i])
		}
		if _, err := r.Result(report.KindUsage); err != nil {
			b.Fatal(err)
		}
	}
	reportRates(b, len(evs), cpu0)
}

// engineEvents runs random demand through the real engine until it has
// produced n events.
func engineEvents(tb testing.TB, n int) []events.Event {
	var cfg seats.Config
	for f := range 20 {
		cfg.Features = append(cfg.Features, seats.Feature{Name: fmt.Sprintf("feature%02d", f), Version: "1.0", Seats: 5 + f, LeaseTTL: time.Hour})
	}
	eng, err := seats.New(cfg, seats.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	now := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	var held []string
	out := make([]events.Event, 0, n+8)
	for len(out) < n {
		now = now.Add(time.Duration(rng.IntN(20)) * time.Second)
		out = eng.Tick(now, out)
		if len(held) > 0 && rng.IntN(2) == 0 {
			i := rng.IntN(len(held))
			id := held[i]
			held[i] = held[len(held)-1]
			held = held[:len(held)-1]
			out, _ = eng.Checkin(now, id, out) // may be gone: expired
			continue
		}
		user := fmt.Sprintf("user%03d", rng.IntN(400))
		res, evs := eng.Checkout(now, seats.CheckoutRequest{
			Feature: fmt.Sprintf("feature%02d", rng.IntN(20)),
			Client:  seats.Client{User: user, Host: user + "-ws", Protocol: "concurrent-lm", Plugin: "clm", Addr: "10.0.0.1:5000"},
		}, out)
		out = evs
		if res.Outcome == seats.Granted {
			held = append(held, res.Lease.ID)
		}
	}
	for i := range out {
		out[i].Schema, out[i].Gateway = events.Schema, "bench"
	}
	return out[:n]
}

// benchJournal is a journal on a fresh embedded server holding evs.
func benchJournal(tb testing.TB, evs []events.Event) (*journal.Journal, *nats.Conn) {
	s := natstest.Start(tb)
	nc, err := s.Connect()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(nc.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	j, err := journal.Open(ctx, journal.Config{Conn: nc, Gateway: "bench"})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = j.Close(context.Background()) })
	var last *journal.Commit
	for i := 0; i < len(evs); i += 1000 {
		last = j.Append(evs[i:min(i+1000, len(evs))])
	}
	if err := last.Wait(ctx); err != nil {
		tb.Fatal(err)
	}
	return j, nc
}

// reportRates reports events per wall second and per CPU second of the
// whole process (the embedded NATS server's work included): on a shared
// machine the wall clock measures the neighbours as much as the code.
func reportRates(b *testing.B, perOp int, cpu0 time.Duration) {
	n := float64(perOp) * float64(b.N)
	b.ReportMetric(n/b.Elapsed().Seconds(), "events/s")
	if cpu := cpuTime() - cpu0; cpu > 0 {
		b.ReportMetric(n/cpu.Seconds(), "events/cpu-s")
	}
}
