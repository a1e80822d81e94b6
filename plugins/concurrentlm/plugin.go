package concurrentlm

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/licensegw/licensegw/sdk"
)

// Version is the plugin's version, reported in Info and in HELLO.
const Version = "1.0.0"

// Name is the protocol name.
const Name = "concurrent-lm"

// Listener names in Env.Listeners / Env.PacketConns.
const (
	ListenerTCP = "tcp"
	ListenerUDP = "udp"
)

type plugin struct{}

// New returns the concurrent-lm protocol plugin.
func New() sdk.Protocol { return plugin{} }

// Info implements sdk.Protocol.
func (plugin) Info() sdk.Info {
	return sdk.Info{
		Name:        Name,
		Version:     Version,
		APIVersion:  sdk.APIVersion,
		Description: "concurrent-lm (CLM/1) line protocol for applications, TCP and UDP 1648",
		Listeners: []sdk.ListenerSpec{
			{Name: ListenerTCP, Network: "tcp", Address: ":1648"},
			{Name: ListenerUDP, Network: "udp", Address: ":1648"},
		},
		Config: schema(),
	}
}

// Serve implements sdk.Protocol.
func (plugin) Serve(ctx context.Context, env *sdk.Env) error {
	lim, err := limitsFromConfig(env.Config)
	if err != nil {
		return err
	}
	ln, pc := env.Listeners[ListenerTCP], env.PacketConns[ListenerUDP]
	if ln == nil && pc == nil {
		return fmt.Errorf("concurrent-lm: no %q listener and no %q packet conn", ListenerTCP, ListenerUDP)
	}
	s := newServer(ctx, env.Seats, env.Logger, lim)
	s.stats = newCounters(env.Metrics)
	s.access = env.Access
	return s.serve(ctx, ln, pc)
}

// server is one running instance of the protocol.
type server struct {
	seats sdk.Seats
	log   hclog.Logger
	lim   Limits
	ips   *ipTable
	cache *udpCache
	stats *counters
	// access is the plugin block's allow and status_allow (nil: none);
	// the SDK has applied allow to the sockets already.
	access *sdk.Access

	nconns atomic.Int64
	mu     sync.Mutex
	conns  map[*conn]struct{}
	wg     sync.WaitGroup // connections and UDP workers

	slots   sync.Pool // *slot
	writers sync.Pool // *bufio.Writer of writeBuffer bytes, lent to connections with output pending
}

func newServer(ctx context.Context, seats sdk.Seats, log hclog.Logger, lim Limits) *server {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	return &server{
		seats: seats,
		log:   log,
		lim:   lim,
		ips:   newIPTable(lim.Rate, lim.Burst),
		cache: newUDPCache(lim.UDPCacheSize, lim.UDPCacheSizePerIP, lim.UDPCacheTTL),
		conns: make(map[*conn]struct{}),
		stats: newCounters(nil),
	}
}

// serve runs until ctx is done or the TCP listener fails.
func (s *server) serve(ctx context.Context, ln net.Listener, pc net.PacketConn) error {
	if ln != nil {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.acceptLoop(ctx, ln)
		}()
	}
	if pc != nil {
		for range max(1, s.lim.UDPWorkers) {
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				s.udpLoop(ctx, pc)
			}()
		}
	}
	sweep := time.NewTicker(time.Minute)
	defer sweep.Stop()
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-sweep.C:
			s.ips.sweep()
		}
	}
	if ln != nil {
		ln.Close()
	}
	if pc != nil {
		pc.Close()
	}
	s.mu.Lock()
	for c := range s.conns {
		c.nc.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return ctx.Err()
}

// acceptLoop accepts until ln is closed. Accept errors (out of file
// descriptors and the like) are retried with backoff, as net/http does:
// the gateway owns the socket, so giving up would only restart the plugin.
func (s *server) acceptLoop(ctx context.Context, ln net.Listener) {
	var delay time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			delay = max(5*time.Millisecond, min(2*delay, time.Second))
			s.log.Warn("accept failed; retrying", "error", err, "delay", delay)
			select {
			case <-ctx.Done():
				return
			case <-time.After(delay):
			}
			continue
		}
		delay = 0
		s.admit(ctx, nc)
	}
}

// admit starts serving nc unless a connection limit says no, in which case
// the client is told so and disconnected.
func (s *server) admit(ctx context.Context, nc net.Conn) {
	refuse := func(msg string) {
		s.log.Debug("connection refused", "remote", nc.RemoteAddr(), "why", msg)
		go func() {
			_ = nc.SetWriteDeadline(time.Now().Add(time.Second))
			_, _ = nc.Write(errLine(nil, "too-many-requests", msg, ""))
			nc.Close()
		}()
	}
	if s.nconns.Add(1) > int64(s.lim.MaxConns) {
		s.nconns.Add(-1)
		s.stats.refusedTotal.Inc()
		refuse("too many connections")
		return
	}
	ip, ok := s.ips.acquireConn(addrIP(nc.RemoteAddr()), s.lim.MaxConnsPerIP)
	if !ok {
		s.nconns.Add(-1)
		s.stats.refusedPerIP.Inc()
		refuse("too many connections from this address")
		return
	}
	c := newConn(s, nc, ip)
	s.stats.conns.Inc()
	s.stats.connsOpen.Add(1)
	s.mu.Lock()
	s.conns[c] = struct{}{}
	s.mu.Unlock()
	if ctx.Err() != nil {
		// Shutdown's sweep of s.conns may have run before the insert.
		nc.Close()
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		c.serve(ctx)
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		s.ips.releaseConn(ip)
		s.nconns.Add(-1)
		s.stats.connsOpen.Add(-1)
	}()
}
