package loadgen

import (
	"bufio"
	"context"
	"errors"
	"fmt"
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

// client is one connection to the vendor daemon. It encodes its frames
// with a reused builder and reads answers into a reused frame, as a
// client library that cares would: the load generator's own cost is part
// of every figure it reports.
type client struct {
	o      clm.Options
	n      int
	host   string
	nc     net.Conn
	br     *bufio.Reader
	id     uint32
	handle int64
	w      wire.Builder
	ans    wire.Frame
	rbuf   []byte
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
	return &client{o: o, n: n, host: strconv.Itoa(n), nc: nc, br: bufio.NewReaderSize(nc, 4096)}, nil
}

func dial(o clm.Options, n int) (*client, error) {
	c, err := connect(o, n)
	if err != nil {
		return nil, err
	}
	var t clm.Tally
	c.begin(wire.Hello).Str(wire.TProgram, "licensegw-bench")
	ans, err := c.exchange(&t)
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

// begin starts the next request frame, of type typ, in c's builder.
func (c *client) begin(typ wire.Type) *wire.Builder {
	c.id++
	return c.w.Begin(typ, c.id)
}

// exchange sends the frame built since begin and reads its answer into
// c.ans (valid until the next exchange), recording the latency.
func (c *client) exchange(t *clm.Tally) (*wire.Frame, error) {
	b, err := c.w.Finish()
	if err != nil {
		return nil, err
	}
	start := time.Now()
	_ = c.nc.SetDeadline(start.Add(c.o.Timeout))
	if _, err := c.nc.Write(b); err != nil {
		return nil, err
	}
	if c.rbuf, err = wire.ReadInto(c.br, &c.ans, c.rbuf); err != nil {
		return nil, err
	}
	if c.ans.ID != c.id {
		return nil, fmt.Errorf("answer to %d for request %d", c.ans.ID, c.id)
	}
	t.Lat = append(t.Lat, time.Since(start))
	return &c.ans, nil
}

// The frames of a cycle; the echo cycle sends the same ones.
func (c *client) checkout() {
	c.begin(wire.Checkout).Str(wire.TFeature, c.o.Feature).Str(wire.TVendor, c.o.Vendor).
		Int(wire.TCount, 1).Str(wire.TUser, "loadgen").Str(wire.THost, c.host)
}

func (c *client) onHandle(t wire.Type, handle int64) {
	c.begin(t).Int(wire.THandle, handle)
}

// Cycle implements clm.Cycler.
func (c *client) Cycle(t *clm.Tally) error {
	c.checkout()
	ans, err := c.exchange(t)
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
	for _, step := range [...]struct{ req, want wire.Type }{{wire.Heartbeat, wire.HeartbeatOK}, {wire.Checkin, wire.OK}} {
		c.onHandle(step.req, c.handle)
		ans, err := c.exchange(t)
		if err != nil {
			return err
		}
		if ans.Type != step.want {
			t.Errors++
		}
	}
	return nil
}

// echoClient sends a cycle's frames to an echo server and reads each
// back, encoded and decoded as the vendor daemon's are.
type echoClient struct {
	*client
}

// sampleHandle is a handle of typical size.
const sampleHandle = 123456

// Cycle implements clm.Cycler.
func (e *echoClient) Cycle(t *clm.Tally) error {
	for i := range 3 {
		switch i {
		case 0:
			e.checkout()
		case 1:
			e.onHandle(wire.Heartbeat, sampleHandle)
		default:
			e.onHandle(wire.Checkin, sampleHandle)
		}
		if _, err := e.exchange(t); err != nil {
			return err
		}
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
