package ledger

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/licensegw/licensegw/gateway/events"
	"github.com/licensegw/licensegw/gateway/seats"
	"github.com/licensegw/licensegw/sdk"
)

// Seats is the ledger as one plugin instance sees it: sdk types in and out,
// and the plugin's name and protocol stamped on every checkout (they appear
// in the events).
func (l *Ledger) Seats(plugin, protocol string) sdk.Seats {
	return &pluginSeats{l: l, plugin: plugin, protocol: protocol}
}

type pluginSeats struct {
	l        *Ledger
	plugin   string
	protocol string
	node     string // the cluster node holding the connections, "" for this one (nodes.go)
}

var (
	_ sdk.Seats             = (*pluginSeats)(nil)
	_ sdk.InlineHeartbeater = (*pluginSeats)(nil)
	_ sdk.AsyncSeats        = (*pluginSeats)(nil)
)

func (p *pluginSeats) Checkout(ctx context.Context, req sdk.CheckoutRequest) (*sdk.Checkout, error) {
	// The session server checked already; the ledger checks again so that
	// no caller, in process or over any channel, can journal an event
	// beyond the bound or a name that is not one subject token.
	if err := req.Validate(); err != nil {
		return nil, err
	}
	var out checkoutOut
	sink := p
	if req.Sign && p.l.opts.Signer != nil {
		// Its grant, when the ticket gets one, is signed by the
		// goroutine that relays its updates (forward), never by
		// whichever goroutine delivers them (the journal's publisher,
		// say).
		sink = nil
	}
	if err := p.l.checkoutWait(ctx, p.seatsRequest(&req), sink, &out); err != nil {
		return nil, sdkError(err)
	}
	// The answer and its grant in one allocation (every grant makes one).
	a := &struct {
		co sdk.Checkout
		g  sdk.Grant
	}{}
	p.answer(&a.co, &a.g, &out, req.Sign, req.Nonce)
	return &a.co, nil
}

// CheckoutAsync implements sdk.AsyncSeats: the answer comes when the
// journal has the checkout's events, and nothing waits for it meanwhile.
func (p *pluginSeats) CheckoutAsync(req sdk.CheckoutRequest, done func(*sdk.Checkout, error)) {
	if err := req.Validate(); err != nil {
		done(nil, err)
		return
	}
	if req.Sign && p.l.opts.Signer != nil {
		// A signature costs tens of microseconds: made on the journal's
		// publisher goroutine, it would hold up every later answer.
		signed := req // only this branch moves a copy to the heap
		go func() { done(p.Checkout(context.Background(), signed)) }()
		return
	}
	c := &pluginCheckout{p: p, done: done}
	c.op.done = c
	p.l.checkoutAsync(p.seatsRequest(&req), p, &c.out, &c.op)
}

// CheckoutAsyncTo is CheckoutAsync with a queued checkout's updates handed
// to updates, which must not block, instead of Checkout.Updates: a caller
// that passes them on (the cluster forwarder's local path) needs no
// goroutine to relay them. A signed checkout's answer still carries them
// on Updates (its grant is signed on the goroutine relaying them).
func (p *pluginSeats) CheckoutAsyncTo(req sdk.CheckoutRequest, updates func(sdk.TicketUpdate), done func(*sdk.Checkout, error)) {
	if err := req.Validate(); err != nil || (req.Sign && p.l.opts.Signer != nil) {
		p.CheckoutAsync(req, done)
		return
	}
	c := &pluginCheckout{p: p, done: done}
	c.op.done = c
	c.out.to = updates
	p.l.checkoutAsync(p.seatsRequest(&req), p, &c.out, &c.op)
}

// pluginCheckout is one asynchronous checkout of a plugin's: its wait,
// what the ledger decided, the callback and the answer, in one allocation
// (there were eight).
type pluginCheckout struct {
	op   asyncOp
	p    *pluginSeats
	out  checkoutOut
	done func(*sdk.Checkout, error)
	co   sdk.Checkout
	g    sdk.Grant
}

func (c *pluginCheckout) asyncDone(err error) {
	if err != nil {
		c.done(nil, sdkError(err))
		return
	}
	c.p.answer(&c.co, &c.g, &c.out, false, "")
	c.done(&c.co, nil)
}

// CheckinAsync implements sdk.AsyncSeats.
func (p *pluginSeats) CheckinAsync(lease string, done func(error)) {
	c := &pluginCheckin{done: done}
	c.op.done = c
	p.l.checkinAsync(lease, &c.op)
}

// pluginCheckin is one asynchronous checkin of a plugin's: its wait and
// callback in one allocation.
type pluginCheckin struct {
	op   asyncOp
	done func(error)
}

func (c *pluginCheckin) asyncDone(err error) { c.done(sdkError(err)) }

// seatsRequest is req as the engine takes it, stamped with the plugin.
func (p *pluginSeats) seatsRequest(req *sdk.CheckoutRequest) seats.CheckoutRequest {
	return seats.CheckoutRequest{
		Vendor:  req.Vendor,
		Feature: req.Feature,
		Version: req.Version,
		Count:   req.Count,
		Client: seats.Client{
			User: req.Client.User, Host: req.Client.Host, Display: req.Client.Display,
			Project: req.Client.Project, Addr: req.Client.Addr,
			Protocol: p.protocol, Plugin: p.plugin, Node: p.node,
		},
		Wait:   req.Wait,
		Borrow: req.Borrow,
		Bound:  req.BindConn,
		Key:    req.RequestKey,
	}
}

// answer fills co (and g, for a grant) with the SDK's answer to a
// checkout the engine decided as out; sign and nonce are the request's.
func (p *pluginSeats) answer(co *sdk.Checkout, g *sdk.Grant, out *checkoutOut, sign bool, nonce string) {
	res := &out.res
	switch res.Outcome {
	case seats.Granted:
		co.Outcome, co.Grant = sdk.Granted, g
		p.grantInto(g, &res.Lease, sign, nonce)
	case seats.Queued:
		co.Outcome, co.Ticket, co.Position = sdk.Queued, res.Ticket, res.Position
		switch {
		case out.to != nil:
			return // handed to out.to by the waiter (toFunc)
		case out.sdk != nil:
			co.Updates = out.sdk // delivered by the waiter itself (toSDK)
			return
		}
		ch := make(chan sdk.TicketUpdate, 16)
		co.Updates = ch
		go p.forward(out.ch, ch, sign, nonce)
	default:
		co.Outcome, co.Denial = sdk.Denied, denial(res)
	}
}

// denial is the SDK's denial of res.
func denial(res *seats.Result) *sdk.Denial {
	return &sdk.Denial{Reason: string(res.Reason), Message: res.Message, InUse: res.InUse, Seats: res.Seats}
}

// forward relays the ledger's updates for one ticket in the SDK's form: a
// blocking checkout's (a signed one's grant is signed here, off the
// journal's publisher goroutine). An asynchronous one's waiter delivers in
// the SDK's form itself (waiter.toSDK).
func (p *pluginSeats) forward(in <-chan Update, out chan<- sdk.TicketUpdate, sign bool, nonce string) {
	defer close(out)
	for u := range in {
		out <- p.ticketUpdate(u, sign, nonce)
	}
}

// ticketUpdate is u in the SDK's form.
func (p *pluginSeats) ticketUpdate(u Update, sign bool, nonce string) sdk.TicketUpdate {
	tu := sdk.TicketUpdate{Ticket: u.Ticket, Position: u.Position}
	switch {
	case u.Lease != nil:
		tu.Grant = p.grant(u.Lease, sign, nonce)
	case u.Reason != "":
		tu.Denial = &sdk.Denial{Reason: string(u.Reason)}
	}
	return tu
}

func (p *pluginSeats) grant(l *seats.Lease, sign bool, nonce string) *sdk.Grant {
	g := &sdk.Grant{}
	p.grantInto(g, l, sign, nonce)
	return g
}

// grantInto fills g with the grant of l, signed if asked.
func (p *pluginSeats) grantInto(g *sdk.Grant, l *seats.Lease, sign bool, nonce string) {
	*g = sdk.Grant{
		Lease: l.ID, Vendor: l.Pool.Vendor, Feature: l.Pool.Name, Version: l.Pool.Version,
		Count: l.Count, TTL: l.TTL, Expires: l.Expires, Borrowed: l.Borrowed,
	}
	if sign && p.l.opts.Signer != nil {
		text := sdk.GrantText(g, l.Client.User, l.Client.Host, nonce)
		g.Signature = ed25519.Sign(p.l.opts.Signer, []byte(text))
	}
}

func (p *pluginSeats) Heartbeat(ctx context.Context, lease string) (sdk.LeaseState, error) {
	l, err := p.l.Heartbeat(ctx, lease)
	if err != nil {
		return sdk.LeaseState{}, sdkError(err)
	}
	return sdk.LeaseState{Lease: l.ID, TTL: l.TTL, Expires: l.Expires}, nil
}

// HeartbeatNow implements sdk.InlineHeartbeater: a heartbeat takes the
// ledger's lock for a lookup in the lease table and never waits for the
// journal, so the Seats session answers it as it reads it.
func (p *pluginSeats) HeartbeatNow(lease string) (sdk.LeaseState, error) {
	return p.Heartbeat(context.Background(), lease)
}

func (p *pluginSeats) Checkin(ctx context.Context, lease string) error {
	return sdkError(p.l.Checkin(ctx, lease))
}

func (p *pluginSeats) Cancel(ctx context.Context, ticket string) error {
	return sdkError(p.l.Cancel(ctx, ticket, seats.Cancelled))
}

func (p *pluginSeats) Remove(ctx context.Context, lease string, by sdk.Client) error {
	return sdkError(p.l.Remove(ctx, lease, p.actor(by)))
}

// actor names a plugin's client for an event's by field:
// "plugin <name> (<protocol>) client <addr> [<user>@<host>]".
func (p *pluginSeats) actor(c sdk.Client) string {
	s := "plugin " + p.plugin + " (" + p.protocol + ") client " + c.Addr
	if c.User != "" || c.Host != "" {
		s += " " + c.User + "@" + c.Host
	}
	return truncateUTF8(s, maxActor)
}

// maxActor bounds an event's by field, whatever its parts, so that it
// stays within the event size bound.
const maxActor = 256

// truncateUTF8 cuts s to at most n bytes without splitting a character.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func (p *pluginSeats) Status(_ context.Context, q sdk.StatusQuery) ([]sdk.FeatureStatus, error) {
	match := func(k seats.PoolKey) bool {
		return (q.Feature == "" || q.Feature == k.Name) && (q.Vendor == "" || strings.EqualFold(q.Vendor, k.Vendor))
	}
	var out []sdk.FeatureStatus
	for _, ps := range p.l.StatusOf(match, !q.CountsOnly) {
		out = append(out, featureStatus(&ps))
	}
	return out, nil
}

// featureStatus converts one pool's status to the SDK's form.
func featureStatus(ps *seats.PoolStatus) sdk.FeatureStatus {
	f := ps.Feature
	fs := sdk.FeatureStatus{
		Vendor: f.Vendor, Feature: f.Name, Version: f.Version, Description: f.Description,
		Seats: f.Seats, InUse: ps.InUse, Queued: ps.Queued, Start: f.Start, Expiry: f.Expiry,
		LeaseTTL: f.LeaseTTL, Queue: f.Queue, Borrow: f.Borrow, MaxBorrow: f.MaxBorrow,
	}
	for i, r := range f.Reserve {
		used := 0
		if i < len(ps.ReservedUse) {
			used = ps.ReservedUse[i]
		}
		fs.Reserved = append(fs.Reserved, sdk.Reservation{Kind: string(r.Who.Kind), Name: r.Who.Name, Seats: r.Seats, InUse: used})
	}
	for _, l := range ps.Leases {
		fs.Leases = append(fs.Leases, sdk.LeaseInfo{
			Lease: l.ID, Count: l.Count, Client: sdkClient(l.Client), Protocol: l.Client.Protocol, Plugin: l.Client.Plugin,
			Granted: l.Granted, Expires: l.Expires, Borrowed: l.Borrowed, Reserved: l.Reserved,
		})
	}
	for _, t := range ps.Tickets {
		fs.Tickets = append(fs.Tickets, sdk.TicketInfo{Ticket: t.ID, Count: t.Count, Client: sdkClient(t.Client), Queued: t.Queued, Position: t.Position})
	}
	return fs
}

func sdkClient(c seats.Client) sdk.Client {
	return sdk.Client{User: c.User, Host: c.Host, Display: c.Display, Project: c.Project, Addr: c.Addr}
}

func (p *pluginSeats) Reload(ctx context.Context) error {
	if p.l.opts.Reload == nil {
		return errors.New("reload is not enabled for plugins")
	}
	return p.l.opts.Reload(events.WithActor(ctx, "plugin:"+p.plugin))
}

func (p *pluginSeats) PublicKey(context.Context) ([]byte, error) {
	return p.l.PublicKey(), nil
}

func (p *pluginSeats) Sign(_ context.Context, data []byte) ([]byte, error) {
	if p.l.opts.Signer == nil {
		return nil, errors.New("the gateway has no signing key")
	}
	return ed25519.Sign(p.l.opts.Signer, data), nil
}

// sdkError maps ledger and engine errors onto the SDK's.
func sdkError(err error) error {
	if err == nil {
		return nil // before gone, which errors.As moves to the heap
	}
	var gone *seats.GoneError
	switch {
	case errors.As(err, &gone):
		return &sdk.GoneError{Lease: gone.Lease, Reason: string(gone.Reason)}
	case errors.Is(err, seats.ErrUnknownTicket):
		return sdk.ErrUnknownTicket
	case errors.Is(err, ErrUnavailable), errors.Is(err, ErrClosed):
		return fmt.Errorf("%w: %w", sdk.ErrUnavailable, err)
	}
	return err
}
