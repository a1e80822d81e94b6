package sentinel

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/licensegw/licensegw/plugins/sentinel/wire"
	"github.com/licensegw/licensegw/sdk"
)

// sweepInterval is how often abandoned tickets are swept and the counters
// logged when they changed.
const sweepInterval = 5 * time.Second

// server serves one packet conn.
type server struct {
	conn    net.PacketConn
	fast    addrPortConn // conn, when it reads addresses without allocating
	seats   sdk.Seats
	log     hclog.Logger
	opts    options
	now     func() time.Time
	version string
	groups  groupIndex

	cache   *responseCache
	limiter *limiter
	tickets *tickets
	stats   *counters
	jobs    chan job
	// access is the plugin block's allow and status_allow (nil: none);
	// the SDK has applied allow to conn already.
	access *sdk.Access
}

// job is a decoded request waiting for a worker.
type job struct {
	req    wire.Request
	size   int // the request datagram's size: the answer may be three times that
	addr   netip.AddrPort
	key    cacheKey
	cached bool // key is in flight in the cache
}

// addrPortConn is a packet conn that reads and writes UDP addresses
// without allocating them (a *net.UDPConn).
type addrPortConn interface {
	ReadFromUDPAddrPort(b []byte) (int, netip.AddrPort, error)
	WriteToUDPAddrPort(b []byte, addr netip.AddrPort) (int, error)
}

// serve reads datagrams until ctx is done. Workers execute requests; the
// read loop only checks, deduplicates and hands over, so a slow gateway
// never stops it from reading.
func (s *server) serve(ctx context.Context) error {
	var wg sync.WaitGroup
	for range s.opts.workers {
		wg.Go(func() {
			var buf []byte // the worker's answers are encoded here
			cctx := newCallContext(ctx)
			defer cctx.release()
			var resp wire.Response // the worker's frequent answers
			for j := range s.jobs {
				buf = s.work(cctx, &j, &resp, buf)
			}
		})
	}
	stop := context.AfterFunc(ctx, func() { s.conn.SetReadDeadline(time.Now()) })
	defer stop()
	wg.Go(func() { s.housekeep(ctx) })
	s.fast, _ = s.conn.(addrPortConn)

	err := s.readLoop(ctx)
	close(s.jobs)
	wg.Wait()
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
	defer cancel()
	s.tickets.cancelAll(cctx, s.seats)
	s.log.Info("sentinel server stopped", s.stats.snapshot().logArgs()...)
	return err
}

func (s *server) readLoop(ctx context.Context) error {
	// One byte more than the largest datagram tells an oversized one apart.
	buf := make([]byte, wire.MaxDatagram+1)
	names := names{}
	for {
		n, addr, err := s.readFrom(buf)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return err
		}
		s.stats.received.Inc()
		s.datagram(buf[:n], addr, names)
	}
}

// readFrom reads a datagram and its sender, whose address is unmapped
// (an IPv4 client of a dual-stack socket reads as IPv4).
func (s *server) readFrom(b []byte) (int, netip.AddrPort, error) {
	if s.fast != nil {
		n, ap, err := s.fast.ReadFromUDPAddrPort(b)
		return n, netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), err
	}
	n, addr, err := s.conn.ReadFrom(b)
	if err != nil {
		return n, netip.AddrPort{}, err
	}
	return n, addrPortOf(addr), nil
}

// addrPortOf is addr as an unmapped netip.AddrPort.
func addrPortOf(addr net.Addr) netip.AddrPort {
	var ap netip.AddrPort
	if u, ok := addr.(*net.UDPAddr); ok {
		ap = u.AddrPort()
	} else if p, err := netip.ParseAddrPort(addr.String()); err == nil {
		ap = p
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

// names interns the strings of requests (features, users, hosts), so
// that a client asking again costs no allocation for them. It is the read
// loop's own, and bounded.
type names map[string]string

const maxNames = 4096

func (n names) intern(b []byte) string {
	if s, ok := n[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(n) >= maxNames {
		clear(n)
	}
	n[s] = s
	return s
}

// datagram decides what becomes of one datagram: dropped, answered from
// the cache, or decoded and queued for a worker.
func (s *server) datagram(b []byte, addr netip.AddrPort, names names) {
	now := s.now()
	if !s.limiter.allow(addr.Addr(), now) {
		s.stats.rateLimited.Inc()
		return
	}
	j := job{size: len(b), addr: addr}
	err := wire.DecodeRequestInto(b, &j.req, names.intern)
	if err != nil {
		s.stats.malformed.Inc()
		s.log.Trace("dropped malformed datagram", "from", addr, "error", err)
		return
	}
	if !mutates(j.req.Type) {
		// Queries are idempotent: a retransmit is simply answered again,
		// and the cache keeps its room for requests that change state.
		s.enqueue(j)
		return
	}
	key := cacheKey{addr: addr, id: j.req.ID}
	switch state, answer := s.cache.lookup(key); state {
	case cacheInFlight:
		s.stats.inFlight.Inc()
		return
	case cacheAnswered:
		s.stats.cacheHits.Inc()
		// The answer was sized for the first datagram; a shorter copy
		// with the same id must not turn it into an amplifier.
		if len(answer) <= wire.Amplification*len(b) {
			s.send(answer, addr)
		}
		return
	}
	switch s.cache.begin(key, addr.Addr(), now) {
	case beginKnown:
		s.stats.inFlight.Inc()
		return
	case beginFull:
		s.stats.busy.Inc()
		return
	case beginQuota:
		s.stats.overShare.Inc()
		return
	}
	j.key, j.cached = key, true
	s.enqueue(j)
}

// enqueue hands a job to the workers, or drops it when all are busy and
// the backlog is full: the client retransmits.
func (s *server) enqueue(j job) {
	select {
	case s.jobs <- j:
	default:
		if j.cached {
			s.cache.abort(j.key)
		}
		s.stats.busy.Inc()
	}
}

// mutates reports whether requests of type t change state, so that a
// retransmit must be answered from the cache rather than executed again.
func mutates(t wire.Type) bool {
	switch t {
	case wire.Features, wire.Clients, wire.Discover, wire.Poll:
		return false
	}
	return true
}

// work executes one request, remembers its answer and sends it; buf is
// the worker's encoding buffer, returned for the next request.
func (s *server) work(ctx *callContext, j *job, out *wire.Response, buf []byte) []byte {
	ctx.begin(s.opts.callTimeout)
	resp := s.execute(ctx, &j.req, j.addr, out)
	ctx.end()
	if resp == nil {
		if j.cached {
			s.cache.abort(j.key)
		}
		s.stats.silent.Inc()
		return buf
	}
	resp.ID, resp.Type = j.req.ID, j.req.Type
	limit := wire.Amplification * j.size
	answer, err := wire.AppendResponse(buf, resp, j.req.Cursor, limit)
	if err != nil {
		if !errors.Is(err, wire.ErrTooLarge) {
			s.log.Error("encoding an answer", "type", j.req.Type, "error", err)
		}
		status := wire.TooLarge
		if !errors.Is(err, wire.ErrTooLarge) {
			status = wire.Internal
		}
		// A status-only answer is 13 bytes: it always fits.
		answer, _ = wire.AppendResponse(buf, &wire.Response{ID: j.req.ID, Type: j.req.Type, Status: status}, 0, limit)
	}
	if cap(answer) <= 4<<10 {
		buf = answer // keep an ordinary buffer; let a rare big one go
	}
	if j.cached {
		s.cache.finish(j.key, answer) // a copy of its own
	}
	s.send(answer, j.addr)
	return buf
}

func (s *server) send(b []byte, addr netip.AddrPort) {
	var err error
	if s.fast != nil {
		_, err = s.fast.WriteToUDPAddrPort(b, addr)
	} else {
		_, err = s.conn.WriteTo(b, net.UDPAddrFromAddrPort(addr))
	}
	if err != nil {
		s.log.Debug("sending an answer", "to", addr, "error", err)
		return
	}
	s.stats.answered.Inc()
}

// housekeep sweeps abandoned queue tickets and logs the counters.
func (s *server) housekeep(ctx context.Context) {
	t := time.NewTicker(sweepInterval)
	defer t.Stop()
	var last Stats
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s.tickets.sweep(ctx, s.seats)
		if st := s.stats.snapshot(); st != last {
			s.log.Debug("sentinel counters", st.logArgs()...)
			if st.Malformed != last.Malformed || st.RateLimited != last.RateLimited || st.Busy != last.Busy {
				s.log.Info("sentinel dropped datagrams", st.logArgs()...)
			}
			last = st
		}
	}
}
