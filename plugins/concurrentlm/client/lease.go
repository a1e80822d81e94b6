package client

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/licensegw/licensegw/internal/retry"
	"github.com/licensegw/licensegw/plugins/concurrentlm/wire"
)

// CheckoutOptions describe a checkout. Feature is required; User and Host
// default to the process's user and host name.
type CheckoutOptions struct {
	Feature string
	Vendor  string
	Version string // minimum version
	Count   int    // default 1
	User    string
	Host    string
	Display string
	PID     int
	// Wait > 0 queues for up to this long when the feature queues. The
	// context still bounds the wait; cancelling it cancels the ticket.
	Wait time.Duration
	// BindConn ties the lease to the current connection: the gateway
	// releases it when that connection closes (so it does not survive a
	// reconnect).
	BindConn bool
}

// Lease is a granted seat. It heartbeats itself until Checkin, until the
// gateway says it is gone, or until heartbeats fail past its expiry.
type Lease struct {
	ID      string
	Feature string
	Count   int
	TTL     time.Duration

	c       *Client
	boundOn *session // the connection a bind=conn lease is tied to
	stop    context.CancelFunc
	done    chan struct{}

	mu      sync.Mutex
	expires time.Time
	err     error
}

// Expires returns the lease's expiry as of the last heartbeat.
func (l *Lease) Expires() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.expires
}

// Done is closed when the lease ends: checked in, gone, or lost.
func (l *Lease) Done() <-chan struct{} { return l.done }

// Err says why Done was closed: nil after Checkin, a *GoneError, or
// ErrLeaseLost; nil while the lease is held.
func (l *Lease) Err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}

// Checkin gives the seat back and stops the heartbeat loop.
func (l *Lease) Checkin(ctx context.Context) error {
	l.stop()
	<-l.done
	r := wire.Request{Verb: wire.Checkin}
	r.Set(wire.KeyLease, l.ID)
	a, err := l.c.do(ctx, &r, false)
	if err != nil {
		return err
	}
	if l.boundOn != nil {
		l.boundOn.unbind(l.ID)
	}
	m := a.lines[0]
	if m.Word == "GONE" && a.retried && m.Get("reason") == "unknown" {
		return nil // an ask whose answer was lost checked it in
	}
	if m.Word != "OK" {
		return answerError(m)
	}
	return nil
}

// Checkout asks for a seat. A denial is a *DeniedError; with a pinned key a
// grant without a valid signature is ErrBadSignature.
//
// A checkout is asked again when its answer does not come (see Dial): of
// the next server of the list after a silence or a lost connection, after
// a pause when a server answers "unavailable, retry". Every ask carries
// the same request= key (licensegw's extension of CLM/1, which other
// servers ignore), and the gateway answers a key it already granted with
// that same lease, on whichever node of a cluster the ask arrives: an ask
// executed but unanswered does not cost a second seat. A queued wait cut
// by a lost connection (the gateway cancels the ticket) queues again, at
// the back, for what is left of Wait.
func (c *Client) Checkout(ctx context.Context, o CheckoutOptions) (*Lease, error) {
	if o.Feature == "" {
		return nil, errors.New("clm: CheckoutOptions.Feature is required")
	}
	if o.User == "" {
		o.User = defaultUser()
	}
	if o.Host == "" {
		o.Host = defaultHost()
	}
	r := wire.Request{Verb: wire.Checkout}
	r.Set(wire.KeyFeature, o.Feature)
	r.Set(wire.KeyUser, o.User)
	r.Set(wire.KeyHost, o.Host)
	for k, v := range map[wire.Key]string{wire.KeyVendor: o.Vendor, wire.KeyVersion: o.Version, wire.KeyDisplay: o.Display} {
		if v != "" {
			r.Set(k, v)
		}
	}
	if o.Count > 1 {
		r.Set(wire.KeyCount, strconv.Itoa(o.Count))
	}
	if o.PID > 0 {
		r.Set(wire.KeyPID, strconv.Itoa(o.PID))
	}
	if o.BindConn {
		r.Set(wire.KeyBind, "conn")
	}
	nonce := ""
	if c.opts.PublicKey != nil {
		nonce = newNonce()
		r.Set(wire.KeyNonce, nonce)
	}
	r.Set(wire.KeyRequest, newNonce())

	waitUntil := time.Now().Add(o.Wait)
	for {
		if o.Wait > 0 {
			left := time.Until(waitUntil)
			if left < time.Second {
				return nil, &DeniedError{Reason: "timeout", Message: "the queue wait ended while reconnecting"}
			}
			r.Set(wire.KeyWait, strconv.Itoa(int((left+time.Second-1)/time.Second)))
		}
		l, err := c.checkoutOnce(ctx, &r, o, nonce)
		if errors.Is(err, errQueueLost) && ctx.Err() == nil && c.ctx.Err() == nil {
			continue // the ticket died with its connection: queue again
		}
		return l, err
	}
}

// errQueueLost: the connection a checkout waited in a queue on broke.
var errQueueLost = fmt.Errorf("%w while queued (the gateway cancels the ticket)", ErrDisconnected)

// checkoutOnce asks r and, when it queues, waits for the grant.
func (c *Client) checkoutOnce(ctx context.Context, r *wire.Request, o CheckoutOptions, nonce string) (*Lease, error) {
	reqCtx := ctx
	if o.Wait > 0 {
		// The QUEUED answer itself comes at once; only the EVENT waits.
		var cancel context.CancelFunc
		reqCtx, cancel = context.WithTimeout(ctx, c.opts.RequestTimeout)
		defer cancel()
	}
	sent := time.Now()
	a, err := c.do(reqCtx, r, false)
	if err != nil {
		return nil, err
	}
	switch m := a.lines[0]; m.Word {
	case "GRANTED":
		return c.granted(a.s, m, o, nonce, sent)
	case "QUEUED":
		return c.waitTicket(ctx, a.s, m.Get("ticket"), o, nonce)
	default:
		return nil, answerError(m)
	}
}

// waitTicket waits for the EVENT of a queued checkout.
func (c *Client) waitTicket(ctx context.Context, s *session, ticket string, o CheckoutOptions, nonce string) (*Lease, error) {
	ch := s.ticket(ticket)
	if ch == nil {
		return nil, fmt.Errorf("%w: QUEUED without a ticket", ErrProtocol)
	}
	defer s.dropTicket(ticket)
	select {
	case ev := <-ch:
		if ev.Sub == "granted" {
			return c.granted(s, ev, o, nonce, time.Now())
		}
		return nil, &DeniedError{Reason: ev.Get("reason"), Message: ev.Get("message")}
	case <-s.done:
		select {
		case ev := <-ch: // it came just before the connection broke
			if ev.Sub == "granted" {
				return c.granted(s, ev, o, nonce, time.Now())
			}
			return nil, &DeniedError{Reason: ev.Get("reason"), Message: ev.Get("message")}
		default:
		}
		return nil, errQueueLost
	case <-ctx.Done():
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.opts.RequestTimeout)
		defer cancel()
		r := wire.Request{Verb: wire.Cancel}
		r.Set(wire.KeyTicket, ticket)
		if m, err := c.roundTrip(cctx, s, &r); err == nil && m.Word == "GONE" {
			// Too late to cancel: the grant is on its way; give it back.
			select {
			case ev := <-ch:
				if ev.Sub == "granted" {
					cr := wire.Request{Verb: wire.Checkin}
					cr.Set(wire.KeyLease, ev.Get("lease"))
					_, _ = c.roundTrip(cctx, s, &cr)
				}
			case <-cctx.Done():
			case <-s.done:
			}
		}
		return nil, ctx.Err()
	}
}

// granted checks a GRANTED or EVENT granted line, which came on s, and
// starts the lease.
func (c *Client) granted(s *session, m wire.Message, o CheckoutOptions, nonce string, sent time.Time) (*Lease, error) {
	id := m.Get("lease")
	count, ok1 := m.Int("count")
	ttl, ok2 := m.Int("ttl")
	expires, ok3 := m.Time("expires")
	if id == "" || !ok1 || !ok2 || !ok3 || ttl <= 0 {
		return nil, fmt.Errorf("%w: incomplete grant %+v", ErrProtocol, m.Pairs)
	}
	if c.opts.PublicKey != nil {
		sig, err := base64.RawURLEncoding.DecodeString(m.Get("sig"))
		text := fmt.Sprintf("CLM1 lease=%s feature=%s count=%s user=%s host=%s expires=%s nonce=%s",
			id, m.Get("feature"), m.Get("count"), o.User, o.Host, m.Get("expires"), nonce)
		if err != nil || !ed25519.Verify(c.opts.PublicKey, []byte(text), sig) {
			return nil, ErrBadSignature
		}
	}
	ctx, stop := context.WithCancel(c.ctx)
	l := &Lease{
		ID: id, Feature: m.Get("feature"), Count: count, TTL: time.Duration(ttl) * time.Second,
		c: c, stop: stop, done: make(chan struct{}), expires: expires,
	}
	if o.BindConn {
		l.boundOn = s
		s.bind(id)
	}
	go l.heartbeatLoop(ctx, sent)
	return l, nil
}

// heartbeatLoop renews the lease every TTL/3. Failures other than GONE
// (a broken connection, an unavailable gateway) are retried on whatever
// connection the Client has by then, after pauses with full jitter
// (ceilings from min(TTL/20, 1s) doubling up to TTL/3) so that the leases
// of a restarted gateway are not all renewed in the same instant, until
// the lease must have expired. That moment is measured on the local clock from the last
// successful heartbeat (send time + TTL), so clock skew does not matter.
func (l *Lease) heartbeatLoop(ctx context.Context, granted time.Time) {
	defer close(l.done)
	interval := max(l.TTL/3, 100*time.Millisecond)
	quick := max(min(l.TTL/20, time.Second), 50*time.Millisecond)
	retries := retry.Policy{Initial: quick, Max: max(interval, quick)}.BackOff()
	deadline := granted.Add(l.TTL)
	next := interval
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(next):
		}
		r := wire.Request{Verb: wire.Heartbeat}
		r.Set(wire.KeyLease, l.ID)
		sent := time.Now()
		hctx, cancel := context.WithTimeout(ctx, max(time.Until(deadline), quick))
		a, err := l.c.do(hctx, &r, false)
		cancel()
		var m wire.Message
		if err == nil {
			m = a.lines[0]
		}
		switch {
		case err == nil && m.Word == "OK":
			if t, ok := m.Time("expires"); ok {
				l.mu.Lock()
				l.expires = t
				l.mu.Unlock()
			}
			ttl := l.TTL
			if n, ok := m.Int("ttl"); ok && n > 0 {
				ttl = time.Duration(n) * time.Second
			}
			deadline = sent.Add(ttl)
			next = interval
			retries.Reset()
			continue
		case err == nil && m.Word == "GONE":
			l.end(answerError(m))
			return
		case ctx.Err() != nil:
			return
		}
		if !time.Now().Before(deadline) {
			l.end(ErrLeaseLost)
			return
		}
		next = min(retries.NextBackOff(), time.Until(deadline))
	}
}

func (l *Lease) end(err error) {
	l.mu.Lock()
	l.err = err
	l.mu.Unlock()
}
