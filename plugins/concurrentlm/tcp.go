package concurrentlm

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/licensegw/licensegw/plugins/concurrentlm/wire"
	"github.com/licensegw/licensegw/sdk"
)

// slot is one request's place in a connection's answer order.
type slot struct {
	req   wire.Request // kept here so that the pooled slot carries it
	buf   []byte
	done  bool // buf holds the complete answer
	flush bool // flush after writing: the reader found no further line buffered
	after after
	close bool // close the connection after writing (line-too-long)
}

// conn is one TCP session.
type conn struct {
	s    *server
	nc   net.Conn
	ip   *ipState
	addr string
	br   *bufio.Reader

	// mu guards the output side: the answer ring and the writer.
	mu       sync.Mutex
	bw       *bufio.Writer // borrowed from the server while output is pending; nil when idle
	ring     []*slot       // answers in request order, head first; grows up to MaxPipelined
	head, n  int
	werr     error
	wdl      time.Time // the write deadline last set
	inflight chan struct{}

	// sm guards the session state; the maps are made when first needed
	// (most connections never queue, many never bind).
	sm      sync.Mutex
	tickets map[string]*ticketWatch
	bound   map[string]struct{}

	done    chan struct{} // closed when the connection has ended
	watches sync.WaitGroup
}

// ticketWatch follows one queued checkout of this connection.
type ticketWatch struct {
	ticket    string
	id        string // the CHECKOUT's id=, echoed on its EVENT
	bind      bool
	updates   <-chan sdk.TicketUpdate
	cancelled atomic.Bool // the client sent CANCEL: no EVENT denied
}

// Buffers. An idle connection holds only a small read buffer: the write
// buffer is borrowed from a pool while answers are pending, a connection
// grows its read buffer to a whole line's worth only when a line does not
// fit the small one, and its answer ring to MaxPipelined only when a
// client pipelines that deep. So 10,000 idle clients cost a few KB each
// (BenchmarkIdleConnections), not the 8 KB of two full buffers.
const (
	smallRead   = 512
	writeBuffer = 4096
	smallRing   = 2
)

func newConn(s *server, nc net.Conn, ip *ipState) *conn {
	return &conn{
		s:        s,
		nc:       nc,
		ip:       ip,
		addr:     nc.RemoteAddr().String(),
		br:       bufio.NewReaderSize(nc, smallRead),
		ring:     make([]*slot, min(smallRing, s.lim.MaxPipelined)),
		inflight: make(chan struct{}, s.lim.MaxPipelined),
		done:     make(chan struct{}),
	}
}

// serve reads requests until the client goes, misbehaves or quits, then
// waits for the answers still owed, closes, and cleans up.
func (c *conn) serve(ctx context.Context) {
	c.readLoop(ctx)
	// Wait for every answer to be written: all in-flight tokens back.
	for range cap(c.inflight) {
		c.inflight <- struct{}{}
	}
	c.mu.Lock()
	c.flushLocked()
	werr := c.werr
	c.mu.Unlock()
	if werr == nil {
		c.linger()
	}
	c.nc.Close()
	close(c.done)
	c.cleanup(ctx)
}

// lingerTime bounds how long a closing connection drains what the client
// still sends.
const lingerTime = time.Second

// linger ends the connection gracefully: a close with unread input makes
// the kernel send a reset, which can destroy the last answer (a
// line-too-long ERR, a BYE) before the client reads it. So the server
// half-closes (FIN after the answers) and discards input until the client
// closes too or lingerTime passes.
func (c *conn) linger() {
	type closeWriter interface{ CloseWrite() error }
	cw, ok := c.nc.(closeWriter)
	if !ok || cw.CloseWrite() != nil {
		return
	}
	_ = c.nc.SetReadDeadline(time.Now().Add(lingerTime))
	_, _ = c.br.Discard(c.br.Buffered())
	_, _ = io.Copy(io.Discard, c.nc)
}

func (c *conn) readLoop(ctx context.Context) {
	idle := c.s.lim.IdleTimeout
	var deadlineSet time.Time
	for {
		if !c.lineBuffered() {
			c.requestFlush()
		}
		if now := time.Now(); now.Sub(deadlineSet) > idle/16 {
			deadlineSet = now
			_ = c.nc.SetReadDeadline(now.Add(idle))
		}
		line, err := c.br.ReadSlice('\n')
		switch {
		case err == nil:
		case errors.Is(err, bufio.ErrBufferFull) && c.br.Size() < wire.MaxLine+2:
			c.growReader(line)
			continue
		case errors.Is(err, bufio.ErrBufferFull):
			c.enqueueDone(errLine(nil, wire.CodeLineTooLong, "line longer than 4096 bytes", ""), true)
			return
		case isTimeout(err) && len(line) == 0 && c.exemptFromIdle():
			deadlineSet = time.Time{}
			continue
		default:
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && !isTimeout(err) {
				c.s.log.Debug("read failed", "remote", c.addr, "error", err)
			}
			return
		}
		if c.handleLine(ctx, line) {
			return
		}
	}
}

// growReader replaces the small read buffer, full with part of a line,
// by one that holds the longest line (a full buffer without LF is then a
// line too long); the part read so far is read again first.
func (c *conn) growReader(part []byte) {
	prefix := bytes.Clone(part)
	c.br = bufio.NewReaderSize(io.MultiReader(bytes.NewReader(prefix), c.nc), wire.MaxLine+2)
}

// handleLine parses and dispatches one line; it reports whether reading
// must stop (QUIT).
func (c *conn) handleLine(ctx context.Context, line []byte) (stop bool) {
	c.inflight <- struct{}{} // blocks while MaxPipelined answers are owed
	sl := c.s.newSlot()
	r := &sl.req
	err := wire.ParseLine(string(line), r)
	if errors.Is(err, wire.ErrEmptyLine) {
		c.s.putSlot(sl)
		<-c.inflight
		return false
	}
	allowed := c.s.ips.allow(c.ip) // garbage costs tokens too
	if err != nil {
		c.s.stats.malformedTCP.Inc()
		var we *wire.Error
		code, msg := wire.CodeBadRequest, err.Error()
		if errors.As(err, &we) {
			code, msg = we.Code, we.Message
		}
		sl.buf = errLine(sl.buf, code, msg, r.ID())
		// A line that only just fit the read buffer can still be too long
		// (4097 bytes + LF): the connection is closed all the same.
		tooLong := errors.Is(err, wire.ErrLineTooLong)
		sl.close = tooLong
		c.push(sl, true)
		return tooLong
	}
	if !allowed {
		c.s.stats.limitedTCP.Inc()
		sl.buf = errLine(sl.buf, wire.CodeTooManyRequests, "request rate limit; slow down", r.ID())
		c.push(sl, true)
		return false
	}
	// Requests of one connection run one after the other, in the order
	// they were sent: a pipelined CHECKIN then CHECKOUT must find the seat
	// free, and a STATUS after a CHECKOUT must count it. Pipelining still
	// pays: answers are flushed only when no further line is buffered.
	quit := r.Verb == wire.Quit
	c.push(sl, false)
	sl.buf, sl.after = c.s.handle(ctx, r, c, c.addr, 0, sl.buf)
	c.finish(sl) // sl may be reused from here on
	return quit
}

// lineBuffered reports whether a complete line waits in the read buffer.
func (c *conn) lineBuffered() bool {
	n := c.br.Buffered()
	if n == 0 {
		return false
	}
	b, _ := c.br.Peek(n)
	return bytes.IndexByte(b, '\n') >= 0
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// push appends sl to the answer order; with done set it is complete.
func (c *conn) push(sl *slot, done bool) {
	c.mu.Lock()
	if c.n == len(c.ring) {
		c.growRing()
	}
	c.ring[(c.head+c.n)%len(c.ring)] = sl
	c.n++
	if done {
		sl.done = true
		c.drain()
	}
	c.mu.Unlock()
}

// growRing doubles the answer ring, head first; c.mu held. The inflight
// tokens keep c.n at most MaxPipelined, so the ring never outgrows it.
func (c *conn) growRing() {
	ring := make([]*slot, max(2*len(c.ring), 1))
	for i := range c.n {
		ring[i] = c.ring[(c.head+i)%len(c.ring)]
	}
	c.ring, c.head = ring, 0
}

// enqueueDone queues a complete answer built outside the request path.
func (c *conn) enqueueDone(b []byte, closeAfter bool) {
	c.inflight <- struct{}{}
	sl := c.s.newSlot()
	sl.buf = append(sl.buf, b...)
	sl.close = closeAfter
	sl.flush = true
	c.push(sl, true)
}

// finish marks sl complete and writes what the order allows.
func (c *conn) finish(sl *slot) {
	c.mu.Lock()
	sl.done = true
	c.drain()
	c.mu.Unlock()
}

// requestFlush is called by the reader before it may block: output owed
// so far must reach the client. If answers are still being computed the
// last of them carries the duty.
func (c *conn) requestFlush() {
	c.mu.Lock()
	if c.n == 0 {
		c.flushLocked()
	} else {
		c.ring[(c.head+c.n-1)%len(c.ring)].flush = true
	}
	c.mu.Unlock()
}

// drain writes the complete answers at the head of the order; c.mu held.
func (c *conn) drain() {
	flush := false
	for c.n > 0 {
		sl := c.ring[c.head]
		if !sl.done {
			break
		}
		c.ring[c.head] = nil
		c.head = (c.head + 1) % len(c.ring)
		c.n--
		if c.werr == nil {
			c.setWriteDeadline()
			_, c.werr = c.writer().Write(sl.buf)
			c.checkWrite()
		}
		if w := sl.after.queued; w != nil {
			go c.watch(w)
		}
		flush = flush || sl.flush || sl.after.quit || sl.close
		c.s.putSlot(sl)
		<-c.inflight
	}
	if flush {
		c.flushLocked()
	}
}

func (c *conn) flushLocked() {
	if c.bw == nil {
		return
	}
	if c.werr == nil && c.bw.Buffered() > 0 {
		c.setWriteDeadline()
		c.werr = c.bw.Flush()
		c.checkWrite()
	}
	if c.werr == nil || c.bw.Buffered() == 0 {
		// Nothing pending: the buffer goes back until the next answer.
		c.bw.Reset(nil)
		c.s.writers.Put(c.bw)
		c.bw = nil
	}
}

// writer is the connection's write buffer, borrowed when it has none;
// c.mu held.
func (c *conn) writer() *bufio.Writer {
	if c.bw == nil {
		bw, _ := c.s.writers.Get().(*bufio.Writer)
		if bw == nil {
			bw = bufio.NewWriterSize(nil, writeBuffer)
		}
		bw.Reset(c.nc)
		c.bw = bw
	}
	return c.bw
}

// checkWrite closes the connection once a write failed (the client went,
// or did not read for WriteTimeout): the reader then stops too. c.mu held.
func (c *conn) checkWrite() {
	if c.werr != nil {
		c.nc.Close()
	}
}

// setWriteDeadline keeps the write deadline at least 3/4 of WriteTimeout
// ahead without touching it on every write.
func (c *conn) setWriteDeadline() {
	wt := c.s.lim.WriteTimeout
	if now := time.Now(); c.wdl.Sub(now) < wt*3/4 {
		c.wdl = now.Add(wt)
		_ = c.nc.SetWriteDeadline(c.wdl)
	}
}

// event writes an asynchronous line between answers.
func (c *conn) event(b []byte) {
	c.mu.Lock()
	if c.werr == nil {
		c.setWriteDeadline()
		if _, c.werr = c.writer().Write(b); c.werr == nil {
			c.werr = c.bw.Flush()
		}
		c.checkWrite()
		c.flushLocked() // gives the buffer back
	}
	c.mu.Unlock()
}

func (s *server) newSlot() *slot {
	if sl, ok := s.slots.Get().(*slot); ok {
		return sl
	}
	return &slot{buf: make([]byte, 0, 256)}
}

func (s *server) putSlot(sl *slot) {
	if cap(sl.buf) > 4096 {
		return // do not keep a STATUS-sized buffer around
	}
	*sl = slot{buf: sl.buf[:0]}
	s.slots.Put(sl)
}
