package sdktest

import (
	"context"
	"crypto/ed25519"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/licensegw/licensegw/sdk"
)

// fakeClock is a settable clock for WithClock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func mustCheckout(t *testing.T, s sdk.Seats, req sdk.CheckoutRequest) *sdk.Checkout {
	t.Helper()
	c, err := s.Checkout(context.Background(), req)
	if err != nil {
		t.Fatalf("Checkout(%+v): %v", req, err)
	}
	return c
}

func TestCheckoutDenials(t *testing.T) {
	s := NewSeats(
		Feature{Vendor: "acme", Name: "cad", Version: "2.0", Seats: 2},
		Feature{Vendor: "acme", Name: "solver", Version: "1.0", Seats: 1, Queue: true, QueueMax: 1},
	)
	// Fill solver so that queueing and queue-full can be exercised.
	if c := mustCheckout(t, s, sdk.CheckoutRequest{Feature: "solver"}); c.Outcome != sdk.Granted {
		t.Fatalf("solver: %+v", c)
	}
	if c := mustCheckout(t, s, sdk.CheckoutRequest{Feature: "solver", Wait: time.Minute}); c.Outcome != sdk.Queued {
		t.Fatalf("solver queue: %+v", c)
	}
	tests := []struct {
		name   string
		req    sdk.CheckoutRequest
		reason string
	}{
		{"unknown feature", sdk.CheckoutRequest{Feature: "nope"}, "unknown-feature"},
		{"wrong vendor", sdk.CheckoutRequest{Vendor: "other", Feature: "cad"}, "unknown-feature"},
		{"version too new", sdk.CheckoutRequest{Feature: "cad", Version: "10.0"}, "version"},
		{"too many", sdk.CheckoutRequest{Feature: "cad", Count: 3}, "count"},
		{"borrow not allowed", sdk.CheckoutRequest{Feature: "cad", Borrow: time.Hour}, "borrow"},
		{"no seats, no queue", sdk.CheckoutRequest{Feature: "solver"}, "no-seats"},
		{"queue full", sdk.CheckoutRequest{Feature: "solver", Wait: time.Minute}, "queue-full"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustCheckout(t, s, tt.req)
			if c.Outcome != sdk.Denied || c.Denial == nil || c.Denial.Reason != tt.reason {
				t.Fatalf("got %+v (denial %+v), want denial %q", c, c.Denial, tt.reason)
			}
		})
	}
}

func TestCountingAndGone(t *testing.T) {
	clk := newFakeClock()
	s := NewSeats(Feature{Name: "cad", Seats: 2, TTL: time.Minute}).WithClock(clk.Now)
	ctx := context.Background()

	a := mustCheckout(t, s, sdk.CheckoutRequest{Feature: "cad", Count: 2})
	if a.Outcome != sdk.Granted || a.Grant.Count != 2 || !a.Grant.Expires.Equal(clk.Now().Add(time.Minute)) {
		t.Fatalf("grant: %+v", a.Grant)
	}
	if c := mustCheckout(t, s, sdk.CheckoutRequest{Feature: "cad"}); c.Outcome != sdk.Denied || c.Denial.InUse != 2 || c.Denial.Seats != 2 {
		t.Fatalf("want no-seats with counts, got %+v", c.Denial)
	}
	clk.Add(50 * time.Second)
	st, err := s.Heartbeat(ctx, a.Grant.Lease)
	if err != nil || !st.Expires.Equal(clk.Now().Add(time.Minute)) {
		t.Fatalf("heartbeat: %+v, %v", st, err)
	}
	clk.Add(61 * time.Second)
	var gone *sdk.GoneError
	if _, err := s.Heartbeat(ctx, a.Grant.Lease); !errors.As(err, &gone) || gone.Reason != "expired" {
		t.Fatalf("after TTL: %v, want gone (expired)", err)
	}
	b := mustCheckout(t, s, sdk.CheckoutRequest{Feature: "cad"})
	if b.Outcome != sdk.Granted {
		t.Fatalf("seats not freed by expiry: %+v", b)
	}
	if err := s.Remove(ctx, b.Grant.Lease, sdk.Client{Addr: "test"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Checkin(ctx, b.Grant.Lease); !errors.As(err, &gone) || gone.Reason != "removed" {
		t.Fatalf("checkin after remove: %v", err)
	}
	if err := s.Checkin(ctx, "never"); !errors.As(err, &gone) || gone.Reason != "unknown" {
		t.Fatalf("unknown lease: %v", err)
	}
	c := mustCheckout(t, s, sdk.CheckoutRequest{Feature: "cad"})
	if err := s.Checkin(ctx, c.Grant.Lease); err != nil {
		t.Fatal(err)
	}
	fs, err := s.Status(ctx, sdk.StatusQuery{})
	if err != nil || len(fs) != 1 || fs[0].InUse != 0 || len(fs[0].Leases) != 0 {
		t.Fatalf("status after checkins: %+v, %v", fs, err)
	}
}

func TestQueueFIFO(t *testing.T) {
	clk := newFakeClock()
	s := NewSeats(Feature{Name: "cad", Seats: 1, Queue: true, TTL: 24 * time.Hour}).WithClock(clk.Now)
	ctx := context.Background()

	holder := mustCheckout(t, s, sdk.CheckoutRequest{Feature: "cad"})
	q1 := mustCheckout(t, s, sdk.CheckoutRequest{Feature: "cad", Wait: time.Minute, Client: sdk.Client{User: "one"}})
	q2 := mustCheckout(t, s, sdk.CheckoutRequest{Feature: "cad", Wait: time.Hour, Client: sdk.Client{User: "two"}})
	q3 := mustCheckout(t, s, sdk.CheckoutRequest{Feature: "cad", Wait: time.Hour})
	if q1.Position != 1 || q2.Position != 2 || q3.Position != 3 {
		t.Fatalf("positions %d %d %d", q1.Position, q2.Position, q3.Position)
	}
	fs, _ := s.Status(ctx, sdk.StatusQuery{Feature: "cad"})
	if fs[0].Queued != 3 || len(fs[0].Tickets) != 3 || fs[0].Tickets[0].Client.User != "one" {
		t.Fatalf("status tickets: %+v", fs[0])
	}

	// q1 times out; q2 moves to the head.
	clk.Add(2 * time.Minute)
	s.Expire()
	u := <-q1.Updates
	if u.Denial == nil || u.Denial.Reason != "timeout" {
		t.Fatalf("q1 update: %+v", u)
	}
	if _, ok := <-q1.Updates; ok {
		t.Fatal("q1 Updates not closed after final update")
	}
	if u := <-q2.Updates; u.Position != 1 {
		t.Fatalf("q2 position update: %+v", u)
	}

	// q3 cancels; checking the holder in grants q2.
	if err := s.Cancel(ctx, q3.Ticket); err != nil {
		t.Fatal(err)
	}
	if err := s.Cancel(ctx, q3.Ticket); !errors.Is(err, sdk.ErrUnknownTicket) {
		t.Fatalf("second cancel: %v", err)
	}
	if err := s.Checkin(ctx, holder.Grant.Lease); err != nil {
		t.Fatal(err)
	}
	var final sdk.TicketUpdate
	for u := range q2.Updates {
		final = u
	}
	if final.Grant == nil || final.Grant.Count != 1 {
		t.Fatalf("q2 final: %+v", final)
	}
	fs, _ = s.Status(ctx, sdk.StatusQuery{Feature: "cad"})
	if fs[0].InUse != 1 || fs[0].Leases[0].Lease != final.Grant.Lease || fs[0].Leases[0].Client.User != "two" {
		t.Fatalf("status after queue grant: %+v", fs[0])
	}
}

// TestSeatFreedAtDeadlineServesTicket: when a lease expires at the very
// instant a ticket's wait ends, the freed seat goes to the ticket, as in
// the gateway, even when the ticket was queued before the lease was
// granted. The differential test found the fake timing the ticket out.
func TestSeatFreedAtDeadlineServesTicket(t *testing.T) {
	clk := newFakeClock()
	s := NewSeats(Feature{Name: "cad", Seats: 1, Queue: true, TTL: time.Minute}).WithClock(clk.Now)
	mustCheckout(t, s, sdk.CheckoutRequest{Feature: "cad"})
	first := mustCheckout(t, s, sdk.CheckoutRequest{Feature: "cad", Wait: time.Minute})
	second := mustCheckout(t, s, sdk.CheckoutRequest{Feature: "cad", Wait: 2 * time.Minute})
	// The holder expires as first's wait ends: first gets the seat, with a
	// lease that expires as second's wait ends.
	clk.Add(time.Minute)
	s.Expire()
	if u := lastUpdate(first.Updates); u.Grant == nil {
		t.Fatalf("first ended with %+v, want a grant", u)
	}
	clk.Add(time.Minute)
	s.Expire()
	if u := lastUpdate(second.Updates); u.Grant == nil {
		t.Fatalf("second ended with %+v, want a grant", u)
	}
}

// lastUpdate drains a ticket's updates and returns the last one.
func lastUpdate(ch <-chan sdk.TicketUpdate) sdk.TicketUpdate {
	var last sdk.TicketUpdate
	for u := range ch {
		last = u
	}
	return last
}

func TestSigningAndFailures(t *testing.T) {
	s := NewSeats(Feature{Name: "cad", Seats: 1, Borrow: true, MaxBorrow: 48 * time.Hour})
	ctx := context.Background()
	pub, err := s.PublicKey(ctx)
	if err != nil || len(pub) != ed25519.PublicKeySize {
		t.Fatalf("public key: %x, %v", pub, err)
	}
	c := mustCheckout(t, s, sdk.CheckoutRequest{Feature: "cad", Sign: true, Nonce: "n1", Borrow: 24 * time.Hour,
		Client: sdk.Client{User: "u", Host: "h"}})
	if !c.Grant.Borrowed || c.Grant.TTL != 24*time.Hour {
		t.Fatalf("borrow: %+v", c.Grant)
	}
	if !ed25519.Verify(pub, []byte(sdk.GrantText(c.Grant, "u", "h", "n1")), c.Grant.Signature) {
		t.Fatal("grant signature does not verify")
	}
	sig, err := s.Sign(ctx, []byte("x"))
	if err != nil || !ed25519.Verify(pub, []byte("x"), sig) {
		t.Fatalf("Sign: %v", err)
	}
	if err := s.Reload(ctx); err != nil || s.Reloads() != 1 {
		t.Fatalf("reload: %v, %d", err, s.Reloads())
	}
	s.FailWith(sdk.ErrUnavailable)
	if _, err := s.Checkout(ctx, sdk.CheckoutRequest{Feature: "cad"}); !errors.Is(err, sdk.ErrUnavailable) {
		t.Fatalf("FailWith: %v", err)
	}
	s.FailWith(nil)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.Status(cctx, sdk.StatusQuery{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled ctx: %v", err)
	}
}

func TestCompareVersions(t *testing.T) {
	tests := []struct {
		a, b string
		sign int
	}{
		{"1.0", "1.0", 0}, {"10.0", "9.2", 1}, {"1", "1.0", 0}, {"2024.1", "2024.10", -1}, {"1.0b", "1.0a", 1},
	}
	for _, tt := range tests {
		got := compareVersions(tt.a, tt.b)
		if (got > 0) != (tt.sign > 0) || (got < 0) != (tt.sign < 0) {
			t.Errorf("compareVersions(%q, %q) = %d, want sign %d", tt.a, tt.b, got, tt.sign)
		}
	}
}

func TestRequestKeyIsIdempotent(t *testing.T) {
	s := NewSeats(Feature{Name: "cad", Seats: 2})
	ctx := context.Background()
	req := sdk.CheckoutRequest{Feature: "cad", Client: sdk.Client{User: "u", Host: "h"}, RequestKey: "udp/1.2.3.4:5/7"}
	first, err := s.Checkout(ctx, req)
	if err != nil || first.Outcome != sdk.Granted {
		t.Fatal(first, err)
	}
	again, err := s.Checkout(ctx, req)
	if err != nil || again.Outcome != sdk.Granted || again.Grant.Lease != first.Grant.Lease {
		t.Fatalf("retransmission: %+v, %v; want lease %s", again, err, first.Grant.Lease)
	}
	fs, _ := s.Status(ctx, sdk.StatusQuery{Feature: "cad"})
	if fs[0].InUse != 1 {
		t.Fatalf("in use %d after a retransmission, want 1", fs[0].InUse)
	}
}
