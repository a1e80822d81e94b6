package sentinel

import (
	"bytes"
	"net/netip"
	"testing"
	"time"
)

func TestResponseCache(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := newResponseCache(2, 10, time.Minute)
	a, b, d := cacheKey{ap("10.9.9.9:1"), 1}, cacheKey{ap("10.9.9.9:1"), 2}, cacheKey{ap("10.9.9.9:1"), 3}
	if c.begin(a, ip("10.9.9.9"), t0) != begun {
		t.Fatal("begin a refused")
	}
	if st, _ := c.lookup(a); st != cacheInFlight {
		t.Errorf("a is %v, want in flight", st)
	}
	if c.begin(a, ip("10.9.9.9"), t0) == begun {
		t.Error("a begun twice")
	}
	answer := []byte("A")
	c.finish(a, answer)
	answer[0] = 'X' // the worker reuses its buffer: the cache kept a copy
	if st, ans := c.lookup(a); st != cacheAnswered || string(ans) != "A" {
		t.Errorf("a = %v %q", st, ans)
	}
	if c.begin(b, ip("10.9.9.9"), t0.Add(time.Second)) != begun {
		t.Fatal("begin b refused")
	}
	// Full of entries younger than the TTL: a new request is refused
	// rather than a remembered one forgotten.
	if c.begin(d, ip("10.9.9.9"), t0.Add(30*time.Second)) == begun {
		t.Error("full cache accepted d before a was a minute old")
	}
	if st, _ := c.lookup(a); st != cacheAnswered {
		t.Error("a forgotten too early")
	}
	// A minute on, a may go.
	if c.begin(d, ip("10.9.9.9"), t0.Add(time.Minute)) != begun {
		t.Error("d refused although a is a minute old")
	}
	if st, _ := c.lookup(a); st != cacheMiss {
		t.Error("a still remembered")
	}
	// b is still in flight: it is never evicted, even when old.
	if c.begin(cacheKey{ap("10.9.9.8:1"), 9}, ip("10.9.9.9"), t0.Add(time.Hour)) == begun {
		t.Error("in-flight b evicted")
	}
	c.abort(b)
	if st, _ := c.lookup(b); st != cacheMiss {
		t.Error("aborted b remembered")
	}
	if c.len() != 2 {
		t.Errorf("len = %d, want 2 (aborted b waits in the ring)", c.len())
	}
	if c.begin(cacheKey{ap("10.9.9.8:1"), 9}, ip("10.9.9.9"), t0.Add(time.Hour)) != begun {
		t.Error("begin refused after b was aborted and d expired")
	}
}

func TestLimiter(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := newLimiter(2, 3) // 2/s, burst 3
	allowed := 0
	for range 10 {
		if l.allow(ip("10.0.0.1"), t0) {
			allowed++
		}
	}
	if allowed != 3 {
		t.Errorf("burst allowed %d, want 3", allowed)
	}
	if !l.allow(ip("10.0.0.2"), t0) {
		t.Error("another address limited")
	}
	if !l.allow(ip("10.0.0.1"), t0.Add(500*time.Millisecond)) || l.allow(ip("10.0.0.1"), t0.Add(500*time.Millisecond)) {
		t.Error("refill after 0.5s at 2/s should allow exactly one")
	}
}

func TestResponseCacheShareOfOneIP(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := newResponseCache(8, 2, time.Minute)
	for i := range uint64(2) {
		if st := c.begin(cacheKey{ap("10.0.0.1:1"), i}, ip("10.0.0.1"), t0); st != begun {
			t.Fatalf("entry %d: %v", i, st)
		}
	}
	if st := c.begin(cacheKey{ap("10.0.0.1:2"), 9}, ip("10.0.0.1"), t0); st != beginQuota {
		t.Fatalf("third entry of one IP (another port): %v, want beginQuota", st)
	}
	if st := c.begin(cacheKey{ap("10.0.0.2:1"), 9}, ip("10.0.0.2"), t0); st != begun {
		t.Fatalf("another IP: %v, want begun", st)
	}
	// Its entries age out of the ring: the share comes back.
	c.finish(cacheKey{ap("10.0.0.1:1"), 0}, []byte("A"))
	c.finish(cacheKey{ap("10.0.0.1:1"), 1}, []byte("B"))
	if st := c.begin(cacheKey{ap("10.0.0.1:2"), 9}, ip("10.0.0.1"), t0.Add(time.Minute)); st != begun {
		t.Fatalf("a minute on: %v, want begun", st)
	}
}

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }
func ip(s string) netip.Addr     { return netip.MustParseAddr(s) }

// An answer longer than an entry holds inline is kept whole, as a copy.
func TestCacheLongAnswer(t *testing.T) {
	c := newResponseCache(4, 4, time.Minute)
	k := cacheKey{ap("10.0.0.1:1"), 1}
	if c.begin(k, ip("10.0.0.1"), time.Unix(0, 0)) != begun {
		t.Fatal("begin refused")
	}
	long := make([]byte, inlineAnswer+1)
	for i := range long {
		long[i] = byte(i)
	}
	c.finish(k, long)
	want := bytes.Clone(long)
	long[0] = 0xFF
	if st, ans := c.lookup(k); st != cacheAnswered || !bytes.Equal(ans, want) {
		t.Fatalf("lookup = %v, %d bytes", st, len(ans))
	}
}
