package forward

import (
	"context"
	"crypto/ed25519"
	"errors"
	"sync/atomic"

	"github.com/licensegw/licensegw/sdk"
)

// seats is one plugin instance's sdk.Seats on a node: calls go to the
// local engine while this node leads (Lead), to the leader otherwise;
// PublicKey and Sign are answered with this node's key.
type seats struct {
	f        *Forwarder
	plugin   string
	protocol string
	cache    atomic.Pointer[localSeats]
}

var _ sdk.Seats = (*seats)(nil)

func (s *seats) req() *request { return &request{Plugin: s.plugin, Protocol: s.protocol} }

// keyed gives a checkout a RequestKey if it has none: a retry (across a
// failover, or from the local engine to the leader) must find the lease
// the first attempt may have granted, not take more seats.
func (s *seats) keyed(cr *sdk.CheckoutRequest) {
	if cr.RequestKey == "" {
		cr.RequestKey = s.f.id()
	}
}

func (s *seats) Checkout(ctx context.Context, cr sdk.CheckoutRequest) (*sdk.Checkout, error) {
	if err := cr.Validate(); err != nil {
		return nil, err
	}
	s.keyed(&cr)
	attempts := 0
	if ls, l := s.local(); ls != nil {
		co, err := ls.Checkout(ctx, cr)
		if answeredLocally(err) {
			return s.localQueued(co, l.Term), err
		}
		attempts = 1
	}
	return s.forwardCheckout(ctx, cr, attempts)
}

// forwardCheckout sends a keyed checkout to the leader; attempts counts
// the attempts made before (on the local engine).
func (s *seats) forwardCheckout(ctx context.Context, cr sdk.CheckoutRequest, attempts int) (*sdk.Checkout, error) {
	req := s.req()
	req.Checkout = &cr
	req.Attempt = attempts
	var w *waiter
	if cr.Wait > 0 {
		w = s.f.addWaiter()
		req.Waiter = w.name
	}
	r, err := s.f.call(ctx, opCheckout, req)
	if err == nil {
		err = r.Err.err()
	}
	if err != nil || r.Checkout == nil || r.Checkout.Outcome != sdk.Queued {
		if w != nil {
			s.f.dropWaiter(w)
		}
		if err == nil && r.Checkout == nil {
			err = errors.New("forward: the leader's answer has no checkout")
		}
		if err != nil {
			return nil, err
		}
	}
	c := r.Checkout
	out := &sdk.Checkout{Outcome: c.Outcome, Grant: c.Grant, Denial: c.Denial, Ticket: c.Ticket, Position: c.Position}
	if c.Outcome == sdk.Queued {
		if w == nil { // queued without asking to wait: not expected
			w = s.f.addWaiter()
		}
		out.Updates = s.f.queued(w, c.Ticket, r.Term)
	}
	return out, nil
}

func (s *seats) Heartbeat(ctx context.Context, lease string) (sdk.LeaseState, error) {
	attempts := 0
	if ls, _ := s.local(); ls != nil {
		st, err := ls.Heartbeat(ctx, lease)
		if answeredLocally(err) {
			return st, err
		}
		attempts = 1
	}
	req := s.req()
	req.Lease, req.Attempt = lease, attempts
	r, err := s.f.call(ctx, opHeartbeat, req)
	if err != nil {
		return sdk.LeaseState{}, err
	}
	if err := r.Err.err(); err != nil {
		return sdk.LeaseState{}, err
	}
	if r.State == nil {
		return sdk.LeaseState{}, errors.New("forward: the leader's answer has no lease state")
	}
	return *r.State, nil
}

// retriedGone reports whether err, after more than one attempt, says the
// lease is unknown: an earlier attempt ended it.
func retriedGone(req *request, err error, reasons ...string) bool {
	var gone *sdk.GoneError
	if req.Attempt <= 1 || !errors.As(err, &gone) {
		return false
	}
	for _, r := range reasons {
		if gone.Reason == r {
			return true
		}
	}
	return false
}

func (s *seats) Checkin(ctx context.Context, lease string) error {
	attempts := 0
	if ls, _ := s.local(); ls != nil {
		err := ls.Checkin(ctx, lease)
		if answeredLocally(err) {
			return err
		}
		attempts = 1
	}
	return s.forwardCheckin(ctx, lease, attempts)
}

func (s *seats) forwardCheckin(ctx context.Context, lease string, attempts int) error {
	req := s.req()
	req.Lease, req.Attempt = lease, attempts
	r, err := s.f.call(ctx, opCheckin, req)
	if err != nil {
		return err
	}
	err = r.Err.err()
	if retriedGone(req, err, "unknown") {
		return nil
	}
	return err
}

func (s *seats) Cancel(ctx context.Context, ticket string) error {
	req := s.req()
	req.Ticket = ticket
	if ls, _ := s.local(); ls != nil {
		err := ls.Cancel(ctx, ticket)
		if answeredLocally(err) {
			return err
		}
		req.Attempt = 1
	}
	r, err := s.f.call(ctx, opCancel, req)
	if err != nil {
		return err
	}
	err = r.Err.err()
	if req.Attempt > 1 && errors.Is(err, sdk.ErrUnknownTicket) {
		return nil
	}
	return err
}

func (s *seats) Remove(ctx context.Context, lease string, by sdk.Client) error {
	req := s.req()
	req.Lease, req.By = lease, &by
	if ls, _ := s.local(); ls != nil {
		err := ls.Remove(ctx, lease, by)
		if answeredLocally(err) {
			return err
		}
		req.Attempt = 1
	}
	r, err := s.f.call(ctx, opRemove, req)
	if err != nil {
		return err
	}
	err = r.Err.err()
	if retriedGone(req, err, "unknown", "removed") {
		return nil
	}
	return err
}

func (s *seats) Status(ctx context.Context, q sdk.StatusQuery) ([]sdk.FeatureStatus, error) {
	if ls, _ := s.local(); ls != nil {
		fs, err := ls.Status(ctx, q)
		if answeredLocally(err) {
			return fs, err
		}
	}
	req := s.req()
	req.Query = &q
	r, err := s.f.call(ctx, opStatus, req)
	if err != nil {
		return nil, err
	}
	return r.Features, r.Err.err()
}

func (s *seats) Reload(ctx context.Context) error {
	if ls, _ := s.local(); ls != nil {
		if err := ls.Reload(ctx); answeredLocally(err) {
			return err
		}
	}
	r, err := s.f.call(ctx, opReload, s.req())
	if err != nil {
		return err
	}
	return r.Err.err()
}

func (s *seats) PublicKey(context.Context) ([]byte, error) {
	if s.f.cfg.Signer == nil {
		return nil, nil
	}
	return s.f.cfg.Signer.Public().(ed25519.PublicKey), nil
}

func (s *seats) Sign(_ context.Context, data []byte) ([]byte, error) {
	if s.f.cfg.Signer == nil {
		return nil, errors.New("the gateway has no signing key")
	}
	return ed25519.Sign(s.f.cfg.Signer, data), nil
}
