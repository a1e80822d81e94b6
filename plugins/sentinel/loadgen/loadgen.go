package loadgen

import (
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
	"strconv"
	"sync"
	"time"

	clm "github.com/licensegw/licensegw/plugins/concurrentlm/loadgen"
	"github.com/licensegw/licensegw/plugins/sentinel/wire"
)

// retransmitAfter is how long a client waits for an answer before it sends
// the request again.
const retransmitAfter = 250 * time.Millisecond

// Run loads the Sentinel-style server at o.Addr (UDP): each client cycles
// CHECKOUT (o.Feature) -> REFRESH -> RELEASE on its token. The feature
// needs o.Clients free tokens, and the server a rate limit above the run's
// request rate (every client comes from one address).
func Run(ctx context.Context, o clm.Options) (clm.Report, error) {
	if o.Addr == "" {
		return clm.Report{}, errors.New("sentinel loadgen: Options.Addr is required")
	}
	return clm.Drive(ctx, "sentinel", o, func(n int) (clm.Cycler, error) { return dial(o, n, false) })
}

// Echo starts a UDP echo server on 127.0.0.1 and loads it with the
// datagrams Run sends; o.Addr is ignored.
func Echo(ctx context.Context, o clm.Options) (clm.Report, error) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return clm.Report{}, fmt.Errorf("sentinel loadgen: echo socket: %w", err)
	}
	var wg sync.WaitGroup
	// As many readers as the server has workers' worth of processors.
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() { serveEcho(pc) })
	}
	defer func() { pc.Close(); wg.Wait() }()
	o.Addr = pc.LocalAddr().String()
	return clm.Drive(ctx, "udp-echo", o, func(n int) (clm.Cycler, error) { return dial(o, n, true) })
}

// client is one socket's worth of requests. Its request, answer and
// buffers are reused, as a client library that cares would: the load
// generator's own cost is part of every figure it reports.
type client struct {
	o     clm.Options
	n     int
	host  string
	uc    *net.UDPConn
	echo  bool
	id    uint64
	out   []byte
	in    []byte
	req   wire.Request
	resp  wire.Response
	echoR wire.Request      // an echoed datagram, decoded as the server does
	names map[string]string // the echo's decoded names, as the server interns them
	stop  chan struct{}
	close sync.Once
}

func dial(o clm.Options, n int, echo bool) (*client, error) {
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Second
	}
	ua, err := net.ResolveUDPAddr("udp", o.Addr)
	if err != nil {
		return nil, err
	}
	uc, err := net.DialUDP("udp", nil, ua)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", o.Addr, err)
	}
	// Ids start far apart per client and per socket, as a real client's
	// random start would, so no two clients' cache keys meet.
	return &client{o: o, n: n, host: strconv.Itoa(n), uc: uc, echo: echo, id: uint64(time.Now().UnixNano()),
		in: make([]byte, wire.MaxDatagram), names: map[string]string{}, stop: make(chan struct{})}, nil
}

// Interrupt implements clm.Cycler.
func (c *client) Interrupt() {
	c.close.Do(func() { close(c.stop) })
	_ = c.uc.SetDeadline(time.Now())
}

// Close implements clm.Cycler.
func (c *client) Close() error { return c.uc.Close() }

var errNoAnswer = errors.New("no answer")

// intern is the echo's decoding of names, as the server's.
func (c *client) intern(b []byte) string {
	if s, ok := c.names[string(b)]; ok {
		return s
	}
	s := string(b)
	c.names[s] = s
	return s
}

// exchange sends c.req until its answer comes, recording the latency; the
// answer is c.resp, valid until the next exchange. An echo client gets
// its own datagram back and decodes it as a request.
func (c *client) exchange(t *clm.Tally) (*wire.Response, error) {
	c.id++
	req := &c.req
	req.ID = c.id
	var err error
	if c.out, err = wire.AppendRequest(c.out, req, 0); err != nil {
		return nil, err
	}
	start := time.Now()
	for giveUp := start.Add(c.o.Timeout); ; {
		if _, err := c.uc.Write(c.out); err != nil {
			return nil, err
		}
		wait := time.Now().Add(retransmitAfter)
		if wait.After(giveUp) {
			wait = giveUp
		}
		_ = c.uc.SetReadDeadline(wait)
		for {
			n, err := c.uc.Read(c.in)
			if err != nil {
				var ne net.Error
				if !errors.As(err, &ne) || !ne.Timeout() {
					return nil, err
				}
				break // retransmit, or give up
			}
			if c.echo {
				r := &c.echoR
				if err := wire.DecodeRequestInto(c.in[:n], r, c.intern); err != nil || r.ID != req.ID {
					continue
				}
				t.Lat = append(t.Lat, time.Since(start))
				c.resp = wire.Response{ID: r.ID, Status: wire.OK, Grant: wire.Grant{Handle: "h"}}
				return &c.resp, nil
			}
			resp := &c.resp
			if err := wire.DecodeResponseInto(c.in[:n], resp); err != nil || resp.ID != req.ID {
				continue // an answer to an earlier retransmission
			}
			t.Lat = append(t.Lat, time.Since(start))
			return resp, nil
		}
		select {
		case <-c.stop:
			return nil, errNoAnswer
		default:
		}
		if !time.Now().Before(giveUp) {
			return nil, fmt.Errorf("%v request %d: %w", req.Type, req.ID, errNoAnswer)
		}
		t.Retransmits++
	}
}

// sampleHandle has the length of a typical token handle (a lease id).
const sampleHandle = "l0123456789abcdef0123456789abcdef"

// Cycle implements clm.Cycler.
func (c *client) Cycle(t *clm.Tally) error {
	c.req = wire.Request{Type: wire.Checkout, Feature: c.o.Feature, Count: 1, User: "loadgen", Host: c.host}
	resp, err := c.exchange(t)
	if err != nil {
		return err
	}
	switch resp.Status {
	case wire.OK:
	case wire.NoSeats:
		t.Denied++
		return nil
	default:
		t.Errors++
		return nil
	}
	handle := resp.Grant.Handle
	if c.echo {
		handle = sampleHandle
	}
	for _, typ := range [...]wire.Type{wire.Refresh, wire.Release} {
		c.req = wire.Request{Type: typ, Handle: handle}
		resp, err := c.exchange(t)
		if err != nil {
			return err
		}
		if resp.Status != wire.OK {
			t.Errors++
		}
	}
	return nil
}

// serveEcho sends every datagram back to its sender until pc is closed.
func serveEcho(pc net.PacketConn) {
	buf := make([]byte, wire.MaxDatagram)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			return
		}
		_, _ = pc.WriteTo(buf[:n], from)
	}
}
