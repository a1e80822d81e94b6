package ledger_test

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/licensegw/licensegw/gateway/events"
	"github.com/licensegw/licensegw/gateway/ledger"
	"github.com/licensegw/licensegw/gateway/seats"
)

// fakeClock is a clock the test moves.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func hostileReq(feature, addr string) seats.CheckoutRequest {
	r := req(feature, "mallory")
	r.Client.Addr = addr
	return r
}

// TestDenialsAreRateLimitedPerSource: a flood of refused checkouts grows the
// stream by at most ledger.DenialBurstPerSource events from one source and
// ledger.DenialBurstTotal in all (then their sustained rates), plus one
// summary per second that counts the rest.
func TestDenialsAreRateLimitedPerSource(t *testing.T) {
	r := newRig(t, features(seats.Feature{Name: "cad", Version: "1.0", Seats: 1}))
	clock := &fakeClock{now: time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)}
	l, _ := r.open(clock.Now)

	// One source, 1,000 denials of features that do not exist, in one
	// instant: its bucket journals DenialBurstPerSource of them.
	for i := range 1000 {
		res, _, err := l.Checkout(ctx(t), hostileReq("made-up-"+strconv.Itoa(i), "192.0.2.1:"+strconv.Itoa(1000+i)))
		if err != nil || res.Outcome != seats.Denied || res.Reason != seats.UnknownFeature {
			t.Fatalf("checkout %d: %+v, %v", i, res, err)
		}
	}
	// 1,500 spoofed sources in the same instant: the total caps them.
	for i := range 1500 {
		addr := "198.51." + strconv.Itoa(i/250) + "." + strconv.Itoa(i%250) + ":" + strconv.Itoa(i)
		if _, _, err := l.Checkout(ctx(t), hostileReq("x", addr)); err != nil {
			t.Fatal(err)
		}
	}
	// 1.1 s later: the summary, and a new source's denial is journaled
	// (the total bucket has refilled by 110).
	clock.Add(1100 * time.Millisecond)
	if _, _, err := l.Checkout(ctx(t), hostileReq("x", "203.0.113.9:1")); err != nil {
		t.Fatal(err)
	}

	var denied, summaries, suppressed int
	for _, ev := range r.streamEvents() {
		switch {
		case ev.Kind == events.Denied && ev.Reason == events.ReasonSuppressed:
			summaries++
			suppressed += ev.Count
		case ev.Kind == events.Denied:
			denied++
		}
	}
	if denied != ledger.DenialBurstTotal+1 || summaries != 1 || suppressed != 2500-ledger.DenialBurstTotal {
		t.Fatalf("stream holds %d denials and %d summaries of %d; want %d, 1, %d",
			denied, summaries, suppressed, ledger.DenialBurstTotal+1, 2500-ledger.DenialBurstTotal)
	}
}

// TestOrdinaryContentionIsJournaledInFull: a burst of denials from one
// address (clients behind one NAT all finding the seats taken) is within
// the per-source bucket: every denial is an event of its own, none
// summarised.
func TestOrdinaryContentionIsJournaledInFull(t *testing.T) {
	r := newRig(t, features(seats.Feature{Name: "cad", Version: "1.0", Seats: 1}))
	clock := &fakeClock{now: time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)}
	l, _ := r.open(clock.Now)
	if _, _, err := l.Checkout(ctx(t), hostileReq("cad", "192.0.2.1:1")); err != nil {
		t.Fatal(err)
	}
	const n = 250 // e2e races deny ~100-150 in a few seconds from 127.0.0.1
	for i := range n {
		clock.Add(10 * time.Millisecond)
		res, _, err := l.Checkout(ctx(t), hostileReq("cad", "192.0.2.1:"+strconv.Itoa(2+i)))
		if err != nil || res.Outcome != seats.Denied {
			t.Fatalf("checkout %d: %+v, %v", i, res, err)
		}
	}
	var denied, summaries int
	for _, ev := range r.streamEvents() {
		if ev.Kind == events.Denied {
			if ev.Reason == events.ReasonSuppressed {
				summaries++
			} else {
				denied++
			}
		}
	}
	if denied != n || summaries != 0 {
		t.Fatalf("stream holds %d denials and %d summaries, want %d and 0", denied, summaries, n)
	}
}

// TestCorruptSnapshotIsSetAside: issue 8 defect 8. A snapshot that does not
// decode is renamed aside and the state rebuilt from the older snapshot or
// the stream; the start does not fail.
func TestCorruptSnapshotIsSetAside(t *testing.T) {
	for _, damage := range []string{"truncated", "garbage", "unreadable"} {
		t.Run(damage, func(t *testing.T) {
			r := newRig(t, features(seats.Feature{Name: "cad", Version: "1.0", Seats: 5}))
			l1, j1 := r.open(nil)
			res, _, err := l1.Checkout(ctx(t), req("cad", "alice"))
			if err != nil {
				t.Fatal(err)
			}
			if err := l1.Close(ctx(t)); err != nil {
				t.Fatal(err)
			}
			j1.Close(ctx(t))

			path := filepath.Join(r.dataDir, "snapshot.json")
			switch damage {
			case "truncated":
				b, _ := os.ReadFile(path)
				err = os.WriteFile(path, b[:len(b)/2], 0o600)
			case "garbage":
				err = os.WriteFile(path, []byte("\x00\x01 not json"), 0o600)
			case "unreadable": // a directory where the file should be
				if err = os.Remove(path); err == nil {
					err = os.Mkdir(path, 0o700)
				}
			}
			if err != nil {
				t.Fatal(err)
			}

			l2, _ := r.open(nil)
			if _, err := l2.Heartbeat(ctx(t), res.Lease.ID); err != nil {
				t.Fatalf("lease lost with the corrupt snapshot: %v", err)
			}
			aside, _ := filepath.Glob(path + ".corrupt-*")
			if len(aside) != 1 {
				t.Fatalf("set aside: %v, want one file", aside)
			}
		})
	}
}

// TestRetentionKeepsWhatSnapshotsNeed: with a retention that wants every
// event gone, the ledger deletes only events both snapshots include; a
// restart from the trimmed stream, even with the latest snapshot corrupt,
// rebuilds every lease.
func TestRetentionKeepsWhatSnapshotsNeed(t *testing.T) {
	r := newRig(t, features(seats.Feature{Name: "cad", Version: "1.0", Seats: 20}))
	retain := func(o *ledger.Options) { o.Retention = ledger.Retention{MaxBytes: 1} }
	l1, j1 := r.openWith(retain)
	var ids []string
	for round := range 3 {
		for i := range 4 {
			res, _, err := l1.Checkout(ctx(t), req("cad", "u"+strconv.Itoa(round*4+i)))
			if err != nil || res.Outcome != seats.Granted {
				t.Fatal(res, err)
			}
			ids = append(ids, res.Lease.ID)
		}
		if err := l1.Snapshot(ctx(t)); err != nil {
			t.Fatal(err)
		}
	}
	first, last, err := j1.Bounds(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	// The term event, then snapshots at 5, 9 and 13: the one before the
	// latest includes 9.
	if first != 10 || last != 13 {
		t.Fatalf("stream holds %d..%d, want 10..13", first, last)
	}
	j1.Close(ctx(t))

	if err := os.WriteFile(filepath.Join(r.dataDir, "snapshot.json"), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	l2, _ := r.openWith(retain)
	if n, _ := l2.Counts(); n != len(ids) {
		t.Fatalf("rebuilt %d leases from the trimmed stream, want %d", n, len(ids))
	}
}

// TestUnavailableIsFastAndBounded: with the journal's server gone, a request
// fails with ErrUnavailable at once or within Options.Wait, never hangs.
func TestUnavailableIsFastAndBounded(t *testing.T) {
	r := newRig(t, features(seats.Feature{Name: "cad", Version: "1.0", Seats: 10}))
	l, _ := r.openWith(func(o *ledger.Options) { o.Wait = 500 * time.Millisecond })
	if _, _, err := l.Checkout(ctx(t), req("cad", "alice")); err != nil {
		t.Fatal(err)
	}
	r.ns.Shutdown()
	for i := range 20 {
		start := time.Now()
		_, _, err := l.Checkout(ctx(t), req("cad", "bob"+strconv.Itoa(i)))
		if !errors.Is(err, ledger.ErrUnavailable) {
			t.Fatalf("checkout %d with NATS down: %v, want ErrUnavailable", i, err)
		}
		if took := time.Since(start); took > 5*time.Second {
			t.Fatalf("checkout %d took %v", i, took)
		}
	}
	done := make(chan error, 1)
	go func() { done <- l.Close(ctx(t)) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Close hangs with NATS down")
	}
}
