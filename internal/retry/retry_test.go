package retry

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"
)

// TestFullJitterBounds: with the random source at its extremes, each pause
// is 0 (or Floor) at the bottom and the exponential ceiling at the top:
// 100ms, 200ms, 400ms, ... capped at Max.
func TestFullJitterBounds(t *testing.T) {
	low := Policy{Initial: 100 * time.Millisecond, Max: time.Second, Rand: func(int64) int64 { return 0 }}.BackOff()
	high := Policy{Initial: 100 * time.Millisecond, Max: time.Second, Rand: func(n int64) int64 { return n - 1 }}.BackOff()
	ceilings := []time.Duration{100, 200, 400, 800, 1000, 1000}
	for i, c := range ceilings {
		c *= time.Millisecond
		if got := low.NextBackOff(); got != 0 {
			t.Errorf("pause %d at the bottom = %v, want 0", i, got)
		}
		if got := high.NextBackOff(); got != c {
			t.Errorf("pause %d at the top = %v, want the ceiling %v", i, got, c)
		}
	}
	floored := Policy{Initial: 100 * time.Millisecond, Max: time.Second, Floor: 30 * time.Millisecond, Rand: func(int64) int64 { return 0 }}.BackOff()
	if got := floored.NextBackOff(); got != 30*time.Millisecond {
		t.Errorf("with Floor 30ms the shortest pause is %v", got)
	}
}

// TestJitterSpreadsClients is the reconnect storm: 2,000 clients lose the
// gateway at the same instant and draw their first and fifth pauses. With
// full jitter their returns spread evenly over [0, ceiling]: the earliest
// near 0, the latest near the ceiling, the mean near half of it, and no
// 10% slice of the window holds more than about a tenth of them.
func TestJitterSpreadsClients(t *testing.T) {
	p := Policy{Initial: 100 * time.Millisecond, Max: 30 * time.Second}
	const clients = 2000
	for _, tt := range []struct {
		attempt int
		ceiling time.Duration
	}{{1, 100 * time.Millisecond}, {5, 1600 * time.Millisecond}} {
		var pauses []time.Duration
		for range clients {
			b := p.BackOff()
			var d time.Duration
			for range tt.attempt {
				d = b.NextBackOff()
			}
			pauses = append(pauses, d)
		}
		lo, hi, sum := time.Duration(math.MaxInt64), time.Duration(0), 0.0
		buckets := make([]int, 10)
		for _, d := range pauses {
			if d < 0 || d > tt.ceiling {
				t.Fatalf("attempt %d: pause %v outside [0, %v]", tt.attempt, d, tt.ceiling)
			}
			lo, hi, sum = min(lo, d), max(hi, d), sum+float64(d)
			buckets[min(int(10*d/tt.ceiling), 9)]++
		}
		mean := time.Duration(sum / clients)
		t.Logf("attempt %d: %d clients over [%v, %v], mean %v, per tenth %v", tt.attempt, clients, lo, hi, mean, buckets)
		if lo > tt.ceiling/20 || hi < tt.ceiling*19/20 {
			t.Errorf("attempt %d: pauses span [%v, %v], want about [0, %v]", tt.attempt, lo, hi, tt.ceiling)
		}
		if mean < tt.ceiling*2/5 || mean > tt.ceiling*3/5 {
			t.Errorf("attempt %d: mean pause %v, want about %v", tt.attempt, mean, tt.ceiling/2)
		}
		for i, n := range buckets {
			// Expected 200 each; 300 is over 7 standard deviations away.
			if n > 300 {
				t.Errorf("attempt %d: %d of %d clients in tenth %d of the window", tt.attempt, n, clients, i)
			}
		}
	}
}

func TestDo(t *testing.T) {
	p := Policy{Initial: time.Millisecond, Max: 4 * time.Millisecond}
	errDown := errors.New("down")

	n := 0
	v, err := Do(context.Background(), p, func() (int, error) {
		if n++; n < 4 {
			return 0, errDown
		}
		return 42, nil
	})
	if v != 42 || err != nil || n != 4 {
		t.Errorf("Do = %d, %v after %d attempts; want 42 after 4", v, err, n)
	}

	errKey := errors.New("key mismatch")
	n = 0
	_, err = Do(context.Background(), p, func() (int, error) { n++; return 0, Permanent(errKey) })
	if !errors.Is(err, errKey) || n != 1 {
		t.Errorf("permanent error: %v after %d attempts", err, n)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	_, err = Do(ctx, p, func() (int, error) { return 0, errDown })
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, errDown) {
		t.Errorf("ctx ended: %v, want both the deadline and the last error", err)
	}

	n = 0
	three := p
	three.Tries = 3
	_, err = Do(context.Background(), three, func() (int, error) { n++; return 0, errDown })
	if !errors.Is(err, errDown) || n != 3 {
		t.Errorf("Tries 3: %v after %d attempts", err, n)
	}

	start := time.Now()
	p.GiveUpAfter = 20 * time.Millisecond
	_, err = Do(context.Background(), p, func() (int, error) { return 0, errDown })
	if !errors.Is(err, errDown) || time.Since(start) > 5*time.Second {
		t.Errorf("give up after 20ms: %v after %v", err, time.Since(start))
	}
}
