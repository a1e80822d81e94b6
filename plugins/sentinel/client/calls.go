package client

import (
	"context"
	"fmt"
	"time"

	"github.com/licensegw/licensegw/plugins/sentinel/wire"
)

// Token is one or more tokens held.
type Token struct {
	Feature string
	Version string // as asked
	wire.Grant
}

// CheckoutRequest asks for tokens.
type CheckoutRequest struct {
	Feature string
	Version string        // minimum version, "" for any
	Count   int           // 0 means 1
	Queue   bool          // queue when no token is free
	Wait    time.Duration // longest wait in the queue; 0: the server's default
}

// Queued is a place in a feature's queue.
type Queued struct {
	Ticket   string
	Position int // 1 is the next
}

// Checkout asks for tokens. It returns the token, or, for a queued
// checkout, the place in the queue (poll it with Poll or WaitQueued), or a
// *StatusError saying why not.
func (c *Client) Checkout(ctx context.Context, r CheckoutRequest) (*Token, *Queued, error) {
	req := &wire.Request{
		Type: wire.Checkout, Feature: r.Feature, Version: r.Version, Count: r.Count,
		Queue: r.Queue, Wait: r.Wait, User: c.opts.User, Host: c.opts.Host, Display: c.opts.Display,
	}
	resp, err := c.Do(ctx, req, 0)
	if err != nil {
		return nil, nil, err
	}
	return tokenOrPlace(r.Feature, r.Version, resp)
}

func tokenOrPlace(feature, version string, resp *wire.Response) (*Token, *Queued, error) {
	switch resp.Status {
	case wire.OK:
		return &Token{Feature: feature, Version: version, Grant: resp.Grant}, nil, nil
	case wire.Queued:
		return nil, &Queued{Ticket: resp.Ticket, Position: resp.Position}, nil
	}
	return nil, nil, statusErr(resp)
}

// Poll asks after a queued checkout: the token once granted, the new place
// while waiting, or a *StatusError (dequeued, timeout, unknown-ticket).
func (c *Client) Poll(ctx context.Context, ticket string) (*Token, *Queued, error) {
	resp, err := c.Do(ctx, &wire.Request{Type: wire.Poll, Handle: ticket}, 0)
	if err != nil {
		return nil, nil, err
	}
	return tokenOrPlace("", "", resp)
}

// WaitQueued polls a ticket every interval until it is granted or ends.
func (c *Client) WaitQueued(ctx context.Context, ticket string, interval time.Duration) (*Token, error) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		tok, _, err := c.Poll(ctx, ticket)
		if err != nil || tok != nil {
			return tok, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}

// CancelQueued leaves the queue.
func (c *Client) CancelQueued(ctx context.Context, ticket string) error {
	return c.simple(ctx, wire.Cancel, ticket)
}

// Refresh renews a token within its lifetime and returns its new expiry.
// A token that is gone is a *StatusError with status gone.
func (c *Client) Refresh(ctx context.Context, handle string) (time.Time, error) {
	resp, err := c.Do(ctx, &wire.Request{Type: wire.Refresh, Handle: handle}, 0)
	if err != nil {
		return time.Time{}, err
	}
	return resp.Grant.Expires, statusErr(resp)
}

// Release gives a token back.
func (c *Client) Release(ctx context.Context, handle string) error {
	return c.simple(ctx, wire.Release, handle)
}

// Commute takes count commuter tokens for days days: they stay taken,
// without refreshes, until returned or until the days pass.
func (c *Client) Commute(ctx context.Context, feature, version string, count, days int) (*Token, error) {
	req := &wire.Request{
		Type: wire.Commute, Feature: feature, Version: version, Count: count, Days: days,
		User: c.opts.User, Host: c.opts.Host, Display: c.opts.Display,
	}
	resp, err := c.Do(ctx, req, 0)
	if err != nil {
		return nil, err
	}
	if err := statusErr(resp); err != nil {
		return nil, err
	}
	return &Token{Feature: feature, Version: version, Grant: resp.Grant}, nil
}

// ReturnCommuter gives a commuter token back.
func (c *Client) ReturnCommuter(ctx context.Context, handle string) error {
	return c.simple(ctx, wire.Return, handle)
}

func (c *Client) simple(ctx context.Context, t wire.Type, handle string) error {
	resp, err := c.Do(ctx, &wire.Request{Type: t, Handle: handle}, 0)
	if err != nil {
		return err
	}
	return statusErr(resp)
}

// KeepAlive refreshes a token every third of its lifetime until ctx ends
// or the token is gone; it returns the error that stopped it (ctx.Err() or
// the refresh failure). It updates tok.Expires: do not read tok meanwhile.
func (c *Client) KeepAlive(ctx context.Context, tok *Token) error {
	interval := max(tok.Lifetime/3, time.Second)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		exp, err := c.Refresh(ctx, tok.Handle)
		if err != nil {
			return err
		}
		tok.Expires = exp
	}
}

// ServerInfo asks the server who it is.
func (c *Client) ServerInfo(ctx context.Context) (wire.Server, error) {
	resp, err := c.Do(ctx, &wire.Request{Type: wire.Discover}, discoverSize)
	if err != nil {
		return wire.Server{}, err
	}
	return resp.Server, statusErr(resp)
}

// Features lists the features named filter ("" for all), page by page.
func (c *Client) Features(ctx context.Context, filter string) ([]wire.Feature, error) {
	var out []wire.Feature
	err := c.pages(ctx, &wire.Request{Type: wire.Features, Feature: filter}, func(r *wire.Response) {
		out = append(out, r.Features...)
	})
	return out, err
}

// Clients lists the token holders of a feature (at version, when not "").
func (c *Client) Clients(ctx context.Context, feature, version string) ([]wire.Client, error) {
	var out []wire.Client
	err := c.pages(ctx, &wire.Request{Type: wire.Clients, Feature: feature, Version: version}, func(r *wire.Response) {
		out = append(out, r.Clients...)
	})
	return out, err
}

// maxPages stops a list that never ends (a server changing under a client
// only shifts records; it never needs more pages than records).
const maxPages = 0x10000

func (c *Client) pages(ctx context.Context, req *wire.Request, add func(*wire.Response)) error {
	for range maxPages {
		resp, err := c.Do(ctx, req, listSize)
		if err != nil {
			return err
		}
		if err := statusErr(resp); err != nil {
			return err
		}
		add(resp)
		if resp.Next == wire.NoMore || resp.Next <= req.Cursor {
			return nil
		}
		req.Cursor = resp.Next
	}
	return fmt.Errorf("%v: more than %d pages", req.Type, maxPages)
}
