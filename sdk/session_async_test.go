package sdk_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/licensegw/licensegw/sdk"
	"github.com/licensegw/licensegw/sdk/sdktest"
)

// asyncSeats answers checkouts and checkins through sdk.AsyncSeats, as the
// gateway's ledger does: on another goroutine, in call order (the journal
// completes commits in order), and the first of each kind before the call
// returns (a commit that was done already).
type asyncSeats struct {
	*sdktest.Seats
	queue     chan func()
	checkouts atomic.Int32
	checkins  atomic.Int32
}

func newAsyncSeats(t *testing.T, features ...sdktest.Feature) *asyncSeats {
	s := &asyncSeats{Seats: sdktest.NewSeats(features...), queue: make(chan func(), 64)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for f := range s.queue {
			f()
		}
	}()
	t.Cleanup(func() { close(s.queue); <-done })
	return s
}

func (s *asyncSeats) CheckoutAsync(req sdk.CheckoutRequest, done func(*sdk.Checkout, error)) {
	c, err := s.Seats.Checkout(context.Background(), req)
	if s.checkouts.Add(1) == 1 {
		done(c, err)
		return
	}
	s.queue <- func() { done(c, err) }
}

// HeartbeatNow makes it an sdk.InlineHeartbeater, as the ledger is.
func (s *asyncSeats) HeartbeatNow(lease string) (sdk.LeaseState, error) {
	return s.Seats.Heartbeat(context.Background(), lease)
}

func (s *asyncSeats) CheckinAsync(lease string, done func(error)) {
	err := s.Seats.Checkin(context.Background(), lease)
	if s.checkins.Add(1) == 1 {
		done(err)
		return
	}
	s.queue <- func() { done(err) }
}

// TestAsyncSeats: a Seats that implements sdk.AsyncSeats has its checkouts
// and checkins started on the session's reader and answered by its
// callbacks, with the answers Checkout and Checkin give (grant, denial,
// unknown lease).
func TestAsyncSeats(t *testing.T) {
	backend := newAsyncSeats(t, sdktest.Feature{Name: "solo", Seats: 1, TTL: time.Minute})
	c := sdktest.Session(t, backend)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for round := range 3 { // the first answers inline, the rest later
		co, err := c.Checkout(ctx, sdk.CheckoutRequest{Feature: "solo", Client: sdk.Client{User: "a"}})
		if err != nil || co.Outcome != sdk.Granted {
			t.Fatalf("round %d: checkout: %+v %v", round, co, err)
		}
		denied, err := c.Checkout(ctx, sdk.CheckoutRequest{Feature: "solo", Client: sdk.Client{User: "b"}})
		if err != nil || denied.Outcome != sdk.Denied {
			t.Fatalf("round %d: second checkout of one seat: %+v %v, want denied", round, denied, err)
		}
		if err := c.Checkin(ctx, co.Grant.Lease); err != nil {
			t.Fatalf("round %d: checkin: %v", round, err)
		}
	}
	var gone *sdk.GoneError
	if err := c.Checkin(ctx, "nosuchlease"); !errors.As(err, &gone) {
		t.Fatalf("checkin of an unknown lease: %v, want a *sdk.GoneError", err)
	}
	if n := backend.checkouts.Load(); n != 6 {
		t.Errorf("%d checkouts through CheckoutAsync, want 6", n)
	}
	if n := backend.checkins.Load(); n != 4 {
		t.Errorf("%d checkins through CheckinAsync, want 4", n)
	}
}

// TestAsyncSeatsConcurrent: many callers' checkouts, heartbeats and
// checkins on one data-plane session, answered on another goroutine from recycled answer
// slots, each get their own answers: every grant is a lease no other
// caller holds, and checking it in succeeds.
func TestAsyncSeatsConcurrent(t *testing.T) {
	backend := newAsyncSeats(t, sdktest.Feature{Name: "many", Seats: 1 << 20, TTL: time.Minute})
	c := sdktest.Session(t, backend)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	const callers, pairs = 16, 50
	var held sync.Map
	errs := make(chan error, callers)
	for i := range callers {
		go func() {
			user := fmt.Sprintf("u%d", i)
			for range pairs {
				co, err := c.Checkout(ctx, sdk.CheckoutRequest{Feature: "many", Client: sdk.Client{User: user}})
				if err != nil || co.Outcome != sdk.Granted {
					errs <- fmt.Errorf("%s: checkout: %+v %v", user, co, err)
					return
				}
				if other, dup := held.LoadOrStore(co.Grant.Lease, user); dup {
					errs <- fmt.Errorf("%s: lease %s is %s's too", user, co.Grant.Lease, other)
					return
				}
				if st, err := c.Heartbeat(ctx, co.Grant.Lease); err != nil || st.Lease != co.Grant.Lease {
					errs <- fmt.Errorf("%s: heartbeat of %s: %+v %v", user, co.Grant.Lease, st, err)
					return
				}
				if err := c.Checkin(ctx, co.Grant.Lease); err != nil {
					errs <- fmt.Errorf("%s: checkin of %s: %v", user, co.Grant.Lease, err)
					return
				}
			}
			errs <- nil
		}()
	}
	for range callers {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}
