package concurrentlm

import (
	"context"
	"encoding/base64"
	"errors"
	"math"
	"net"
	"net/netip"
	"time"

	"github.com/licensegw/licensegw/plugins/concurrentlm/wire"
	"github.com/licensegw/licensegw/sdk"
)

// Product is what HELLO reports as server=.
const Product = "licensegw"

// maxCount bounds count= (a sanity bound; the core enforces real limits).
const maxCount = 1_000_000

// maxWait bounds wait= in seconds (one week).
const maxWait = 7 * 24 * 3600

// after tells the caller of handle what to do once the answer is written.
type after struct {
	queued *ticketWatch // TCP: watch this ticket once QUEUED is on the wire
	quit   bool         // close the TCP connection after the answer
	grant  *sdk.Grant   // UDP: the grant in the answer, to give back if it cannot be sent
}

// handle executes one parsed request and appends its answer lines, each
// ending in LF, to b. c is the TCP connection, nil for UDP. budget > 0 is
// the UDP size bound: optional message= values are dropped to meet it.
func (s *server) handle(ctx context.Context, r *wire.Request, c *conn, addr string, budget int, b []byte) ([]byte, after) {
	id := r.ID()
	switch r.Verb {
	case wire.Ping:
		return endLine(append(b, "PONG"...), id), after{}
	case wire.Quit:
		return endLine(append(b, "BYE"...), id), after{quit: c != nil}
	case wire.Hello:
		return s.hello(ctx, id, b), after{}
	case wire.Checkout:
		return s.checkout(ctx, r, c, addr, budget, b)
	case wire.Heartbeat:
		lease, ok := r.Get(wire.KeyLease)
		if !ok || lease == "" {
			return errLine(b, wire.CodeBadRequest, "HEARTBEAT needs lease=", id), after{}
		}
		st, err := s.seats.Heartbeat(ctx, lease)
		if err != nil {
			return s.seatsError(b, err, "lease", lease, id), after{}
		}
		b = append(b, "OK"...)
		b = wire.AppendPair(b, "lease", lease)
		b = wire.AppendSeconds(b, "ttl", st.TTL)
		b = wire.AppendTime(b, "expires", st.Expires)
		return endLine(b, id), after{}
	case wire.Checkin:
		lease, ok := r.Get(wire.KeyLease)
		if !ok || lease == "" {
			return errLine(b, wire.CodeBadRequest, "CHECKIN needs lease=", id), after{}
		}
		err := s.seats.Checkin(ctx, lease)
		var gone *sdk.GoneError
		if c != nil && (err == nil || errors.As(err, &gone)) {
			c.unbind(lease)
		}
		if err != nil {
			return s.seatsError(b, err, "lease", lease, id), after{}
		}
		b = append(b, "OK"...)
		b = wire.AppendPair(b, "lease", lease)
		return endLine(b, id), after{}
	case wire.Cancel:
		ticket, ok := r.Get(wire.KeyTicket)
		if !ok || ticket == "" {
			return errLine(b, wire.CodeBadRequest, "CANCEL needs ticket=", id), after{}
		}
		if c != nil {
			c.markCancelled(ticket)
		}
		if err := s.seats.Cancel(ctx, ticket); err != nil {
			return s.seatsError(b, err, "ticket", ticket, id), after{}
		}
		b = append(b, "OK"...)
		b = wire.AppendPair(b, "ticket", ticket)
		return endLine(b, id), after{}
	case wire.Status:
		if err := s.checkStatus(addr); err != nil {
			return errLine(b, wire.CodeNotAuthorized, "status queries are not allowed from this address", id), after{}
		}
		return s.status(ctx, r, c == nil, b), after{}
	}
	return errLine(b, wire.CodeUnknownVerb, "unknown verb", id), after{}
}

func (s *server) hello(ctx context.Context, id string, b []byte) []byte {
	key, err := s.seats.PublicKey(ctx)
	if err != nil {
		return s.seatsError(b, err, "", "", id)
	}
	b = append(b, "OK"...)
	b = wire.AppendPair(b, "server", Product)
	b = wire.AppendPair(b, "version", Version)
	b = append(b, " proto=1"...)
	b = wire.AppendSeconds(b, "ttl", s.lim.HelloTTL)
	if len(key) > 0 {
		b = wire.AppendPair(b, "key", base64.RawURLEncoding.EncodeToString(key))
	}
	return endLine(b, id)
}

func (s *server) checkout(ctx context.Context, r *wire.Request, c *conn, addr string, budget int, b []byte) ([]byte, after) {
	id := r.ID()
	req := sdk.CheckoutRequest{
		Vendor:  r.Value(wire.KeyVendor),
		Feature: r.Value(wire.KeyFeature),
		Version: r.Value(wire.KeyVersion),
		Count:   1,
		Client: sdk.Client{
			User:    r.Value(wire.KeyUser),
			Host:    r.Value(wire.KeyHost),
			Display: r.Value(wire.KeyDisplay),
			Addr:    addr,
		},
		Sign:  signRequested(r),
		Nonce: r.Value(wire.KeyNonce),
	}
	if req.Feature == "" || req.Client.User == "" || req.Client.Host == "" {
		return errLine(b, wire.CodeBadRequest, "CHECKOUT needs feature=, user= and host=", id), after{}
	}
	if v, ok := r.Get(wire.KeyCount); ok {
		n, ok := wire.ParseNumber(v, maxCount)
		if !ok || n < 1 {
			return errLine(b, wire.CodeBadRequest, "count= must be a whole number from 1 to 1000000 (digits, no sign or leading zeros)", id), after{}
		}
		req.Count = int(n)
	}
	if v, ok := r.Get(wire.KeyPID); ok {
		if n, ok := wire.ParseNumber(v, math.MaxUint32); !ok || n == 0 {
			return errLine(b, wire.CodeBadRequest, "pid= must be a whole number from 1 to 4294967295 (digits, no sign or leading zeros)", id), after{}
		}
	}
	if v, ok := r.Get(wire.KeyWait); ok {
		n, ok := wire.ParseNumber(v, maxWait)
		if !ok {
			return errLine(b, wire.CodeBadRequest, "wait= must be whole seconds from 0 to 604800 (digits, no sign or leading zeros)", id), after{}
		}
		req.Wait = time.Duration(n) * time.Second
	}
	if req.Sign && !wire.IsNonce(req.Nonce) {
		return errLine(b, wire.CodeBadRequest, "nonce= must be 1 to 64 of [A-Za-z0-9_-]", id), after{}
	}
	bind := false
	if v, ok := r.Get(wire.KeyBind); ok {
		if v != "conn" {
			return errLine(b, wire.CodeBadRequest, "bind= takes only conn", id), after{}
		}
		if c == nil {
			return errLine(b, wire.CodeBadRequest, "bind=conn needs a TCP connection", id), after{}
		}
		bind = true
	}
	req.BindConn = bind
	if v, ok := r.Get(wire.KeyRequest); ok {
		// licensegw's extension: the client names its checkout, and asks
		// again under the same name (on this node or another of the
		// cluster) when it got no answer, so a grant whose answer was lost
		// is given again instead of taking more seats.
		if !wire.IsNonce(v) {
			return errLine(b, wire.CodeBadRequest, "request= must be 1 to 64 of [A-Za-z0-9_-]", id), after{}
		}
		req.RequestKey = "clm/" + v
	} else if c == nil {
		// UDP: the gateway remembers the grant under the client's
		// address and id, so a retransmission that reaches a restarted
		// plugin (whose answer cache is gone) or a restarted gateway
		// still finds its lease instead of taking a second seat.
		req.RequestKey = "clm-udp/" + addr + "/" + id
	}
	// Queue waits are TCP only, and a connection holds a bounded number of
	// tickets: past the bound the checkout is tried without waiting.
	if c == nil || !c.mayQueue() {
		req.Wait = 0
	}

	co, err := s.seats.Checkout(ctx, req)
	if err != nil {
		return s.seatsError(b, err, "", "", id), after{}
	}
	switch co.Outcome {
	case sdk.Granted:
		if co.Grant == nil {
			break
		}
		if bind {
			c.bind(co.Grant.Lease)
		}
		b = append(b, "GRANTED"...)
		b = appendGrant(b, co.Grant)
		return endLine(b, id), after{grant: co.Grant}
	case sdk.Denied:
		if co.Denial == nil {
			break
		}
		return appendDenied(b, co.Denial, id, budget), after{}
	case sdk.Queued:
		if c == nil {
			// A Seats that queues a checkout asked not to wait: give the
			// ticket back rather than strand it.
			_ = s.seats.Cancel(context.WithoutCancel(ctx), co.Ticket)
			return appendDenied(b, &sdk.Denial{Reason: "no-seats"}, id, budget), after{}
		}
		w := c.addTicket(co.Ticket, id, bind, co.Updates)
		b = append(b, "QUEUED"...)
		b = wire.AppendPair(b, "ticket", co.Ticket)
		b = wire.AppendInt(b, "position", int64(co.Position))
		return endLine(b, id), after{queued: w}
	}
	s.log.Error("Seats.Checkout returned an inconsistent answer", "outcome", co.Outcome)
	return errLine(b, wire.CodeInternal, "internal error", id), after{}
}

// signRequested reports whether the grant answering the CHECKOUT r carries
// sig= (when the gateway signs at all): only a CHECKOUT with nonce= does. A
// signature over no fresh value could be replayed by an impostor, so it
// would prove nothing and cost an Ed25519 signature per grant.
func signRequested(r *wire.Request) bool {
	_, ok := r.Get(wire.KeyNonce)
	return ok
}

// appendGrant appends the pairs shared by GRANTED and EVENT granted.
func appendGrant(b []byte, g *sdk.Grant) []byte {
	b = wire.AppendPair(b, "lease", g.Lease)
	b = wire.AppendPair(b, "feature", g.Feature)
	b = wire.AppendInt(b, "count", int64(g.Count))
	b = wire.AppendSeconds(b, "ttl", g.TTL)
	b = wire.AppendTime(b, "expires", g.Expires)
	if len(g.Signature) > 0 {
		b = append(b, " sig="...)
		b = base64.RawURLEncoding.AppendEncode(b, g.Signature)
	}
	return b
}

// countedReasons are the denials that carry in_use= and seats=.
func countedReason(reason string) bool {
	return reason == "no-seats" || reason == "reserved" || reason == "limit"
}

// appendDenied appends a DENIED line; message= is left out when it would
// break a UDP budget.
func appendDenied(b []byte, d *sdk.Denial, id string, budget int) []byte {
	start := len(b)
	for _, withMessage := range []bool{true, false} {
		b = append(b[:start], "DENIED"...)
		b = wire.AppendPair(b, "reason", d.Reason)
		if withMessage && d.Message != "" {
			b = wire.AppendPair(b, "message", d.Message)
		}
		if countedReason(d.Reason) {
			b = wire.AppendInt(b, "in_use", int64(d.InUse))
			b = wire.AppendInt(b, "seats", int64(d.Seats))
		}
		b = endLine(b, id)
		if budget <= 0 || len(b)-start <= budget || d.Message == "" {
			break
		}
	}
	return b
}

func (s *server) status(ctx context.Context, r *wire.Request, udp bool, b []byte) []byte {
	id := r.ID()
	q := sdk.StatusQuery{Feature: r.Value(wire.KeyFeature), Vendor: r.Value(wire.KeyVendor), CountsOnly: true}
	if udp && q.Feature == "" {
		return errLine(b, wire.CodeBadRequest, "STATUS over UDP needs feature=", id)
	}
	fs, err := s.seats.Status(ctx, q)
	if err != nil {
		return s.seatsError(b, err, "", "", id)
	}
	if udp && len(fs) > 0 {
		fs = fs[:1]
	}
	for i := range fs {
		f := &fs[i]
		b = append(b, "FEATURE"...)
		b = wire.AppendPair(b, "name", f.Feature)
		b = wire.AppendPair(b, "vendor", f.Vendor)
		b = wire.AppendPair(b, "version", f.Version)
		b = wire.AppendInt(b, "seats", int64(f.Seats))
		b = wire.AppendInt(b, "in_use", int64(f.InUse))
		b = wire.AppendInt(b, "queued", int64(f.Queued))
		if f.Expiry.IsZero() {
			b = append(b, " expires=permanent"...)
		} else {
			b = wire.AppendTime(b, "expires", f.Expiry)
		}
		b = endLine(b, id)
	}
	if udp && len(fs) == 1 {
		return b
	}
	b = append(b, "END"...)
	b = wire.AppendInt(b, "count", int64(len(fs)))
	return endLine(b, id)
}

// checkStatus asks the plugin block's status_allow whether the client at
// addr (host:port) may list features.
func (s *server) checkStatus(addr string) error {
	ap, _ := netip.ParseAddrPort(addr) // unparsable: the zero address, which no list admits
	return s.access.CheckStatus(net.TCPAddrFromAddrPort(ap))
}

// seatsError answers a failed Seats call. what/name name the lease or
// ticket for GONE.
func (s *server) seatsError(b []byte, err error, what, name, id string) []byte {
	var gone *sdk.GoneError
	switch {
	case errors.As(err, &gone) && what == "lease":
		b = append(b, "GONE"...)
		b = wire.AppendPair(b, "lease", name)
		reason := gone.Reason
		if reason != "expired" && reason != "removed" {
			reason = "unknown"
		}
		b = wire.AppendPair(b, "reason", reason)
		return endLine(b, id)
	case errors.Is(err, sdk.ErrUnknownTicket) && what == "ticket":
		b = append(b, "GONE"...)
		b = wire.AppendPair(b, "ticket", name)
		return endLine(b, id)
	case errors.Is(err, sdk.ErrInvalid):
		return errLine(b, wire.CodeBadRequest, err.Error(), id)
	case errors.Is(err, sdk.ErrUnavailable), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return errLine(b, wire.CodeUnavailable, "the gateway cannot answer now; retry", id)
	}
	s.log.Error("seats call failed", "error", err)
	return errLine(b, wire.CodeInternal, "internal error", id)
}

// errLine appends an ERR line with LF.
func errLine(b []byte, code, message, id string) []byte {
	return append(wire.AppendError(b, code, message, id), '\n')
}

// endLine appends id= (when set) and the LF.
func endLine(b []byte, id string) []byte {
	if id != "" {
		b = wire.AppendPair(b, "id", id)
	}
	return append(b, '\n')
}
