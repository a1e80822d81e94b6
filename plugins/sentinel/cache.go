package sentinel

import (
	"sync"
	"time"
)

// cacheKey identifies a request: who sent it and the id it chose.
type cacheKey struct {
	addr string
	id   uint64
}

// cacheEntry is a request being executed (answer nil) or answered.
type cacheEntry struct {
	key    cacheKey
	at     time.Time // when the request arrived
	answer []byte    // nil while in flight
}

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
type responseCache struct {
	mu      sync.Mutex
	ttl     time.Duration
	size    int
	entries map[cacheKey]*cacheEntry
	order   []*cacheEntry // arrival order: a FIFO ring of len size
	head, n int
}

func newResponseCache(size int, ttl time.Duration) *responseCache {
	return &responseCache{ttl: ttl, size: size, entries: make(map[cacheKey]*cacheEntry, size), order: make([]*cacheEntry, size)}
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

// begin marks key in flight. It returns false when key is known already
// (a retransmit raced in) or the cache is full of entries younger than ttl.
func (c *responseCache) begin(key cacheKey, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.entries[key]; ok {
		return false
	}
	c.expire(now)
	if c.n == c.size {
		oldest := c.order[c.head]
		if now.Sub(oldest.at) < c.ttl || oldest.answer == nil {
			return false
		}
		c.pop()
	}
	e := &cacheEntry{key: key, at: now}
	c.entries[key] = e
	c.order[(c.head+c.n)%c.size] = e
	c.n++
	return true
}

// finish stores the answer of an in-flight key.
func (c *responseCache) finish(key cacheKey, answer []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[key]; ok {
		e.answer = answer
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
