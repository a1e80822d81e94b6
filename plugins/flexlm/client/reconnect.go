package client

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/licensegw/licensegw/internal/retry"
	"github.com/licensegw/licensegw/plugins/flexlm/wire"
)

// ErrNotReacquired is wrapped by the Err of a License that could not be
// checked out again after a reconnection; the server's refusal (a
// *DeniedError or *ServerError) is wrapped too.
var ErrNotReacquired = errors.New("flexlm client: licence not checked out again after reconnecting")

// attemptTimeout bounds one re-checkout.
const attemptTimeout = 10 * time.Second

// reacquireTries is how often a re-checkout is asked before a refusal
// loses the licence: after a network blip the server may not yet have
// checked in what the old connection held (no-seats, or a MAX limit).
const reacquireTries = 3

// supervise watches the vendor connection v and, when it drops, connects
// again and checks out again what the client held, until the client is
// closed or reconnection gives up.
func (c *Client) supervise(v *conn) {
	for {
		select {
		case <-v.done:
		case <-c.closing:
			return
		}
		if err := v.Err(); isVendorDown(err) {
			// lmdown: the administrator stopped the vendor daemon on
			// purpose; its licences are gone until lmreread.
			c.giveUp(err)
			return
		}
		nv, err := c.reconnect()
		if err != nil {
			c.giveUp(err)
			return
		}
		c.reacquire(nv)
		v = nv
	}
}

// reconnect connects to a vendor daemon again, the next server's first,
// pausing with exponential backoff and full jitter before each pass over
// the servers, until GiveUpAfter.
func (c *Client) reconnect() (*conn, error) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-c.closing:
			cancel()
		case <-ctx.Done():
		}
	}()
	o := c.opts
	start := time.Now()
	policy := retry.Policy{Initial: o.MinBackoff, Max: o.MaxBackoff, GiveUpAfter: o.GiveUpAfter}
	// A pause before the first attempt too: the clients of a restarted
	// server all lose it at the same instant and must not all come back
	// at the same instant.
	if !retry.Sleep(ctx, policy.BackOff().NextBackOff()) {
		return nil, errClientClosed
	}
	v, err := retry.Do(ctx, policy, func() (*conn, error) {
		// Each pass goes over the list from the server after the one
		// that failed; ConnectTimeout bounds each server.
		c.connMu.Lock()
		v, err := c.connectLocked(ctx, true)
		c.connMu.Unlock()
		if errors.Is(err, errClientClosed) || isVendorDown(err) {
			return nil, retry.Permanent(err)
		}
		return v, err
	})
	switch {
	case err == nil:
		return v, nil
	case ctx.Err() != nil:
		return nil, errClientClosed
	case errors.Is(err, errClientClosed) || isVendorDown(err):
		return nil, err
	}
	return nil, fmt.Errorf("%w: server unreachable for %v: %w", ErrClosed, time.Since(start).Round(time.Second), err)
}

// giveUp ends reconnection: the licences still held are lost, and waiting
// checkouts fail with err. A later call may connect again.
func (c *Client) giveUp(err error) {
	c.mu.Lock()
	var lost []*License
	if v := c.vendor; v != nil && v.Err() == nil {
		// A call connected meanwhile: keep what is held there and watch
		// the new connection instead.
		for l := range c.licenses {
			if l.connection() != v {
				lost = append(lost, l)
				delete(c.licenses, l)
			}
		}
		go c.supervise(v)
	} else {
		c.supervising = false
		c.gaveUp = err
		lost = c.takeLicensesLocked()
		c.signalLocked()
	}
	c.mu.Unlock()
	for _, l := range lost {
		l.setLost(err)
	}
}

// takeLicensesLocked empties the set of held licences and returns them.
func (c *Client) takeLicensesLocked() []*License {
	lics := make([]*License, 0, len(c.licenses))
	for l := range c.licenses {
		lics = append(lics, l)
	}
	c.licenses = map[*License]struct{}{}
	return lics
}

// register adds l, granted on v, to the licences to check out again on a
// new connection. It fails when v has already been replaced: the server
// gave back what v held, and the reacquiring pass may have run without l.
func (c *Client) register(l *License, v *conn) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.closed:
		return errClientClosed
	case c.vendor != v:
		return fmt.Errorf("%w: replaced while checking out", ErrClosed)
	}
	c.licenses[l] = struct{}{}
	return nil
}

func (c *Client) unregister(l *License) {
	c.mu.Lock()
	delete(c.licenses, l)
	c.mu.Unlock()
}

// awaitVendor waits for a vendor connection other than old, as supervise
// makes one; it fails when reconnection is off or ends.
func (c *Client) awaitVendor(ctx context.Context, old *conn) (*conn, error) {
	for {
		c.mu.Lock()
		v, ch, closed, supervising, gaveUp := c.vendor, c.changed, c.closed, c.supervising, c.gaveUp
		c.mu.Unlock()
		switch {
		case closed:
			return nil, errClientClosed
		case v != old && v != nil && v.Err() == nil:
			return v, nil
		case !supervising && gaveUp != nil:
			return nil, gaveUp
		case !supervising:
			return c.vendorConn(ctx)
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// reacquire checks out again, on v, every licence held on an earlier
// connection: FlexLM's licences belong to the connection, so the server
// gave them back when the old one ended.
func (c *Client) reacquire(v *conn) {
	c.mu.Lock()
	var todo []*License
	for l := range c.licenses {
		if l.connection() != v {
			todo = append(todo, l)
		}
	}
	c.mu.Unlock()
	for _, l := range todo {
		if v.Err() != nil {
			return // supervise reconnects again and resumes
		}
		err := c.reacquireOne(v, l)
		switch {
		case err == nil:
		case errors.Is(err, ErrClosed):
			return
		default:
			c.unregister(l)
			l.setLost(fmt.Errorf("%w: %w", ErrNotReacquired, err))
		}
	}
}

// reacquireOne checks l out again on v: the same feature, version and
// count for the same user, host and display. A borrowed licence outlived
// the connection on the server: only its new handle is looked up.
func (c *Client) reacquireOne(v *conn, l *License) error {
	if l.Borrowed {
		return c.rebindBorrowed(v, l)
	}
	// A refusal may be the old connection's seats, not yet freed: ask
	// again after a jittered pause, a few times.
	policy := retry.Policy{Initial: c.opts.MinBackoff, Max: 4 * c.opts.MinBackoff, Tries: reacquireTries}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { // the connection's end ends the retries
		select {
		case <-v.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	_, err := retry.Do(ctx, policy, func() (struct{}, error) {
		actx, acancel := context.WithTimeout(ctx, attemptTimeout)
		ans, err := v.request(actx, c.checkoutFrame(l.req, 0, l.key))
		acancel()
		switch {
		case err != nil:
			return struct{}{}, retry.Permanent(err)
		case ans.Type == wire.Granted:
			if !l.rebind(v, ans) {
				// Checked in meanwhile: give the new seats back.
				actx, acancel := context.WithTimeout(context.Background(), attemptTimeout)
				_, _ = v.request(actx, wire.New(wire.Checkin, 0).Int(wire.THandle, ans.GetInt(wire.THandle)))
				acancel()
			}
			return struct{}{}, nil
		case ans.Type == wire.Denied:
			return struct{}{}, deniedOf(ans) // no-seats, limit, ...: maybe the old connection's seats
		case ans.Type == wire.Error && ans.GetInt(wire.TCode) == wire.CodeUnavailable:
			// This server cannot decide now: after the tries, the
			// connection is ended (below) so that the next server of
			// the list is asked.
			return struct{}{}, &ServerError{Code: wire.CodeUnavailable, Message: ans.GetStr(wire.TMessage)}
		case ans.Type == wire.Error:
			return struct{}{}, retry.Permanent(&ServerError{Code: int(ans.GetInt(wire.TCode)), Message: ans.GetStr(wire.TMessage)})
		default:
			return struct{}{}, retry.Permanent(fmt.Errorf("flexlm client: unexpected %s answer to CHECKOUT", ans.Type))
		}
	})
	if err != nil && ctx.Err() != nil && v.Err() != nil {
		return v.Err()
	}
	if isUnavailable(err) && !c.opts.NoReconnect {
		v.end(fmt.Errorf("server unavailable while checking a licence out again: %w", err))
		return v.Err()
	}
	return err
}

// rebindBorrowed finds the handle the server now gives l's lease.
func (c *Client) rebindBorrowed(v *conn, l *License) error {
	ctx, cancel := context.WithTimeout(context.Background(), attemptTimeout)
	defer cancel()
	fs, err := v.status(ctx, l.Feature)
	if err != nil {
		return err
	}
	lease := l.Current().Lease
	for _, f := range fs {
		for _, ls := range f.Leases {
			if ls.Lease == lease {
				l.rebindHandle(v, ls.Handle)
				return nil
			}
		}
	}
	return &GoneError{Reason: "unknown"}
}

// isVendorDown reports whether err is the server's "vendor daemon is down"
// (lmdown), which ends reconnection.
func isVendorDown(err error) bool {
	var se *ServerError
	return errors.As(err, &se) && se.Code == wire.CodeVendorDown
}
