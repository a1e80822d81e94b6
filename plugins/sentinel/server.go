package sentinel

import (
	"context"
	"errors"
	"net"
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
	req    *wire.Request
	size   int // the request datagram's size: the answer may be three times that
	addr   net.Addr
	key    cacheKey
	cached bool // key is in flight in the cache
}

// serve reads datagrams until ctx is done. Workers execute requests; the
// read loop only checks, deduplicates and hands over, so a slow gateway
// never stops it from reading.
func (s *server) serve(ctx context.Context) error {
	var wg sync.WaitGroup
	for range s.opts.workers {
		wg.Go(func() {
			for j := range s.jobs {
				s.work(ctx, j)
			}
		})
	}
	stop := context.AfterFunc(ctx, func() { s.conn.SetReadDeadline(time.Now()) })
	defer stop()
	wg.Go(func() { s.housekeep(ctx) })

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
	for {
		n, addr, err := s.conn.ReadFrom(buf)
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
		s.datagram(buf[:n], addr)
	}
}

// datagram decides what becomes of one datagram: dropped, answered from
// the cache, or decoded and queued for a worker.
func (s *server) datagram(b []byte, addr net.Addr) {
	now := s.now()
	if !s.limiter.allow(hostOf(addr), now) {
		s.stats.rateLimited.Inc()
		return
	}
	req, err := wire.DecodeRequest(b)
	if err != nil {
		s.stats.malformed.Inc()
		s.log.Trace("dropped malformed datagram", "from", addr, "error", err)
		return
	}
	if !mutates(req.Type) {
		// Queries are idempotent: a retransmit is simply answered again,
		// and the cache keeps its room for requests that change state.
		s.enqueue(job{req: req, size: len(b), addr: addr})
		return
	}
	key := cacheKey{addr: addr.String(), id: req.ID}
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
	switch s.cache.begin(key, hostOf(addr), now) {
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
	s.enqueue(job{req: req, size: len(b), addr: addr, key: key, cached: true})
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

// work executes one request, remembers its answer and sends it.
func (s *server) work(ctx context.Context, j job) {
	cctx, cancel := context.WithTimeout(ctx, s.opts.callTimeout)
	resp := s.execute(cctx, j.req, j.addr)
	cancel()
	if resp == nil {
		if j.cached {
			s.cache.abort(j.key)
		}
		s.stats.silent.Inc()
		return
	}
	resp.ID, resp.Type = j.req.ID, j.req.Type
	limit := wire.Amplification * j.size
	answer, err := wire.EncodeResponse(resp, j.req.Cursor, limit)
	if err != nil {
		if !errors.Is(err, wire.ErrTooLarge) {
			s.log.Error("encoding an answer", "type", j.req.Type, "error", err)
		}
		status := wire.TooLarge
		if !errors.Is(err, wire.ErrTooLarge) {
			status = wire.Internal
		}
		// A status-only answer is 13 bytes: it always fits.
		answer, _ = wire.EncodeResponse(&wire.Response{ID: j.req.ID, Type: j.req.Type, Status: status}, 0, limit)
	}
	if j.cached {
		s.cache.finish(j.key, answer)
	}
	s.send(answer, j.addr)
}

func (s *server) send(b []byte, addr net.Addr) {
	if _, err := s.conn.WriteTo(b, addr); err != nil {
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

// hostOf is the IP of addr, the unit of rate limiting.
func hostOf(addr net.Addr) string {
	if u, ok := addr.(*net.UDPAddr); ok {
		return u.IP.String()
	}
	host, _, err := net.SplitHostPort(addr.String())
	if err != nil {
		return addr.String()
	}
	return host
}
