package concurrentlm

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/licensegw/licensegw/plugins/concurrentlm/wire"
	"github.com/licensegw/licensegw/sdk"
)

// amplification is the most a UDP answer may be, as a multiple of the
// request datagram's size.
const amplification = 3

// udpLoop answers datagrams until pc is closed. Several run on one socket,
// so a slow gateway call does not hold up other clients.
func (s *server) udpLoop(ctx context.Context, pc net.PacketConn) {
	buf := make([]byte, wire.MaxLine+3) // room to see that a datagram is too long
	out := make([]byte, 0, 512)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			s.log.Debug("udp read failed", "error", err)
			continue
		}
		out = s.handleDatagram(ctx, buf[:n], addrPort(from), out[:0])
		if len(out) > 0 {
			if _, err := pc.WriteTo(out, from); err != nil {
				s.log.Debug("udp write failed", "to", from, "error", err)
			}
		}
	}
}

// handleDatagram answers one datagram into out (without LF), or leaves out
// empty to send nothing. The answer is never longer than three times the
// datagram.
func (s *server) handleDatagram(ctx context.Context, d []byte, from netip.AddrPort, out []byte) []byte {
	limit := amplification * len(d)
	if len(d) == 0 {
		return out
	}
	s.stats.datagrams.Inc()
	allowed := s.ips.allow(s.ips.get(from.Addr()))
	var r wire.Request
	err := wire.ParseLine(string(d), &r)
	id := r.ID()
	switch {
	case errors.Is(err, wire.ErrEmptyLine):
		return out
	case err != nil:
		s.stats.malformedUDP.Inc()
		var we *wire.Error
		code, msg := wire.CodeBadRequest, err.Error()
		if errors.As(err, &we) {
			code, msg = we.Code, we.Message
		}
		return fitErr(out, code, msg, id, limit)
	case !allowed:
		s.stats.limitedUDP.Inc()
		return fitErr(out, wire.CodeTooManyRequests, "request rate limit; slow down", id, limit)
	case id == "":
		return fitErr(out, wire.CodeBadRequest, "UDP requests need id=", "", limit)
	}

	if r.Verb == wire.Checkout && grantBound(&r) > limit {
		// Refused before it runs: a grant the client could not be sent
		// would be taken and given back, two journal events for nothing.
		return fitErr(out, wire.CodeTooLarge, "a GRANTED may be longer than 3x this request; add pad=", id, limit)
	}
	if !remembered(r.Verb) {
		// Stateless: a retransmit is simply answered again, and the
		// cache keeps its room for requests that change state.
		resp, _ := s.handle(ctx, &r, nil, from.String(), limit, out)
		resp = resp[:len(resp)-1]
		if len(resp) <= limit {
			return resp
		}
		return fitErr(resp[:0], wire.CodeTooLarge, "answer longer than 3x the request; add pad=", id, limit)
	}

	key := cacheKey{from: from, id: id}
	cached, state := s.cache.begin(key, time.Now())
	switch state {
	case cachePending:
		s.stats.udpDropped.Inc()
		return out // the first copy is still being answered; the client will retry
	case cacheFull:
		return fitErr(out, wire.CodeTooManyRequests, "server busy; retry", id, limit)
	case cacheQuota:
		return fitErr(out, wire.CodeTooManyRequests, "too many requests from this address in the last minutes; retry later", id, limit)
	case cacheHit:
		s.stats.cacheHits.Inc()
		if len(cached) <= limit {
			return append(out, cached...)
		}
		return fitErr(out, wire.CodeTooLarge, "answer longer than 3x the request; add pad=", id, limit)
	}

	resp, aft := s.handle(ctx, &r, nil, from.String(), limit, out)
	resp = resp[:len(resp)-1] // the trailing LF: a datagram is one line
	if len(resp) <= limit {
		s.cache.finish(key, resp)
		return resp
	}
	// Too long to send. Nothing may have changed for a client that never
	// learns the answer, so a grant is given straight back, and nothing is
	// cached: the client's padded retry with the same id runs afresh.
	s.cache.abort(key)
	if aft.grant != nil {
		if err := s.seats.Checkin(context.WithoutCancel(ctx), aft.grant.Lease); err != nil {
			s.log.Warn("could not give back an unsendable UDP grant", "lease", aft.grant.Lease, "error", err)
		}
	}
	return fitErr(resp[:0], wire.CodeTooLarge, "answer longer than 3x the request; add pad=", id, limit)
}

// remembered reports whether answers to v are kept for retransmits: those
// of requests that change state. The others (PING, QUIT, HELLO, STATUS)
// give the same answer when run again, so they cost no cache room, and a
// flood of them cannot crowd out anyone's CHECKOUT.
func remembered(v wire.Verb) bool {
	switch v {
	case wire.Checkout, wire.Heartbeat, wire.Checkin, wire.Cancel:
		return true
	}
	return false
}

// Bounds of the parts of a GRANTED that the request does not determine.
const (
	maxLeaseLen = 26        // the engine's "L" + decimal counter, or a ULID
	maxTTL      = 999999999 // ttl= seconds: nine digits (31 years)
	sigLen      = 86        // an Ed25519 signature in base64url
)

// grantBound is the longest GRANTED line (without LF) that could answer
// the CHECKOUT r: a UDP CHECKOUT shorter than a third of it is answered
// too-large without being executed.
func grantBound(r *wire.Request) int {
	count := 1
	if n, ok := wire.ParseNumber(r.Value(wire.KeyCount), maxCount); ok {
		count = int(n)
	}
	g := sdk.Grant{
		Lease: strings.Repeat("L", maxLeaseLen), Feature: r.Value(wire.KeyFeature), Count: count,
		TTL: maxTTL * time.Second, Expires: time.Date(2026, 11, 29, 23, 59, 59, 0, time.UTC),
	}
	if signRequested(r) {
		g.Signature = make([]byte, 64)
	}
	var buf [512]byte
	b := appendGrant(append(buf[:0], "GRANTED"...), &g)
	b = endLine(b, r.ID())
	return len(b) - 1
}

// fitErr appends an ERR, dropping its message and then the whole answer
// when they do not fit in limit.
func fitErr(out []byte, code, msg, id string, limit int) []byte {
	start := len(out)
	out = wire.AppendError(out, code, msg, id)
	if len(out)-start <= limit {
		return out
	}
	out = wire.AppendError(out[:start], code, "", id)
	if len(out)-start <= limit {
		return out
	}
	return out[:start]
}

type cacheKey struct {
	from netip.AddrPort
	id   string
}

type cacheState int

const (
	cacheMiss    cacheState = iota // execute, then finish or abort
	cachePending                   // being executed now
	cacheHit                       // answer known
	cacheFull                      // no room: do not execute
	cacheQuota                     // the source IP has its share: do not execute
)

type cacheEntry struct {
	key     cacheKey
	resp    []byte
	pending bool
	at      time.Time
}

// udpCache remembers UDP answers by (source address, id) for at least its
// TTL. It is bounded: when full of answers younger than the TTL it refuses
// new requests (too-many-requests) rather than forget an answer early,
// since forgetting could let a retransmitted CHECKOUT take a second seat.
//
// Each source IP may hold at most perIP entries, so that one address (or
// a flood spoofing it) cannot fill the cache and lock everyone else out:
// filling it takes max/perIP addresses.
type udpCache struct {
	mu    sync.Mutex
	max   int
	perIP int
	ttl   time.Duration
	m     map[cacheKey]*cacheEntry
	byIP  map[netip.Addr]int // live entries per source IP
	fifo  []*cacheEntry      // insertion order; entries may be stale (aborted)
	head  int
}

func newUDPCache(max, perIP int, ttl time.Duration) *udpCache {
	return &udpCache{max: max, perIP: perIP, ttl: ttl, m: make(map[cacheKey]*cacheEntry), byIP: make(map[netip.Addr]int)}
}

func (c *udpCache) begin(k cacheKey, now time.Time) ([]byte, cacheState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.expire(now)
	if e, ok := c.m[k]; ok {
		if e.pending {
			return nil, cachePending
		}
		return e.resp, cacheHit
	}
	if c.byIP[k.from.Addr()] >= c.perIP {
		return nil, cacheQuota
	}
	if len(c.m) >= c.max {
		return nil, cacheFull
	}
	e := &cacheEntry{key: k, pending: true, at: now}
	c.m[k] = e
	c.byIP[k.from.Addr()]++
	c.fifo = append(c.fifo, e)
	return nil, cacheMiss
}

// expire drops entries older than the TTL from the front; c.mu held.
func (c *udpCache) expire(now time.Time) {
	for c.head < len(c.fifo) {
		e := c.fifo[c.head]
		if c.m[e.key] == e {
			if e.pending || now.Sub(e.at) < c.ttl {
				break
			}
			c.remove(e.key)
		}
		c.fifo[c.head] = nil
		c.head++
	}
	if c.head > 1024 && c.head*2 > len(c.fifo) {
		c.fifo = append(c.fifo[:0], c.fifo[c.head:]...)
		c.head = 0
	}
}

func (c *udpCache) finish(k cacheKey, resp []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[k]; ok {
		e.resp = append([]byte(nil), resp...)
		e.pending = false
	}
}

func (c *udpCache) abort(k cacheKey) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[k]; ok {
		c.remove(k)
	}
}

// remove forgets the live entry k; c.mu held.
func (c *udpCache) remove(k cacheKey) {
	delete(c.m, k)
	ip := k.from.Addr()
	if c.byIP[ip]--; c.byIP[ip] <= 0 {
		delete(c.byIP, ip)
	}
}

// len reports the number of remembered answers.
func (c *udpCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}
