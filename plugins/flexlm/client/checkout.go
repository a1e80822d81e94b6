package client

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

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

	c       *Client
	stop    chan struct{}
	done    chan struct{}
	lost    chan struct{}
	mu      sync.Mutex
	lostErr error
	once    sync.Once
}

// Checkout asks for seats. With Wait > 0 it may queue and then blocks
// until the seats are granted, the wait ends, or ctx is cancelled (which
// cancels the ticket). A refusal is a *DeniedError.
func (c *Client) Checkout(ctx context.Context, req CheckoutRequest) (*License, error) {
	if err := c.connectVendor(ctx); err != nil {
		return nil, err
	}
	o := c.opts
	f := wire.New(wire.Checkout, 0).Str(wire.TFeature, req.Feature).Str(wire.TVendor, req.Vendor).
		Str(wire.TVersion, req.Version).Int(wire.TCount, int64(max(req.Count, 1))).
		Int(wire.TWaitMs, req.Wait.Milliseconds()).Int(wire.TBorrowS, int64(req.Borrow/time.Second)).
		Str(wire.TUser, o.User).Str(wire.THost, o.Host).Str(wire.TDisplay, o.Display).Str(wire.TProject, o.Project)
	ch, stop, err := c.vendor.start(f)
	if err != nil {
		return nil, err
	}
	defer stop()
	ticket := int64(-1)
	for {
		ans, err := c.vendor.nextFrame(ctx, ch)
		if err != nil {
			if ticket >= 0 && ctx.Err() != nil {
				// Stop waiting; the server answers the ticket with a final DENIED.
				cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
				_, _ = c.vendor.request(cctx, wire.New(wire.Cancel, 0).Int(wire.TTicket, ticket))
				cancel()
			}
			return nil, err
		}
		switch ans.Type {
		case wire.Granted:
			return c.newLicense(ans), nil
		case wire.Denied:
			return nil, &DeniedError{Reason: ans.GetStr(wire.TReason), Message: ans.GetStr(wire.TMessage),
				InUse: int(ans.GetInt(wire.TInUse)), Seats: int(ans.GetInt(wire.TSeats))}
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

func (c *Client) newLicense(f *wire.Frame) *License {
	l := &License{
		Handle: int(f.GetInt(wire.THandle)), Lease: f.GetStr(wire.TLease), Feature: f.GetStr(wire.TFeature),
		Vendor: f.GetStr(wire.TVendor), Version: f.GetStr(wire.TVersion), Count: int(f.GetInt(wire.TCount)),
		TTL: time.Duration(f.GetInt(wire.TTTLMs)) * time.Millisecond, Borrowed: f.GetBool(wire.TBorrowed),
		c: c, stop: make(chan struct{}), done: make(chan struct{}), lost: make(chan struct{}),
	}
	if e := f.GetInt(wire.TExpires); e != 0 {
		l.Expires = time.Unix(e, 0)
	}
	go l.heartbeat()
	return l
}

// heartbeat renews the licence at a third of its TTL.
func (l *License) heartbeat() {
	defer close(l.done)
	every := max(l.TTL/3, minHeartbeat)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-l.c.vendor.done:
			l.setLost(l.c.vendor.Err())
			return
		case <-t.C:
		}
		// Wait up to half the TTL: a slow answer still beats expiry.
		ctx, cancel := context.WithTimeout(context.Background(), max(l.TTL/2, every))
		ans, err := l.c.vendor.request(ctx, wire.New(wire.Heartbeat, 0).Int(wire.THandle, int64(l.Handle)))
		cancel()
		switch {
		case errors.Is(err, ErrClosed):
			l.setLost(err)
			return
		case err != nil:
			continue // a slow answer: try again next tick
		case ans.Type == wire.Gone:
			l.setLost(&GoneError{Reason: ans.GetStr(wire.TReason)})
			return
		}
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
// (removed by lmremove, expired) or the connection ended. Err says why.
func (l *License) Lost() <-chan struct{} { return l.lost }

// Err reports why the licence was lost, or nil.
func (l *License) Err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lostErr
}

// Checkin stops the heartbeats and gives the seats back.
func (l *License) Checkin(ctx context.Context) error {
	l.once.Do(func() { close(l.stop) })
	<-l.done
	if err := l.Err(); err != nil {
		return err
	}
	ans, err := l.c.vendor.request(ctx, wire.New(wire.Checkin, 0).Int(wire.THandle, int64(l.Handle)))
	if err != nil {
		return err
	}
	if ans.Type == wire.Gone {
		return &GoneError{Reason: ans.GetStr(wire.TReason)}
	}
	l.setLost(errors.New("checked in"))
	return nil
}
