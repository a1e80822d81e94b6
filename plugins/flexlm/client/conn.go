package client

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"sync"

	"github.com/licensegw/licensegw/plugins/flexlm/wire"
)

// streamBuffer is how many answers to one request may wait unread.
const streamBuffer = 64

// ErrClosed is returned by calls on a connection that has ended.
var ErrClosed = errors.New("flexlm client: connection closed")

// ServerError is an ERROR answer.
type ServerError struct {
	Code    int
	Message string
}

func (e *ServerError) Error() string { return fmt.Sprintf("%s (%d)", e.Message, e.Code) }

// waiter receives the answers to one request until quit is closed.
type waiter struct {
	ch   chan *wire.Frame
	quit chan struct{}
}

// conn is one framed connection; answers are matched to requests by id.
type conn struct {
	nc  net.Conn
	wmu sync.Mutex

	mu      sync.Mutex
	next    uint32
	pending map[uint32]*waiter
	err     error // why the connection ended
	done    chan struct{}
}

func dialConn(ctx context.Context, addr string) (*conn, error) {
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	c := &conn{nc: nc, pending: map[uint32]*waiter{}, done: make(chan struct{})}
	go c.read()
	return c, nil
}

func (c *conn) read() {
	r := bufio.NewReader(c.nc)
	for {
		f, err := wire.Read(r)
		if err != nil {
			c.end(err)
			return
		}
		if f.ID == 0 {
			if f.Type == wire.Error {
				c.end(&ServerError{Code: int(f.GetInt(wire.TCode)), Message: f.GetStr(wire.TMessage)})
				return
			}
			continue
		}
		c.mu.Lock()
		w := c.pending[f.ID]
		c.mu.Unlock()
		if w != nil {
			// A caller that stopped listening must not stall the other
			// requests on the connection.
			select {
			case w.ch <- f:
			case <-w.quit:
			case <-c.done:
				return
			}
		}
	}
}

func (c *conn) end(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return
	}
	c.err = fmt.Errorf("%w: %w", ErrClosed, err)
	close(c.done)
	c.nc.Close()
}

// Err reports why the connection ended, or nil.
func (c *conn) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

func (c *conn) close() error {
	c.end(errors.New("closed by client"))
	return nil
}

// start sends f with a fresh id and returns the channel of its answers and
// a function to stop listening.
func (c *conn) start(f *wire.Frame) (<-chan *wire.Frame, func(), error) {
	w := &waiter{ch: make(chan *wire.Frame, streamBuffer), quit: make(chan struct{})}
	c.mu.Lock()
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		return nil, nil, err
	}
	c.next++
	if c.next == 0 {
		c.next = 1
	}
	f.ID = c.next
	c.pending[f.ID] = w
	c.mu.Unlock()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			c.mu.Lock()
			delete(c.pending, f.ID)
			c.mu.Unlock()
			close(w.quit)
		})
	}
	c.wmu.Lock()
	err := wire.Write(c.nc, f)
	c.wmu.Unlock()
	if err != nil {
		stop()
		c.end(err)
		return nil, nil, c.Err()
	}
	return w.ch, stop, nil
}

// next waits for the next answer on ch.
func (c *conn) nextFrame(ctx context.Context, ch <-chan *wire.Frame) (*wire.Frame, error) {
	select {
	case f := <-ch:
		return f, nil
	case <-c.done:
		select { // an answer that arrived before the end still counts
		case f := <-ch:
			return f, nil
		default:
		}
		return nil, c.Err()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// request sends f and returns its single answer; an ERROR answer is
// returned as a *ServerError.
func (c *conn) request(ctx context.Context, f *wire.Frame) (*wire.Frame, error) {
	ch, stop, err := c.start(f)
	if err != nil {
		return nil, err
	}
	defer stop()
	ans, err := c.nextFrame(ctx, ch)
	if err != nil {
		return nil, err
	}
	if ans.Type == wire.Error {
		return nil, &ServerError{Code: int(ans.GetInt(wire.TCode)), Message: ans.GetStr(wire.TMessage)}
	}
	return ans, nil
}
