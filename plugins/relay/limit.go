package relay

import (
	"hash/maphash"
	"net"
	"net/netip"
	"sync"
	"time"
)

// ipLimiter is a token bucket per client IP address, sharded so that many
// clients do not contend on one mutex.
type ipLimiter struct {
	rate, burst float64 // rate 0: unlimited
	base        time.Time
	seed        maphash.Seed
	shards      [32]limitShard
}

type limitShard struct {
	mu sync.Mutex
	m  map[netip.Addr]*bucket
}

type bucket struct {
	tokens float64
	last   time.Duration // since base
}

func newIPLimiter(rate, burst float64) *ipLimiter {
	l := &ipLimiter{rate: rate, burst: burst, base: time.Now(), seed: maphash.MakeSeed()}
	for i := range l.shards {
		l.shards[i].m = map[netip.Addr]*bucket{}
	}
	return l
}

// allow takes a token from ip's bucket.
func (l *ipLimiter) allow(ip netip.Addr) bool {
	if l.rate <= 0 {
		return true
	}
	b := ip.As16()
	sh := &l.shards[maphash.Bytes(l.seed, b[:])%uint64(len(l.shards))]
	now := time.Since(l.base)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	bk, ok := sh.m[ip]
	if !ok {
		bk = &bucket{tokens: l.burst, last: now}
		sh.m[ip] = bk
	}
	bk.tokens = min(l.burst, bk.tokens+(now-bk.last).Seconds()*l.rate)
	bk.last = now
	if bk.tokens < 1 {
		return false
	}
	bk.tokens--
	return true
}

// sweep forgets buckets that have refilled: they are indistinguishable
// from addresses never seen, so the table does not grow with every
// address that ever sent a request.
func (l *ipLimiter) sweep() {
	now := time.Since(l.base)
	for i := range l.shards {
		sh := &l.shards[i]
		sh.mu.Lock()
		for ip, bk := range sh.m {
			if bk.tokens+(now-bk.last).Seconds()*l.rate >= l.burst {
				delete(sh.m, ip)
			}
		}
		sh.mu.Unlock()
	}
}

// remoteIP is the IP of an http.Request's RemoteAddr, IPv4-in-IPv6
// unmapped so that both spellings share one bucket.
func remoteIP(remoteAddr string) netip.Addr {
	ap, err := netip.ParseAddrPort(remoteAddr)
	if err != nil {
		host, _, _ := net.SplitHostPort(remoteAddr)
		a, _ := netip.ParseAddr(host)
		return a.Unmap()
	}
	return ap.Addr().Unmap()
}

// limitListener accepts at most n connections at a time: beyond it, new
// connections wait in the kernel's backlog until one closes.
type limitListener struct {
	net.Listener
	sem    chan struct{}
	done   chan struct{}
	closed sync.Once
}

func newLimitListener(ln net.Listener, n int) *limitListener {
	return &limitListener{Listener: ln, sem: make(chan struct{}, n), done: make(chan struct{})}
}

func (l *limitListener) Accept() (net.Conn, error) {
	select {
	case l.sem <- struct{}{}:
	case <-l.done:
		return nil, net.ErrClosed
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.sem
		return nil, err
	}
	return &limitConn{Conn: c, release: func() { <-l.sem }}, nil
}

// Close closes the listener and ends an Accept waiting for a free slot.
func (l *limitListener) Close() error {
	l.closed.Do(func() { close(l.done) })
	return l.Listener.Close()
}

type limitConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
