package client

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v5"

	"github.com/licensegw/licensegw/internal/retry"

	"github.com/licensegw/licensegw/plugins/flexlm/wire"
)

// minHeartbeat bounds how often a License heartbeats.
const minHeartbeat = 50 * time.Millisecond

// CheckoutRequest asks for seats.
type CheckoutRequest struct {
	Feature string
	Vendor  string        // "" for any vendor
	Version string        // minimum version; "" for any
	Count   int           // 0 means 1
	Wait    time.Duration // > 0: queue at most this long when the feature queues
	Borrow  time.Duration // > 0: borrow for offline use
	// OnQueued, if set, is called with the queue position while waiting.
	OnQueued func(position int)
}

// DeniedError is a refused checkout.
type DeniedError struct {
	Reason  string // no-seats, unknown-feature, expired, excluded, limit, reserved, queue-full, timeout, ...
	Message string
	InUse   int
	Seats   int
}

func (e *DeniedError) Error() string {
	return fmt.Sprintf("checkout denied (%s): %s", e.Reason, e.Message)
}

// GoneError says a licence no longer exists on the server.
type GoneError struct {
	Reason string // expired, removed or unknown
}

func (e *GoneError) Error() string { return "licence gone (" + e.Reason + ")" }

// License is granted seats, kept alive by heartbeats until Checkin.
//
// When the vendor connection drops, the client checks the licence out
// again on the new connection (see Client): the License stays valid and
// its Handle, Lease, TTL and Expires change. Read them with Current when a
// reconnection may run concurrently; the fields are written under the
// License's lock.
type License struct {
	Handle   int
	Lease    string
	Feature  string
	Vendor   string
	Version  string
	Count    int
	TTL      time.Duration
	Expires  time.Time
	Borrowed bool

	c    *Client
	req  CheckoutRequest // what a re-checkout asks for
	key  string          // the request key of the checkout, which a re-checkout sends again
	stop chan struct{}
	done chan struct{}
	lost chan struct{}
	once sync.Once

	mu         sync.Mutex
	conn       *conn         // the connection the licence is held on
	rebound    chan struct{} // closed (and replaced) when checked out again
	reacquired int
	released   bool // Checkin began: a re-checkout must give its seats back
	lostErr    error
}

// Grant is what a License holds now.
type Grant struct {
	Handle     int
	Lease      string
	TTL        time.Duration
	Expires    time.Time // zero: none
	Reacquired int       // how many times it was checked out again after a reconnection
}

// errCheckedIn is the Err of a licence given back by Checkin.
var errCheckedIn = errors.New("checked in")

// Checkout asks for seats. With Wait > 0 it may queue and then blocks
// until the seats are granted, the wait ends, or ctx is cancelled (which
// cancels the ticket). A refusal is a *DeniedError.
//
// When the connection drops before the answer (a queued wait included),
// the server gives back whatever it granted or queued on that connection,
// so Checkout asks again once the client has reconnected: a queued wait
// queues again, at the back, for what is left of Wait (OnQueued reports
// the new position). With reconnection off, or when it gives up, the
// error wraps ErrClosed.
//
// A server that does not answer within Options.RequestTimeout is taken
// for dead: its connection is closed and the checkout asked again, as
// after a drop. With several servers, an "unavailable, retry" answer
// (ERROR -96) closes the connection too and the checkout is asked of the
// next server, with backoff, for up to Options.RetryUnavailable. Every
// ask of one Checkout carries the same request key, so that a gateway
// that granted an ask whose answer was lost gives that grant again
// rather than more seats.
func (c *Client) Checkout(ctx context.Context, req CheckoutRequest) (*License, error) {
	v, err := c.vendorConn(ctx)
	if err != nil {
		return nil, err
	}
	key := newRequestKey()
	deadline, wait := time.Now().Add(req.Wait), req.Wait
	var (
		unavailableSince time.Time
		pauses           backoff.BackOff
	)
	for {
		l, err := c.checkoutOn(ctx, v, req, wait, key)
		switch {
		case err == nil || errors.Is(err, errClientClosed) || c.opts.NoReconnect || ctx.Err() != nil:
			return l, err
		case errors.Is(err, ErrClosed): // the connection dropped: ask again once reconnected
		case isUnavailable(err) && len(c.addrs) > 1 && c.opts.RetryUnavailable > 0:
			if unavailableSince.IsZero() {
				unavailableSince = time.Now()
				pauses = retry.Policy{Initial: c.opts.MinBackoff, Max: c.opts.MaxBackoff}.BackOff()
			}
			if time.Since(unavailableSince) >= c.opts.RetryUnavailable {
				return nil, err
			}
			if !retry.Sleep(ctx, pauses.NextBackOff()) {
				return nil, fmt.Errorf("%w (last: %w)", ctx.Err(), err)
			}
			// This server cannot decide now: the next one may.
			v.end(fmt.Errorf("server unavailable: %w", err))
		default:
			return l, err
		}
		if v, err = c.awaitVendor(ctx, v); err != nil {
			return nil, fmt.Errorf("checkout of %s interrupted by a lost connection: %w", req.Feature, err)
		}
		if req.Wait > 0 {
			if wait = time.Until(deadline); wait < time.Millisecond {
				return nil, &DeniedError{Reason: "timeout", Message: "the queue wait ended while reconnecting"}
			}
		}
	}
}

// isUnavailable reports whether err is the server's "unavailable, retry".
func isUnavailable(err error) bool {
	var se *ServerError
	return errors.As(err, &se) && se.Code == wire.CodeUnavailable
}

// newRequestKey is a fresh CHECKOUT request key: 128 random bits.
func newRequestKey() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand never fails on supported systems
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// checkoutFrame is the CHECKOUT of req, queueing up to wait, under the
// request key key.
func (c *Client) checkoutFrame(req CheckoutRequest, wait time.Duration, key string) *wire.Frame {
	o := c.opts
	return wire.New(wire.Checkout, 0).Str(wire.TFeature, req.Feature).Str(wire.TVendor, req.Vendor).
		Str(wire.TVersion, req.Version).Int(wire.TCount, int64(max(req.Count, 1))).
		Int(wire.TWaitMs, wait.Milliseconds()).Int(wire.TBorrowS, int64(req.Borrow/time.Second)).
		Str(wire.TUser, o.User).Str(wire.THost, o.Host).Str(wire.TDisplay, o.Display).Str(wire.TProject, o.Project).
		Str(wire.TRequestKey, key)
}

// checkoutOn is one checkout attempt on the vendor connection v. A server
// that sends no first answer within RequestTimeout ends v.
func (c *Client) checkoutOn(ctx context.Context, v *conn, req CheckoutRequest, wait time.Duration, key string) (*License, error) {
	ch, stop, err := v.start(c.checkoutFrame(req, wait, key))
	if err != nil {
		return nil, err
	}
	defer stop()
	ticket := int64(-1)
	first, cancelFirst := context.WithTimeout(ctx, c.opts.RequestTimeout)
	defer cancelFirst()
	for {
		wctx := ctx
		if ticket < 0 {
			wctx = first // until the first answer
		}
		ans, err := v.nextFrame(wctx, ch)
		if err != nil {
			if ctx.Err() != nil {
				c.abandon(ctx, v, ch, ticket)
				return nil, err
			}
			if first.Err() != nil && ticket < 0 {
				v.end(fmt.Errorf("no answer to CHECKOUT within %v", c.opts.RequestTimeout))
				return nil, v.Err()
			}
			return nil, err
		}
		switch ans.Type {
		case wire.Granted:
			return c.newLicense(v, ans, req, key)
		case wire.Denied:
			return nil, deniedOf(ans)
		case wire.Queued:
			ticket = ans.GetInt(wire.TTicket)
			if req.OnQueued != nil {
				req.OnQueued(int(ans.GetInt(wire.TPosition)))
			}
		case wire.Error:
			return nil, &ServerError{Code: int(ans.GetInt(wire.TCode)), Message: ans.GetStr(wire.TMessage)}
		default:
			return nil, fmt.Errorf("flexlm client: unexpected %s answer to CHECKOUT", ans.Type)
		}
	}
}

// abandonTimeout bounds how long an abandoned checkout's answer is awaited.
const abandonTimeout = 5 * time.Second

// abandon ends a checkout whose caller gave up before its final answer:
// the answer may still be on its way, and a grant nobody takes would hold a
// seat until the connection closes. It cancels the ticket (at once when the
// server already queued the request, else when QUEUED arrives) and checks
// back in a GRANTED that raced the cancellation, then returns once the
// server's final answer came or abandonTimeout passed.
func (c *Client) abandon(ctx context.Context, v *conn, ch <-chan *wire.Frame, ticket int64) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), abandonTimeout)
	defer cancel()
	cancelTicket := func(t int64) {
		go func() { _, _ = v.request(ctx, wire.New(wire.Cancel, 0).Int(wire.TTicket, t)) }()
	}
	if ticket >= 0 {
		cancelTicket(ticket)
	}
	for {
		ans, err := v.nextFrame(ctx, ch)
		if err != nil {
			return
		}
		switch ans.Type {
		case wire.Queued:
			cancelTicket(ans.GetInt(wire.TTicket))
		case wire.Granted:
			_, _ = v.request(ctx, wire.New(wire.Checkin, 0).Int(wire.THandle, ans.GetInt(wire.THandle)))
			return
		default: // DENIED (the cancel took effect), ERROR
			return
		}
	}
}

func deniedOf(f *wire.Frame) *DeniedError {
	return &DeniedError{Reason: f.GetStr(wire.TReason), Message: f.GetStr(wire.TMessage),
		InUse: int(f.GetInt(wire.TInUse)), Seats: int(f.GetInt(wire.TSeats))}
}

// newLicense starts the licence granted by f on v, asked under key.
func (c *Client) newLicense(v *conn, f *wire.Frame, req CheckoutRequest, key string) (*License, error) {
	l := &License{key: key,
		Feature: f.GetStr(wire.TFeature), Vendor: f.GetStr(wire.TVendor), Version: f.GetStr(wire.TVersion),
		Count: int(f.GetInt(wire.TCount)), Borrowed: f.GetBool(wire.TBorrowed),
		c: c, stop: make(chan struct{}), done: make(chan struct{}), lost: make(chan struct{}),
		rebound: make(chan struct{}),
	}
	l.setGrant(v, f)
	// A re-checkout asks for the same seats of the same vendor's pool, at
	// once: a licence the application already runs under does not queue.
	l.req = CheckoutRequest{Feature: req.Feature, Vendor: l.Vendor, Version: req.Version, Count: l.Count}
	if err := c.register(l, v); err != nil {
		return nil, err
	}
	go l.heartbeat()
	return l, nil
}

// setGrant records the grant f on v; the caller holds l.mu or owns l.
func (l *License) setGrant(v *conn, f *wire.Frame) {
	l.conn = v
	l.Handle, l.Lease = int(f.GetInt(wire.THandle)), f.GetStr(wire.TLease)
	l.TTL = time.Duration(f.GetInt(wire.TTTLMs)) * time.Millisecond
	l.Expires = time.Time{}
	if e := f.GetInt(wire.TExpires); e != 0 {
		l.Expires = time.Unix(e, 0)
	}
}

// rebind takes the re-checkout f on v; false if the licence was checked in
// or lost meanwhile.
func (l *License) rebind(v *conn, f *wire.Frame) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.released || l.lostErr != nil {
		return false
	}
	l.setGrant(v, f)
	l.reboundLocked()
	return true
}

// rebindHandle moves a borrowed licence to v, where it has handle n.
func (l *License) rebindHandle(v *conn, n int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.conn, l.Handle = v, n
	l.reboundLocked()
}

func (l *License) reboundLocked() {
	l.reacquired++
	close(l.rebound)
	l.rebound = make(chan struct{})
}

// connection is the connection l is held on.
func (l *License) connection() *conn {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.conn
}

// Current reports what the licence holds now; Handle and Lease change
// when it is checked out again after a reconnection.
func (l *License) Current() Grant {
	l.mu.Lock()
	defer l.mu.Unlock()
	return Grant{Handle: l.Handle, Lease: l.Lease, TTL: l.TTL, Expires: l.Expires, Reacquired: l.reacquired}
}

// minSilence is the least time without a heartbeat answered before the
// connection is taken for dead (see heartbeat).
const minSilence = 2 * time.Second

// heartbeat renews the licence at a third of its TTL. While the client
// reconnects it pauses until the licence is checked out again or lost.
//
// A server that answers no heartbeat (or answers "unavailable") for two
// thirds of the TTL, and at least minSilence, is taken for dead: the
// connection is closed, so that the client connects again (to the next
// server of its list) and checks the licence out again while the
// gateway still holds it.
func (l *License) heartbeat() {
	defer close(l.done)
	lastOK := time.Now()
	for {
		l.mu.Lock()
		v, handle, ttl, rebound := l.conn, l.Handle, l.TTL, l.rebound
		l.mu.Unlock()
		every := max(ttl/3, minHeartbeat)
		t := time.NewTimer(every)
		select {
		case <-l.stop:
			t.Stop()
			return
		case <-l.lost:
			t.Stop()
			return
		case <-v.done:
			t.Stop()
			if l.c.opts.NoReconnect {
				l.c.unregister(l)
				l.setLost(v.Err())
				return
			}
			select {
			case <-rebound:
				lastOK = time.Now()
			case <-l.stop:
				return
			case <-l.lost:
				return
			}
			continue
		case <-t.C:
		}
		// Wait up to half the TTL: a slow answer still beats expiry.
		ctx, cancel := context.WithTimeout(context.Background(), max(ttl/2, every))
		ans, err := v.request(ctx, wire.New(wire.Heartbeat, 0).Int(wire.THandle, int64(handle)))
		cancel()
		switch {
		case err != nil:
			// A slow answer: try again next tick. A closed connection is
			// seen by the select above.
			if !errors.Is(err, ErrClosed) && !l.c.opts.NoReconnect && time.Since(lastOK) >= max(ttl*2/3, minSilence) {
				v.end(fmt.Errorf("no heartbeat answered for %v: %w", time.Since(lastOK).Round(time.Millisecond), err))
			}
			continue
		case ans.Type == wire.Gone:
			reason := ans.GetStr(wire.TReason)
			if reason == "unknown" && !l.c.opts.NoReconnect {
				// Checked in by someone else than this client (not
				// expired, not removed): the connection it held the
				// licence on before a failover, closing late on a node
				// it left, or the gateway releasing a dead node's
				// connection-bound leases after the client moved. The
				// seats were released under it: check them out again.
				err := l.c.reacquireOne(v, l)
				switch {
				case err == nil:
					lastOK = time.Now()
					continue
				case errors.Is(err, ErrClosed):
					continue // supervise checks it out again
				}
				l.c.unregister(l)
				l.setLost(fmt.Errorf("%w: %w", ErrNotReacquired, err))
				return
			}
			l.c.unregister(l)
			l.setLost(&GoneError{Reason: reason})
			return
		}
		lastOK = time.Now()
	}
}

func (l *License) setLost(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lostErr == nil {
		l.lostErr = err
		close(l.lost)
	}
}

// Lost is closed when the licence is lost: the server says it is gone
// (removed by lmremove, expired), it could not be checked out again after
// a reconnection (Err wraps ErrNotReacquired), or the connection ended for
// good (reconnection off or given up, or the client closed: Err wraps
// ErrClosed). Err says why.
func (l *License) Lost() <-chan struct{} { return l.lost }

// Err reports why the licence was lost, or nil.
func (l *License) Err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lostErr
}

// Checkin stops the heartbeats and gives the seats back. While the client
// is reconnecting there is nothing to give back (the server released the
// seats with the connection), and the licence is simply not checked out
// again; a borrowed licence, which outlives connections, can only be
// returned while connected.
func (l *License) Checkin(ctx context.Context) error {
	l.once.Do(func() { close(l.stop) })
	<-l.done
	if err := l.Err(); err != nil {
		return err
	}
	l.mu.Lock()
	v, handle, lease := l.conn, l.Handle, l.Lease
	if v.Err() != nil && l.Borrowed {
		l.mu.Unlock()
		return fmt.Errorf("borrowed licence %s not returned, try again: %w", lease, v.Err())
	}
	l.released = true
	l.mu.Unlock()
	l.c.unregister(l)
	ans, err := v.request(ctx, wire.New(wire.Checkin, 0).Int(wire.THandle, int64(handle)))
	switch {
	case errors.Is(err, ErrClosed) && !l.Borrowed:
		// The server checks in what a closed connection held.
	case err != nil:
		return err
	case ans.Type == wire.Gone:
		return &GoneError{Reason: ans.GetStr(wire.TReason)}
	}
	l.setLost(errCheckedIn)
	return nil
}
