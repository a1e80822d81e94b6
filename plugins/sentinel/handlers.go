package sentinel

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strconv"
	"time"

	"github.com/licensegw/licensegw/plugins/sentinel/wire"
	"github.com/licensegw/licensegw/sdk"
)

// requestKeyPrefix keeps this protocol's request keys apart from others'.
const requestKeyPrefix = "sentinel/"

// day is a commuter day.
const day = 24 * time.Hour

// execute runs one request against the gateway and returns its answer
// without ID and Type, or nil when the server stays silent. The frequent
// answers are written to out (the worker's own), the others allocated.
func (s *server) execute(ctx context.Context, req *wire.Request, addr netip.AddrPort, out *wire.Response) *wire.Response {
	// A string that is not UTF-8 could not even reach the gateway: the
	// request is refused alone, before anything is asked.
	if err := req.Check(); err != nil {
		return &wire.Response{Status: wire.BadRequest}
	}
	switch req.Type {
	case wire.Checkout, wire.Commute:
		return s.checkout(ctx, req, addr, out)
	case wire.Refresh:
		st, err := s.seats.Heartbeat(ctx, req.Handle)
		if err != nil {
			return s.failure(err)
		}
		*out = wire.Response{Status: wire.OK, Grant: wire.Grant{Lifetime: st.TTL, Expires: st.Expires}}
		return out
	case wire.Release, wire.Return:
		if err := s.seats.Checkin(ctx, req.Handle); err != nil {
			return s.failure(err)
		}
		*out = wire.Response{Status: wire.OK}
		return out
	case wire.Poll:
		return s.poll(req.Handle)
	case wire.Cancel:
		if err := s.seats.Cancel(ctx, req.Handle); err != nil {
			// Unknown to the core: never queued, or already decided; in
			// that case a poll still tells the decision (a grant the
			// client must release).
			return s.failure(err)
		}
		s.tickets.cancelled(req.Handle)
		return &wire.Response{Status: wire.OK}
	case wire.Features, wire.Clients, wire.Discover:
		// Queries list what is licensed and who holds it: only for the
		// monitoring hosts in status_allow.
		if err := s.access.CheckStatus(net.UDPAddrFromAddrPort(addr)); err != nil {
			return &wire.Response{Status: wire.NotAuthorized}
		}
		return s.query(ctx, req)
	}
	return &wire.Response{Status: wire.BadRequest}
}

// query answers a features, clients or discover request.
func (s *server) query(ctx context.Context, req *wire.Request) *wire.Response {
	switch req.Type {
	case wire.Features:
		return s.features(ctx, req)
	case wire.Clients:
		return s.clients(ctx, req)
	}
	return s.discover(ctx, req.Feature)
}

func (s *server) checkout(ctx context.Context, req *wire.Request, addr netip.AddrPort, out *wire.Response) *wire.Response {
	// The gateway remembers the grant under the client's address and
	// request id: a retransmission that outlives this process's answer
	// cache (a plugin or gateway restart) finds the same token. The key
	// "sentinel/<addr>/<id>" and the client's address share one string.
	var kb [96]byte
	k := append(kb[:0], requestKeyPrefix...)
	k = addr.AppendTo(k)
	end := len(k)
	k = append(k, '/')
	key := string(strconv.AppendUint(k, req.ID, 16))
	cr := sdk.CheckoutRequest{
		Feature:    req.Feature,
		Version:    req.Version,
		Count:      req.Count,
		Client:     sdk.Client{User: req.User, Host: req.Host, Display: req.Display, Addr: key[len(requestKeyPrefix):end]},
		RequestKey: key,
	}
	if req.Feature == "" {
		return &wire.Response{Status: wire.BadRequest}
	}
	if req.Type == wire.Commute {
		if req.Days < 1 {
			return &wire.Response{Status: wire.BadRequest}
		}
		cr.Borrow = time.Duration(req.Days) * day
	} else if req.Queue {
		cr.Wait = req.Wait
		if cr.Wait <= 0 {
			cr.Wait = s.opts.queueWait
		}
	}
	c, err := s.seats.Checkout(ctx, cr)
	if err != nil {
		return s.failure(err)
	}
	switch c.Outcome {
	case sdk.Granted:
		*out = wire.Response{Status: wire.OK, Grant: grantOf(c.Grant)}
		return out
	case sdk.Queued:
		s.tickets.add(c)
		return &wire.Response{Status: wire.Queued, Ticket: c.Ticket, Position: c.Position}
	default:
		return denial(c.Denial)
	}
}

func (s *server) poll(id string) *wire.Response {
	t, ok := s.tickets.poll(id)
	switch {
	case !ok:
		return &wire.Response{Status: wire.UnknownTicket}
	case t.final == nil:
		return &wire.Response{Status: wire.Queued, Ticket: t.id, Position: t.position}
	case t.final.Grant != nil:
		return &wire.Response{Status: wire.OK, Grant: grantOf(t.final.Grant)}
	default:
		return denial(t.final.Denial)
	}
}

func grantOf(g *sdk.Grant) wire.Grant {
	return wire.Grant{Handle: g.Lease, Count: g.Count, Lifetime: g.TTL, Expires: g.Expires, Commuter: g.Borrowed}
}

// denialStatus maps the core's denial reasons onto statuses.
var denialStatus = map[string]wire.Status{
	"no-seats":        wire.NoSeats,
	"unknown-feature": wire.UnknownFeature,
	"expired":         wire.Expired,
	"not-started":     wire.NotStarted,
	"version":         wire.VersionTooHigh,
	"excluded":        wire.Excluded,
	"limit":           wire.LimitReached,
	"reserved":        wire.Reserved,
	"count":           wire.TooMany,
	"queue-full":      wire.QueueFull,
	"timeout":         wire.QueueTimeout,
	"borrow":          wire.CommuterRefused,
}

func denial(d *sdk.Denial) *wire.Response {
	if d == nil {
		return &wire.Response{Status: wire.Internal}
	}
	if st, ok := denialStatus[d.Reason]; ok {
		return &wire.Response{Status: st, InUse: d.InUse, Seats: d.Seats}
	}
	// cancelled, removed, restart, disconnect: the ticket left the queue.
	return &wire.Response{Status: wire.Dequeued, Reason: truncate(d.Reason)}
}

// failure answers a Seats error.
func (s *server) failure(err error) *wire.Response {
	var gone *sdk.GoneError
	switch {
	case errors.As(err, &gone):
		return &wire.Response{Status: wire.Gone, Reason: truncate(gone.Reason)}
	case errors.Is(err, sdk.ErrUnknownTicket):
		return &wire.Response{Status: wire.UnknownTicket}
	case errors.Is(err, sdk.ErrInvalid):
		return &wire.Response{Status: wire.BadRequest}
	case errors.Is(err, sdk.ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		return &wire.Response{Status: wire.Unavailable}
	default:
		s.log.Error("gateway call failed", "error", err)
		return &wire.Response{Status: wire.Internal}
	}
}

func truncate(s string) string {
	if len(s) > wire.MaxString {
		return s[:wire.MaxString]
	}
	return s
}
