package loadgen

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"time"

	clm "github.com/licensegw/licensegw/plugins/concurrentlm/loadgen"
	"github.com/licensegw/licensegw/plugins/flexlm/wire"
)

// Run loads the vendor daemon at o.Addr (the vendor port, not lmgrd's):
// each client says HELLO, then cycles CHECKOUT (o.Feature, o.Vendor) ->
// HEARTBEAT -> CHECKIN on its handle. The feature needs o.Clients free
// seats.
func Run(ctx context.Context, o clm.Options) (clm.Report, error) {
	if o.Addr == "" {
		return clm.Report{}, errors.New("flexlm loadgen: Options.Addr is required")
	}
	return clm.Drive(ctx, "flexlm", o, func(n int) (clm.Cycler, error) { return dial(o, n) })
}

// Echo starts a raw TCP echo server on 127.0.0.1 and loads it with the
// frames Run sends, each echoed back whole; o.Addr is ignored.
func Echo(ctx context.Context, o clm.Options) (clm.Report, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return clm.Report{}, fmt.Errorf("flexlm loadgen: echo listener: %w", err)
	}
	var wg sync.WaitGroup
	wg.Go(func() { clm.ServeEcho(ln, echoBytes) })
	defer func() { ln.Close(); wg.Wait() }()
	o.Addr = ln.Addr().String()
	return clm.Drive(ctx, "tcp-echo", o, func(n int) (clm.Cycler, error) {
		c, err := connect(o, n)
		if err != nil {
			return nil, err
		}
		return &echoClient{client: c}, nil
	})
}

// client is one connection to the vendor daemon.
type client struct {
	o      clm.Options
	n      int
	nc     net.Conn
	br     *bufio.Reader
	id     uint32
	handle int64
}

func connect(o clm.Options, n int) (*client, error) {
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	o.Timeout = timeout
	nc, err := net.DialTimeout("tcp", o.Addr, timeout)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", o.Addr, err)
	}
	return &client{o: o, n: n, nc: nc, br: bufio.NewReaderSize(nc, 4096)}, nil
}

func dial(o clm.Options, n int) (*client, error) {
	c, err := connect(o, n)
	if err != nil {
		return nil, err
	}
	var t clm.Tally
	ans, err := c.exchange(&t, wire.New(wire.Hello, 0).Str(wire.TProgram, "licensegw-bench"))
	if err == nil && ans.Type != wire.HelloOK {
		err = fmt.Errorf("HELLO answered %s", ans.Type)
	}
	if err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// Interrupt implements clm.Cycler.
func (c *client) Interrupt() { _ = c.nc.SetDeadline(time.Now()) }

// Close implements clm.Cycler.
func (c *client) Close() error { return c.nc.Close() }

// exchange sends f and reads its answer, recording the latency.
func (c *client) exchange(t *clm.Tally, f *wire.Frame) (*wire.Frame, error) {
	c.id++
	f.ID = c.id
	b, err := f.Encode()
	if err != nil {
		return nil, err
	}
	start := time.Now()
	_ = c.nc.SetDeadline(start.Add(c.o.Timeout))
	if _, err := c.nc.Write(b); err != nil {
		return nil, err
	}
	ans, err := wire.Read(c.br)
	if err != nil {
		return nil, err
	}
	if ans.ID != f.ID {
		return nil, fmt.Errorf("answer to %d for request %d", ans.ID, f.ID)
	}
	t.Lat = append(t.Lat, time.Since(start))
	return ans, nil
}

// The frames of a cycle; the echo cycle sends the same ones.
func (c *client) checkout() *wire.Frame {
	return wire.New(wire.Checkout, 0).Str(wire.TFeature, c.o.Feature).Str(wire.TVendor, c.o.Vendor).
		Int(wire.TCount, 1).Str(wire.TUser, "loadgen").Str(wire.THost, strconv.Itoa(c.n))
}

func (c *client) onHandle(t wire.Type, handle int64) *wire.Frame {
	return wire.New(t, 0).Int(wire.THandle, handle)
}

// Cycle implements clm.Cycler.
func (c *client) Cycle(t *clm.Tally) error {
	ans, err := c.exchange(t, c.checkout())
	if err != nil {
		return err
	}
	switch ans.Type {
	case wire.Granted:
	case wire.Denied:
		t.Denied++
		return nil
	default:
		t.Errors++
		return nil
	}
	c.handle = ans.GetInt(wire.THandle)
	for _, step := range []struct{ req, want wire.Type }{{wire.Heartbeat, wire.HeartbeatOK}, {wire.Checkin, wire.OK}} {
		ans, err := c.exchange(t, c.onHandle(step.req, c.handle))
		if err != nil {
			return err
		}
		if ans.Type != step.want {
			t.Errors++
		}
	}
	return nil
}

// echoClient sends a cycle's frames to an echo server and reads each back.
type echoClient struct {
	*client
	buf []byte
}

// sampleHandle is a handle of typical size.
const sampleHandle = 123456

// Cycle implements clm.Cycler.
func (e *echoClient) Cycle(t *clm.Tally) error {
	for _, f := range []*wire.Frame{e.checkout(), e.onHandle(wire.Heartbeat, sampleHandle), e.onHandle(wire.Checkin, sampleHandle)} {
		b, err := f.Encode()
		if err != nil {
			return err
		}
		start := time.Now()
		_ = e.nc.SetDeadline(start.Add(e.o.Timeout))
		if _, err := e.nc.Write(b); err != nil {
			return err
		}
		if cap(e.buf) < len(b) {
			e.buf = make([]byte, len(b))
		}
		e.buf = e.buf[:len(b)]
		if _, err := io.ReadFull(e.br, e.buf); err != nil {
			return err
		}
		// Decoded, as the vendor daemon's answers are.
		if _, _, err := wire.Decode(e.buf); err != nil {
			return err
		}
		t.Lat = append(t.Lat, time.Since(start))
	}
	return nil
}

// echoBytes echoes bytes back on nc: one write per read.
func echoBytes(nc net.Conn) {
	buf := make([]byte, 4096)
	for {
		n, err := nc.Read(buf)
		if err != nil {
			return
		}
		if _, err := nc.Write(buf[:n]); err != nil {
			return
		}
	}
}
