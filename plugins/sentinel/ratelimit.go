package sentinel

import (
	"sync"
	"time"
)

// maxBuckets bounds the limiter's memory; beyond it, idle (full) buckets
// are forgotten, and when none is idle new addresses are refused until some
// are.
const maxBuckets = 1 << 16

// limiter is a token bucket per client IP address.
type limiter struct {
	mu      sync.Mutex
	rate    float64 // tokens per second
	burst   float64
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newLimiter(rate, burst float64) *limiter {
	return &limiter{rate: rate, burst: burst, buckets: map[string]*bucket{}}
}

// allow takes a token from ip's bucket, reporting whether there was one.
func (l *limiter) allow(ip string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[ip]
	if !ok {
		if len(l.buckets) >= maxBuckets && !l.sweep(now) {
			return false
		}
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[ip] = b
	}
	if dt := now.Sub(b.last).Seconds(); dt > 0 {
		b.tokens = min(l.burst, b.tokens+dt*l.rate)
		b.last = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// sweep forgets buckets that have refilled (an address that has been quiet
// long enough is indistinguishable from a new one); it reports whether it
// made room.
func (l *limiter) sweep(now time.Time) bool {
	full := l.burst / l.rate // seconds to refill from empty
	for ip, b := range l.buckets {
		if now.Sub(b.last).Seconds() >= full {
			delete(l.buckets, ip)
		}
	}
	return len(l.buckets) < maxBuckets
}
