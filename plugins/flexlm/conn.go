package flexlm

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/licensegw/licensegw/plugins/flexlm/wire"
	"github.com/licensegw/licensegw/sdk"
)

// role says which listener a connection came in on.
type role string

const (
	roleLmgrd  role = "lmgrd"
	roleVendor role = "vendor"
)

// Bounds of CHECKOUT's durations: a week of queueing, a leap year of
// borrowing (the gateway's per-feature maximum is usually far lower).
const (
	maxWaitMs  = 7 * 24 * 3600 * 1000
	maxBorrowS = 366 * 24 * 3600
)

// A CHECKOUT's REQUEST_KEY is at most maxRequestKey bytes; the gateway's
// key is requestKeyPrefix and the client's.
const (
	maxRequestKey    = 128
	requestKeyPrefix = "flexlm/"
)

// cleanupTimeout bounds the checkins done when a client disconnects.
const cleanupTimeout = 10 * time.Second

// conn is one client connection. Requests are handled in order; queued
// checkouts are watched by their own goroutines, which write to the
// connection under wmu.
type conn struct {
	s    *server
	nc   net.Conn
	role role
	addr string

	// wmu serializes writes: the connection's own answers and those of
	// its tickets' watchers. w encodes them, reusing its buffer.
	wmu sync.Mutex
	w   wire.Builder

	// seen keeps the last value of each string a client repeats in its
	// requests (feature, vendor, user, ...), so that asking again costs
	// no allocation. Used by the serving goroutine only.
	seen struct{ vendor, feature, version, user, host, display, project string }

	// The user and host the client's HELLO declared (unverified; they
	// name the actor of administrative requests in logs and events).
	helloUser, helloHost string

	mu      sync.Mutex
	closed  bool
	leases  map[int]held   // handle -> lease, held by this connection
	tickets map[int]string // handle -> ticket id
	// cancelling holds, for a ticket whose CANCEL is being answered, a
	// channel closed once its OK is sent: the DENIED (cancelled) that the
	// ticket's watcher sends waits for it, so the client reads them in
	// the documented order.
	cancelling map[int]chan struct{}
}

// held is a lease a connection holds.
type held struct {
	id       string
	borrowed bool
}

func newConn(s *server, nc net.Conn, r role) *conn {
	return &conn{s: s, nc: nc, role: r, addr: nc.RemoteAddr().String(),
		leases: map[int]held{}, tickets: map[int]string{}, cancelling: map[int]chan struct{}{}}
}

func (c *conn) send(f *wire.Frame) error {
	w := c.begin(f.Type, f.ID)
	for _, fl := range f.Fields {
		w.Raw(fl.Tag, fl.Value)
	}
	return c.reply()
}

// begin starts an answer under the write lock; reply sends it and
// releases the lock. Answers built so cost no allocation.
func (c *conn) begin(t wire.Type, id uint32) *wire.Builder {
	c.wmu.Lock()
	return c.w.Begin(t, id)
}

func (c *conn) reply() error {
	defer c.wmu.Unlock()
	b, err := c.w.Finish()
	if err != nil {
		return err
	}
	if _, err := c.nc.Write(b); err != nil {
		return fmt.Errorf("wire: write: %w", err)
	}
	return nil
}

// str returns field tag of f as a string, the same as *last (and no new
// allocation) when the client sent the same bytes as last time.
func str(f *wire.Frame, tag wire.Tag, last *string) string {
	v, _ := f.Value(tag)
	if string(v) != *last {
		*last = string(v)
	}
	return *last
}

// sendAll writes frames in one write, keeping them together.
func (c *conn) sendAll(frames []*wire.Frame) error {
	var buf bytes.Buffer
	for _, f := range frames {
		b, err := f.Encode()
		if err != nil {
			return err
		}
		buf.Write(b)
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if _, err := c.nc.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("flexlm: write status: %w", err)
	}
	return nil
}

func (c *conn) fail(id uint32, code int, msg string) error {
	c.begin(wire.Error, id).Int(wire.TCode, int64(code)).Str(wire.TMessage, msg)
	return c.reply()
}

// gone answers that a handle names no licence of this client's.
func (c *conn) gone(id uint32, reason, msg string) error {
	c.begin(wire.Gone, id).Str(wire.TReason, reason).Str(wire.TMessage, msg)
	return c.reply()
}

// refuseDown tells a client the vendor daemon is down and hangs up.
func (c *conn) refuseDown() {
	c.refuse(wire.CodeVendorDown, "vendor daemon is down (lmdown); lmreread starts it again")
}

// refuse sends a client one ERROR frame and hangs up.
func (c *conn) refuse(code int, msg string) {
	_ = c.nc.SetWriteDeadline(time.Now().Add(time.Second))
	_ = c.fail(0, code, msg)
	c.nc.Close()
}

// serve reads and answers requests until the peer hangs up or ctx ends,
// then gives back what the connection held, as a FlexLM vendor daemon
// does when a client goes away.
func (c *conn) serve(ctx context.Context) {
	defer c.cleanup()
	r := bufio.NewReader(c.nc)
	// The frame and its buffer are reused: a request's fields are valid
	// until the next one is read (handlers copy what they keep).
	var (
		f           = &wire.Frame{}
		buf         []byte
		err         error
		deadlineSet time.Time
	)
	idle := c.s.st.idleTimeout
	for {
		// An idle connection is closed (and what it held given back):
		// clients that hold licences heartbeat well within the timeout.
		// The deadline moves once per 1/16 of it, not on every request.
		if now := time.Now(); now.Sub(deadlineSet) > idle/16 {
			deadlineSet = now
			_ = c.nc.SetReadDeadline(now.Add(idle))
		}
		buf, err = wire.ReadInto(r, f, buf)
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && ctx.Err() == nil {
				c.s.log.Debug("connection dropped", "addr", c.addr, "error", err)
				// A framing error leaves the stream unusable: say so and hang up.
				if errors.Is(err, wire.ErrBadMagic) || errors.Is(err, wire.ErrChecksum) ||
					errors.Is(err, wire.ErrVersion) || errors.Is(err, wire.ErrTooLarge) || errors.Is(err, wire.ErrMalformed) {
					c.s.stats.malformed.Inc()
					_ = c.fail(0, wire.CodeBadRequest, err.Error())
				}
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() {
					c.s.stats.idleClosed.Inc()
				}
			}
			return
		}
		// A frame that decoded but whose fields are not what their tags
		// say (text that is not UTF-8, a short integer, request id 0) is
		// refused alone: the stream is intact, so the connection and what
		// it holds stay.
		if err := f.Check(); err != nil {
			c.s.stats.malformed.Inc()
			err = c.fail(f.ID, wire.CodeBadRequest, err.Error())
		} else {
			err = c.handle(ctx, f)
		}
		if err != nil {
			c.s.log.Debug("write failed", "addr", c.addr, "error", err)
			return
		}
	}
}

func (c *conn) handle(ctx context.Context, f *wire.Frame) error {
	switch f.Type {
	case wire.Hello:
		c.helloUser, c.helloHost = declared(f.GetStr(wire.TUser), 128), declared(f.GetStr(wire.THost), 255)
		return c.send(wire.New(wire.HelloOK, f.ID).Str(wire.TRole, string(c.role)).
			Str(wire.TServerHost, c.s.st.host).Str(wire.TServerVer, c.s.st.version))
	case wire.ServerInfo:
		if err := c.s.access.CheckStatus(c.nc.RemoteAddr()); err != nil {
			return c.fail(f.ID, wire.CodeNotAllowed, "lmstat (server information) is not allowed from this address (status_allow)")
		}
		return c.serverInfo(ctx, f)
	case wire.VendorPort:
		return c.vendorPort(ctx, f)
	case wire.Reread:
		return c.reread(ctx, f)
	case wire.Shutdown:
		return c.shutdown(f)
	}
	if c.role != roleVendor {
		return c.fail(f.ID, wire.CodeWrongRole, f.Type.String()+" goes to the vendor daemon port; ask VENDOR_PORT")
	}
	switch f.Type {
	case wire.Checkout:
		return c.checkout(ctx, f)
	case wire.Heartbeat:
		return c.heartbeat(ctx, f)
	case wire.Checkin:
		return c.checkin(ctx, f)
	case wire.Cancel:
		return c.cancel(ctx, f)
	case wire.Status:
		if err := c.s.access.CheckStatus(c.nc.RemoteAddr()); err != nil {
			return c.fail(f.ID, wire.CodeNotAllowed, "lmstat (feature status) is not allowed from this address (status_allow)")
		}
		return c.status(ctx, f)
	case wire.Remove:
		return c.remove(ctx, f)
	}
	return c.fail(f.ID, wire.CodeBadRequest, "unknown request "+f.Type.String())
}

// seatsError answers a failed call to the gateway.
func (c *conn) seatsError(id uint32, err error) error {
	var gone *sdk.GoneError
	switch {
	case errors.As(err, &gone):
		return c.send(wire.New(wire.Gone, id).Str(wire.TReason, gone.Reason).Str(wire.TMessage, err.Error()))
	case errors.Is(err, sdk.ErrUnavailable):
		return c.fail(id, wire.CodeUnavailable, "gateway unavailable, try again: "+err.Error())
	case errors.Is(err, sdk.ErrUnknownTicket):
		return c.fail(id, wire.CodeNoHandle, err.Error())
	case errors.Is(err, sdk.ErrInvalid):
		return c.fail(id, wire.CodeBadRequest, err.Error())
	}
	return c.fail(id, wire.CodeUnavailable, err.Error())
}

// client says who asks: the request's USER and HOST, each defaulting to
// what the connection's HELLO declared (a FlexLM client library sends its
// user and host once, when it connects), and its DISPLAY and PROJECT.
func (c *conn) client(f *wire.Frame) sdk.Client {
	cl := sdk.Client{User: c.helloUser, Host: c.helloHost,
		Display: str(f, wire.TDisplay, &c.seen.display), Project: str(f, wire.TProject, &c.seen.project), Addr: c.addr}
	if f.Has(wire.TUser) {
		cl.User = str(f, wire.TUser, &c.seen.user)
	}
	if f.Has(wire.THost) {
		cl.Host = str(f, wire.THost, &c.seen.host)
	}
	return cl
}

// noTicket is sendGrant's and sendDenial's ticket of a checkout that was
// answered at once (a queued one's answer names its ticket).
const noTicket = -1

// sendGrant answers request id with a granted licence.
func (c *conn) sendGrant(id uint32, handle int, g *sdk.Grant, ticket int) error {
	w := c.begin(wire.Granted, id).Int(wire.THandle, int64(handle)).Str(wire.TLease, g.Lease).
		Str(wire.TFeature, g.Feature).Str(wire.TVendor, g.Vendor).Str(wire.TVersion, g.Version).
		Int(wire.TCount, int64(g.Count)).Int(wire.TTTLMs, g.TTL.Milliseconds()).Bool(wire.TBorrowed, g.Borrowed)
	if !g.Expires.IsZero() {
		w.Int(wire.TExpires, g.Expires.Unix())
	}
	if ticket != noTicket {
		w.Int(wire.TTicket, int64(ticket))
	}
	return c.reply()
}

// sendDenial answers request id with a denial.
func (c *conn) sendDenial(id uint32, d *sdk.Denial, ticket int) error {
	w := c.begin(wire.Denied, id).Str(wire.TReason, d.Reason).Str(wire.TMessage, d.Message).
		Int(wire.TInUse, int64(d.InUse)).Int(wire.TSeats, int64(d.Seats))
	if ticket != noTicket {
		w.Int(wire.TTicket, int64(ticket))
	}
	return c.reply()
}

// sendQueued tells the client of request id its ticket's position.
func (c *conn) sendQueued(id uint32, ticket, position int) error {
	c.begin(wire.Queued, id).Int(wire.TTicket, int64(ticket)).Int(wire.TPosition, int64(position))
	return c.reply()
}

func (c *conn) checkout(ctx context.Context, f *wire.Frame) error {
	count, wait, borrow := f.GetInt(wire.TCount), f.GetInt(wire.TWaitMs), f.GetInt(wire.TBorrowS)
	switch {
	case !f.Has(wire.TCount) || count < 1:
		return c.fail(f.ID, wire.CodeBadRequest, "CHECKOUT needs a COUNT of at least 1")
	case wait < 0 || wait > maxWaitMs:
		return c.fail(f.ID, wire.CodeBadRequest, "WAIT_MS must be from 0 to 604800000 (a week)")
	case borrow < 0 || borrow > maxBorrowS:
		return c.fail(f.ID, wire.CodeBadRequest, "BORROW_S must be from 0 to 31622400 (366 days)")
	}
	req := sdk.CheckoutRequest{
		Vendor:  str(f, wire.TVendor, &c.seen.vendor),
		Feature: str(f, wire.TFeature, &c.seen.feature),
		Version: str(f, wire.TVersion, &c.seen.version),
		// COUNT is 64-bit on the wire and in the gateway: a count beyond
		// the feature's seats is denied (reason count), never truncated.
		Count: int(count), Client: c.client(f),
		Wait:   time.Duration(wait) * time.Millisecond,
		Borrow: time.Duration(borrow) * time.Second,
	}
	// A licence belongs to its connection (cleanup checks it in), so the
	// gateway is told too: when this plugin dies without running cleanup
	// it releases the lease itself instead of holding the seats until the
	// TTL under a handle nobody can name any more. Borrowed licences
	// outlive the connection by design.
	req.BindConn = req.Borrow == 0
	if req.Feature == "" {
		return c.fail(f.ID, wire.CodeBadRequest, "CHECKOUT needs a FEATURE")
	}
	if f.Has(wire.TRequestKey) {
		// The client asks again, after losing its connection (here or
		// to another node of a cluster), with the key of the first ask:
		// while the lease the key got lives, the gateway answers it
		// again instead of taking more seats. The prefix keeps the keys
		// of this protocol apart from others'.
		key := f.GetStr(wire.TRequestKey)
		if key == "" || len(key) > maxRequestKey {
			return c.fail(f.ID, wire.CodeBadRequest, fmt.Sprintf("REQUEST_KEY must be 1 to %d bytes", maxRequestKey))
		}
		req.RequestKey = requestKeyPrefix + key
	}
	res, err := c.s.seats.Checkout(ctx, req)
	if err != nil {
		return c.seatsError(f.ID, err)
	}
	switch res.Outcome {
	case sdk.Granted:
		n := c.s.handles.of(res.Grant.Lease)
		c.hold(n, res.Grant)
		return c.sendGrant(f.ID, n, res.Grant, noTicket)
	case sdk.Queued:
		n := c.s.handles.of(res.Ticket)
		c.mu.Lock()
		c.tickets[n] = res.Ticket
		c.mu.Unlock()
		err := c.sendQueued(f.ID, n, res.Position)
		go c.watchTicket(f.ID, n, res.Ticket, res.Updates)
		return err
	default:
		d := res.Denial
		if d == nil {
			d = &sdk.Denial{Reason: "unknown", Message: "denied"}
		}
		return c.sendDenial(f.ID, d, noTicket)
	}
}

func (c *conn) hold(n int, g *sdk.Grant) {
	if g.Borrowed {
		c.s.handles.setBorrowed(n, true)
	}
	c.mu.Lock()
	c.leases[n] = held{id: g.Lease, borrowed: g.Borrowed}
	c.mu.Unlock()
	if g.Borrowed {
		return // any connection may return it: nobody holds it
	}
	if prev := c.s.handles.setHolder(n, c); prev != nil && prev != c {
		// A keyed checkout got a lease another connection held: the
		// client lost that connection and asked again here. The lease
		// is this connection's now; the old one must not give it back
		// when it closes.
		prev.disown(n, g.Lease)
	}
}

// disown forgets lease id (handle n), which another connection took over.
func (c *conn) disown(n int, id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if h, ok := c.leases[n]; ok && h.id == id {
		delete(c.leases, n)
	}
}

// watchTicket relays a queued checkout's progress to the client under the
// checkout's request id.
func (c *conn) watchTicket(reqID uint32, n int, ticket string, updates <-chan sdk.TicketUpdate) {
	for u := range updates {
		switch {
		case u.Grant != nil:
			c.s.handles.rebind(n, u.Grant.Lease)
			c.mu.Lock()
			delete(c.tickets, n)
			closed := c.closed
			if !closed {
				c.leases[n] = held{id: u.Grant.Lease, borrowed: u.Grant.Borrowed}
			}
			c.mu.Unlock()
			if closed {
				// The client left while it waited: give the seats back.
				ctx, cancel := context.WithTimeout(context.WithoutCancel(c.s.ctx), cleanupTimeout)
				_ = c.s.seats.Checkin(ctx, u.Grant.Lease)
				cancel()
				c.s.handles.drop(u.Grant.Lease)
				return
			}
			_ = c.sendGrant(reqID, n, u.Grant, n)
			return
		case u.Denial != nil:
			c.s.handles.drop(ticket)
			c.mu.Lock()
			delete(c.tickets, n)
			answering := c.cancelling[n]
			c.mu.Unlock()
			if answering != nil {
				<-answering // the CANCEL's OK goes first
			}
			_ = c.sendDenial(reqID, u.Denial, n)
			return
		default:
			_ = c.sendQueued(reqID, n, u.Position)
		}
	}
}

// leaseOf finds the lease of a handle the request names. A connection
// may heartbeat and check in only the licences it holds, and borrowed
// licences (which outlive their connection: the borrower returns them
// later, from another one); another connection's handle is as unknown as
// a handle that never was, so that guessing the small handle numbers
// lets nobody release someone else's seats (REMOVE is the administrator's
// way).
func (c *conn) leaseOf(f *wire.Frame) (int, string, bool) {
	n := int(f.GetInt(wire.THandle))
	id, ok := c.s.handles.id(n)
	if !ok {
		return n, "", false
	}
	c.mu.Lock()
	h, mine := c.leases[n]
	c.mu.Unlock()
	if mine && h.id == id || c.s.handles.isBorrowed(n) {
		return n, id, true
	}
	return n, "", false
}

func (c *conn) forget(n int, id string) {
	c.s.handles.drop(id)
	c.mu.Lock()
	delete(c.leases, n)
	c.mu.Unlock()
}

func (c *conn) heartbeat(ctx context.Context, f *wire.Frame) error {
	n, id, ok := c.leaseOf(f)
	if !ok {
		return c.gone(f.ID, "unknown", "no such license handle")
	}
	st, err := c.s.seats.Heartbeat(ctx, id)
	if err != nil {
		var gone *sdk.GoneError
		if errors.As(err, &gone) {
			c.forget(n, id)
		}
		return c.seatsError(f.ID, err)
	}
	w := c.begin(wire.HeartbeatOK, f.ID).Int(wire.THandle, int64(n)).Int(wire.TTTLMs, st.TTL.Milliseconds())
	if !st.Expires.IsZero() {
		w.Int(wire.TExpires, st.Expires.Unix())
	}
	return c.reply()
}

func (c *conn) checkin(ctx context.Context, f *wire.Frame) error {
	n, id, ok := c.leaseOf(f)
	if !ok {
		return c.gone(f.ID, "unknown", "no such license handle")
	}
	err := c.s.seats.Checkin(ctx, id)
	var gone *sdk.GoneError
	if err == nil || errors.As(err, &gone) {
		c.forget(n, id)
	}
	if err != nil {
		return c.seatsError(f.ID, err)
	}
	c.begin(wire.OK, f.ID)
	return c.reply()
}

func (c *conn) cancel(ctx context.Context, f *wire.Frame) error {
	n := int(f.GetInt(wire.TTicket))
	answered := make(chan struct{})
	c.mu.Lock()
	id, ok := c.tickets[n]
	if ok {
		c.cancelling[n] = answered
	}
	c.mu.Unlock()
	if !ok {
		return c.fail(f.ID, wire.CodeNoHandle, "no such queue ticket "+strconv.Itoa(n))
	}
	defer func() {
		c.mu.Lock()
		delete(c.cancelling, n)
		c.mu.Unlock()
		close(answered)
	}()
	// The watcher sends the final DENIED (reason cancelled) once this
	// answer is sent, and forgets the ticket.
	if err := c.s.seats.Cancel(ctx, id); err != nil {
		return c.seatsError(f.ID, err)
	}
	c.begin(wire.OK, f.ID)
	return c.reply()
}

// cleanup runs when the connection ends: leases that are not borrowed are
// checked in and tickets cancelled, so a crashed client frees its seats.
func (c *conn) cleanup() {
	c.nc.Close()
	c.mu.Lock()
	c.closed = true
	leases := make(map[int]held, len(c.leases))
	for n, h := range c.leases {
		leases[n] = h
	}
	tickets := make([]string, 0, len(c.tickets))
	for _, t := range c.tickets {
		tickets = append(tickets, t)
	}
	c.leases = map[int]held{}
	c.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.s.ctx), cleanupTimeout)
	defer cancel()
	for _, t := range tickets {
		_ = c.s.seats.Cancel(ctx, t)
	}
	for n, h := range leases {
		if h.borrowed {
			continue // a borrowed license outlives its connection
		}
		if !c.s.handles.releaseHolder(n, c) {
			continue // taken over by the client's new connection
		}
		if err := c.s.seats.Checkin(ctx, h.id); err != nil {
			c.s.log.Debug("checkin on disconnect", "lease", h.id, "error", err)
		}
		c.s.handles.drop(h.id)
	}
}

// declared keeps a name a client declared about itself when it is at most
// max bytes of printable UTF-8, and drops it otherwise: it is only ever
// shown (logs, the by field of events), so a hostile one is not an error.
func declared(s string, max int) string {
	if len(s) > max || !utf8.ValidString(s) {
		return ""
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return ""
		}
	}
	return s
}
