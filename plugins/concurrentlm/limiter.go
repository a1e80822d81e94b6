package concurrentlm

import (
	"hash/maphash"
	"net"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// ipState is what the server keeps per client IP address: a token bucket
// for the request rate (shared by TCP and UDP; nil when unlimited) and the
// count of open TCP connections.
type ipState struct {
	lim *rate.Limiter // safe for concurrent use on its own

	mu    sync.Mutex
	conns int
}

// ipTable maps client IPs to their state. It is sharded so that thousands
// of connections do not contend on one mutex.
type ipTable struct {
	rate   rate.Limit // 0: unlimited
	burst  int
	seed   maphash.Seed
	shards [64]ipShard
}

type ipShard struct {
	mu sync.Mutex
	m  map[netip.Addr]*ipState
}

func newIPTable(perSecond, burst float64) *ipTable {
	t := &ipTable{seed: maphash.MakeSeed()}
	if perSecond > 0 {
		t.rate, t.burst = rate.Limit(perSecond), max(int(burst), 1)
	}
	for i := range t.shards {
		t.shards[i].m = make(map[netip.Addr]*ipState)
	}
	return t
}

func (t *ipTable) shard(a netip.Addr) *ipShard {
	b := a.As16()
	return &t.shards[maphash.Bytes(t.seed, b[:])%uint64(len(t.shards))]
}

// newState is the state of an IP not seen before: a full bucket.
func (t *ipTable) newState() *ipState {
	st := &ipState{}
	if t.rate > 0 {
		st.lim = rate.NewLimiter(t.rate, t.burst)
	}
	return st
}

// get returns a's state, creating it with a full bucket.
func (t *ipTable) get(a netip.Addr) *ipState {
	sh := t.shard(a)
	sh.mu.Lock()
	st, ok := sh.m[a]
	if !ok {
		st = t.newState()
		sh.m[a] = st
	}
	sh.mu.Unlock()
	return st
}

// acquireConn counts a new connection from a unless a already has max.
func (t *ipTable) acquireConn(a netip.Addr, max int) (*ipState, bool) {
	sh := t.shard(a)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	st, ok := sh.m[a]
	if !ok {
		st = t.newState()
		sh.m[a] = st
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.conns >= max {
		return st, false
	}
	st.conns++
	return st, true
}

func (t *ipTable) releaseConn(st *ipState) {
	st.mu.Lock()
	st.conns--
	st.mu.Unlock()
}

// allow takes one token from st's bucket.
func (t *ipTable) allow(st *ipState) bool {
	return st.lim == nil || st.lim.Allow()
}

// sweep forgets IPs with no connection whose bucket has refilled: they are
// indistinguishable from IPs never seen.
func (t *ipTable) sweep() {
	now := time.Now()
	for i := range t.shards {
		sh := &t.shards[i]
		sh.mu.Lock()
		for a, st := range sh.m {
			st.mu.Lock()
			idle := st.conns == 0 && (st.lim == nil || st.lim.TokensAt(now) >= float64(t.burst))
			st.mu.Unlock()
			if idle {
				delete(sh.m, a)
			}
		}
		sh.mu.Unlock()
	}
}

// addrIP returns the IP of a TCP or UDP address.
func addrIP(a net.Addr) netip.Addr {
	return addrPort(a).Addr()
}

// addrPort returns a TCP or UDP address as a netip.AddrPort (unmapping
// IPv4-in-IPv6 so both spellings share one limit).
func addrPort(a net.Addr) netip.AddrPort {
	var ap netip.AddrPort
	switch a := a.(type) {
	case *net.TCPAddr:
		ap = a.AddrPort()
	case *net.UDPAddr:
		ap = a.AddrPort()
	default:
		ap, _ = netip.ParseAddrPort(a.String())
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}
