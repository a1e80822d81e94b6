package sentinel

import (
	"context"
	"testing"
	"time"

	"github.com/licensegw/licensegw/plugins/sentinel/client"
	"github.com/licensegw/licensegw/plugins/sentinel/wire"
	"github.com/licensegw/licensegw/sdk"
	"github.com/licensegw/licensegw/sdk/sdktest"
)

// The conformance suite of docs/sentinel.md, "Conformance": every answer
// the section lists for every request type. Each subtest is named after the
// row it checks.

func conformanceSeats() *sdktest.Seats {
	return sdktest.NewSeats(
		sdktest.Feature{Name: "cad", Version: "2.0", Seats: 1, Queue: true, Borrow: true, MaxBorrow: 72 * time.Hour, TTL: time.Minute},
		sdktest.Feature{Name: "plain", Version: "1.0", Seats: 1, TTL: time.Minute},
	)
}

// do sends r as a 400-byte datagram and returns the answer.
func do(ctx context.Context, t *testing.T, c *client.Client, r wire.Request) *wire.Response {
	t.Helper()
	resp, err := c.Do(ctx, &r, 400)
	if err != nil {
		t.Fatalf("%v: %v", r.Type, err)
	}
	return resp
}

func wantStatus(t *testing.T, r *wire.Response, st wire.Status) {
	t.Helper()
	if r.Status != st {
		t.Fatalf("status %v (%+v), want %v", r.Status, r, st)
	}
}

func TestConformanceCheckout(t *testing.T) {
	seats := conformanceSeats()
	r := serve(t, seats, nil, nil)
	ctx := testCtx(t)
	a, b := r.dial(t, "a"), r.dial(t, "b")
	co := func(feature, version string, count int) wire.Request {
		return wire.Request{Type: wire.Checkout, Feature: feature, Version: version, Count: count, User: "u", Host: "h"}
	}
	var handle string
	t.Run("ok: grant", func(t *testing.T) {
		resp := do(ctx, t, a, co("cad", "", 1))
		wantStatus(t, resp, wire.OK)
		if resp.Grant.Handle == "" || resp.Grant.Lifetime != time.Minute || resp.Grant.Expires.IsZero() {
			t.Fatalf("grant %+v", resp.Grant)
		}
		handle = resp.Grant.Handle
	})
	t.Run("no-seats with in-use and seats", func(t *testing.T) {
		resp := do(ctx, t, b, co("cad", "", 1))
		wantStatus(t, resp, wire.NoSeats)
		if resp.InUse != 1 || resp.Seats != 1 {
			t.Fatalf("in use %d of %d", resp.InUse, resp.Seats)
		}
	})
	t.Run("unknown-feature: no such feature", func(t *testing.T) {
		wantStatus(t, do(ctx, t, b, co("nope", "", 1)), wire.UnknownFeature)
	})
	t.Run("version: the feature exists, not at that version", func(t *testing.T) {
		wantStatus(t, do(ctx, t, b, co("plain", "9.0", 1)), wire.VersionTooHigh)
	})
	t.Run("count: more tokens than the feature has", func(t *testing.T) {
		wantStatus(t, do(ctx, t, b, co("plain", "", 5)), wire.TooMany)
	})
	t.Run("bad-request: no feature", func(t *testing.T) {
		wantStatus(t, do(ctx, t, b, co("", "", 1)), wire.BadRequest)
	})
	t.Run("bad-request: text not UTF-8", func(t *testing.T) {
		req := co("cad", "", 1)
		req.Host = "\xff"
		wantStatus(t, do(ctx, t, b, req), wire.BadRequest)
	})
	t.Run("bad-request: identifier rules", func(t *testing.T) {
		wantStatus(t, do(ctx, t, b, co("a*b", "", 1)), wire.BadRequest)
	})
	var ticket string
	t.Run("queued: ticket and position", func(t *testing.T) {
		req := co("cad", "", 1)
		req.Queue = true
		resp := do(ctx, t, b, req)
		wantStatus(t, resp, wire.Queued)
		if resp.Ticket == "" || resp.Position != 1 {
			t.Fatalf("ticket %q position %d", resp.Ticket, resp.Position)
		}
		ticket = resp.Ticket
	})
	t.Run("poll: queued while waiting", func(t *testing.T) {
		wantStatus(t, do(ctx, t, b, wire.Request{Type: wire.Poll, Handle: ticket}), wire.Queued)
	})
	t.Run("poll: ok with the grant once granted", func(t *testing.T) {
		wantStatus(t, do(ctx, t, a, wire.Request{Type: wire.Release, Handle: handle}), wire.OK)
		var resp *wire.Response
		deadline := time.Now().Add(5 * time.Second)
		for resp = do(ctx, t, b, wire.Request{Type: wire.Poll, Handle: ticket}); resp.Status == wire.Queued && time.Now().Before(deadline); {
			time.Sleep(20 * time.Millisecond)
			resp = do(ctx, t, b, wire.Request{Type: wire.Poll, Handle: ticket})
		}
		wantStatus(t, resp, wire.OK)
		handle = resp.Grant.Handle
	})
	t.Run("cancel: ok, then poll says dequeued (cancelled), cancel again unknown-ticket", func(t *testing.T) {
		req := co("cad", "", 1)
		req.Queue = true
		q := do(ctx, t, a, req)
		wantStatus(t, q, wire.Queued)
		wantStatus(t, do(ctx, t, a, wire.Request{Type: wire.Cancel, Handle: q.Ticket}), wire.OK)
		p := do(ctx, t, a, wire.Request{Type: wire.Poll, Handle: q.Ticket})
		wantStatus(t, p, wire.Dequeued)
		if p.Reason != "cancelled" {
			t.Fatalf("reason %q", p.Reason)
		}
		wantStatus(t, do(ctx, t, a, wire.Request{Type: wire.Cancel, Handle: q.Ticket}), wire.UnknownTicket)
	})
	t.Run("poll: unknown-ticket", func(t *testing.T) {
		wantStatus(t, do(ctx, t, a, wire.Request{Type: wire.Poll, Handle: "never"}), wire.UnknownTicket)
	})
	t.Run("refresh: ok, gone unknown", func(t *testing.T) {
		resp := do(ctx, t, b, wire.Request{Type: wire.Refresh, Handle: handle})
		wantStatus(t, resp, wire.OK)
		if resp.Grant.Lifetime != time.Minute || resp.Grant.Expires.IsZero() {
			t.Fatalf("refresh %+v", resp.Grant)
		}
		g := do(ctx, t, b, wire.Request{Type: wire.Refresh, Handle: "lnever"})
		wantStatus(t, g, wire.Gone)
		if g.Reason != "unknown" {
			t.Fatalf("reason %q", g.Reason)
		}
	})
	t.Run("release: ok, then gone", func(t *testing.T) {
		wantStatus(t, do(ctx, t, b, wire.Request{Type: wire.Release, Handle: handle}), wire.OK)
		wantStatus(t, do(ctx, t, b, wire.Request{Type: wire.Release, Handle: handle}), wire.Gone)
	})
	t.Run("unavailable", func(t *testing.T) {
		seats.FailWith(sdk.ErrUnavailable)
		defer seats.FailWith(nil)
		wantStatus(t, do(ctx, t, b, co("plain", "", 1)), wire.Unavailable)
	})
}

func TestConformanceCommuter(t *testing.T) {
	r := serve(t, conformanceSeats(), nil, nil)
	ctx := testCtx(t)
	c := r.dial(t, "c")
	commute := func(feature string, days int) wire.Request {
		return wire.Request{Type: wire.Commute, Feature: feature, Count: 1, Days: days, User: "u", Host: "h"}
	}
	t.Run("bad-request: zero days", func(t *testing.T) {
		wantStatus(t, do(ctx, t, c, commute("cad", 0)), wire.BadRequest)
	})
	t.Run("commuter-refused: feature without commuting", func(t *testing.T) {
		wantStatus(t, do(ctx, t, c, commute("plain", 1)), wire.CommuterRefused)
	})
	var tok *wire.Response
	t.Run("ok: commuter grant", func(t *testing.T) {
		tok = do(ctx, t, c, commute("cad", 2))
		wantStatus(t, tok, wire.OK)
		if !tok.Grant.Commuter {
			t.Fatalf("not a commuter token: %+v", tok.Grant)
		}
	})
	t.Run("refresh of a commuter token: ok, expiry unchanged", func(t *testing.T) {
		resp := do(ctx, t, c, wire.Request{Type: wire.Refresh, Handle: tok.Grant.Handle})
		wantStatus(t, resp, wire.OK)
		if !resp.Grant.Expires.Equal(tok.Grant.Expires) {
			t.Fatalf("refresh moved the commuter expiry from %v to %v", tok.Grant.Expires, resp.Grant.Expires)
		}
	})
	t.Run("release of a commuter token returns it; return is then gone", func(t *testing.T) {
		wantStatus(t, do(ctx, t, c, wire.Request{Type: wire.Release, Handle: tok.Grant.Handle}), wire.OK)
		wantStatus(t, do(ctx, t, c, wire.Request{Type: wire.Return, Handle: tok.Grant.Handle}), wire.Gone)
	})
}

func TestConformanceQueries(t *testing.T) {
	r := serve(t, conformanceSeats(), map[string]any{"server_name": "gw-conf"}, nil)
	ctx := testCtx(t)
	c := r.dial(t, "q")
	t.Run("features: ok with records", func(t *testing.T) {
		resp := do(ctx, t, c, wire.Request{Type: wire.Features})
		wantStatus(t, resp, wire.OK)
		if resp.Total != 2 || len(resp.Features) != 2 || resp.Next != wire.NoMore {
			t.Fatalf("features total %d, %d records, next %d", resp.Total, len(resp.Features), resp.Next)
		}
	})
	t.Run("clients: ok", func(t *testing.T) {
		wantStatus(t, do(ctx, t, c, wire.Request{Type: wire.Clients, Feature: "cad"}), wire.OK)
	})
	t.Run("discover: ok with the server", func(t *testing.T) {
		resp := do(ctx, t, c, wire.Request{Type: wire.Discover})
		wantStatus(t, resp, wire.OK)
		if resp.Server.Name != "gw-conf" {
			t.Fatalf("server %+v", resp.Server)
		}
	})
}
