package sentinel

import (
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// maxBuckets bounds the limiter's memory; beyond it, idle (full) buckets
// are forgotten, and when none is idle new addresses are refused until some
// are.
const maxBuckets = 1 << 16

// limiter is a token bucket per client IP address.
type limiter struct {
	mu      sync.Mutex
	rate    rate.Limit // tokens per second
	burst   int
	buckets map[netip.Addr]*rate.Limiter
}

func newLimiter(perSecond, burst float64) *limiter {
	return &limiter{rate: rate.Limit(perSecond), burst: max(int(burst), 1), buckets: map[netip.Addr]*rate.Limiter{}}
}

// allow takes a token from ip's bucket, reporting whether there was one.
func (l *limiter) allow(ip netip.Addr, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[ip]
	if !ok {
		if len(l.buckets) >= maxBuckets && !l.sweep(now) {
			return false
		}
		b = rate.NewLimiter(l.rate, l.burst) // full
		l.buckets[ip] = b
	}
	return b.AllowN(now, 1)
}

// sweep forgets buckets that have refilled (an address that has been quiet
// long enough is indistinguishable from a new one); it reports whether it
// made room.
func (l *limiter) sweep(now time.Time) bool {
	for ip, b := range l.buckets {
		if b.TokensAt(now) >= float64(l.burst) {
			delete(l.buckets, ip)
		}
	}
	return len(l.buckets) < maxBuckets
}
