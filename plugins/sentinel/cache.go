package sentinel

import (
	"bytes"
	"net/netip"
	"sync"
	"time"
)

// cacheKey identifies a request: who sent it and the id it chose.
type cacheKey struct {
	addr netip.AddrPort
	id   uint64
}

// cacheEntry is a request being executed (answer nil) or answered.
type cacheEntry struct {
	key    cacheKey
	ip     netip.Addr // the sender's IP address: its share of the cache
	at     time.Time  // when the request arrived
	answer []byte     // nil while in flight
	// inline holds a short answer (nearly all are), so that an entry
	// and its answer cost one allocation.
	inline [inlineAnswer]byte
}

// inlineAnswer is the longest answer kept inside its cache entry: a grant
// with a lease id of 64 bytes fits.
const inlineAnswer = 96

// lookup outcomes.
type cacheState int

const (
	cacheMiss     cacheState = iota // new request: begin it
	cacheInFlight                   // being executed: drop the retransmit
	cacheAnswered                   // answered: send the answer again
)

// responseCache remembers every request for at least ttl after it arrived,
// so that a retransmit is answered with the first answer and never executed
// again. It holds at most size entries; when it is full of entries younger
// than ttl it refuses new requests rather than forget one too early (the
// client retransmits later).
//
// One IP address holds at most perIP entries, so that a single sender (or
// a flood spoofing one address) cannot fill the cache and lock everyone
// else out.
type responseCache struct {
	mu      sync.Mutex
	ttl     time.Duration
	size    int
	perIP   int
	entries map[cacheKey]*cacheEntry
	byIP    map[netip.Addr]int // ring entries per sender IP
	order   []*cacheEntry      // arrival order: a FIFO ring of len size
	head, n int
}

func newResponseCache(size, perIP int, ttl time.Duration) *responseCache {
	return &responseCache{
		ttl: ttl, size: size, perIP: perIP, entries: make(map[cacheKey]*cacheEntry),
		byIP: make(map[netip.Addr]int), order: make([]*cacheEntry, size),
	}
}

// lookup reports the state of key and, when answered, its answer.
func (c *responseCache) lookup(key cacheKey) (cacheState, []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	switch {
	case !ok:
		return cacheMiss, nil
	case e.answer == nil:
		return cacheInFlight, nil
	default:
		return cacheAnswered, e.answer
	}
}

// begin outcomes.
type beginState int

const (
	begun      beginState = iota // key is in flight now
	beginKnown                   // key is known already (a retransmit raced in)
	beginFull                    // the cache is full of entries younger than ttl
	beginQuota                   // ip holds its share of the cache
)

// begin marks key, sent from ip, in flight.
func (c *responseCache) begin(key cacheKey, ip netip.Addr, now time.Time) beginState {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.entries[key]; ok {
		return beginKnown
	}
	c.expire(now)
	if c.byIP[ip] >= c.perIP {
		return beginQuota
	}
	if c.n == c.size {
		oldest := c.order[c.head]
		if now.Sub(oldest.at) < c.ttl || oldest.answer == nil {
			return beginFull
		}
		c.pop()
	}
	e := &cacheEntry{key: key, ip: ip, at: now}
	c.entries[key] = e
	c.order[(c.head+c.n)%c.size] = e
	c.n++
	c.byIP[ip]++
	return begun
}

// finish stores a copy of the answer of an in-flight key (the caller
// may reuse answer's array).
func (c *responseCache) finish(key cacheKey, answer []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[key]; ok {
		if len(answer) <= len(e.inline) {
			e.answer = append(e.inline[:0:len(e.inline)], answer...)
		} else {
			e.answer = bytes.Clone(answer)
		}
	}
}

// expire drops answered entries older than ttl from the front.
func (c *responseCache) expire(now time.Time) {
	for c.n > 0 {
		e := c.order[c.head]
		if now.Sub(e.at) < c.ttl || e.answer == nil {
			return
		}
		c.pop()
	}
}

func (c *responseCache) pop() {
	e := c.order[c.head]
	c.order[c.head] = nil
	c.head = (c.head + 1) % c.size
	c.n--
	if c.byIP[e.ip]--; c.byIP[e.ip] <= 0 {
		delete(c.byIP, e.ip)
	}
	if cur, ok := c.entries[e.key]; ok && cur == e {
		delete(c.entries, e.key)
	}
}

// len reports how many requests the cache remembers.
func (c *responseCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// abort forgets an in-flight key whose request was not executed or whose
// answer must not be repeated (a discovery the server stays silent to).
func (c *responseCache) abort(key cacheKey) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[key]; ok && e.answer == nil {
		e.answer = []byte{} // lets expire pass it in the ring
		delete(c.entries, key)
	}
}
