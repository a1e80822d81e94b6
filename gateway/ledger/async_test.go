package ledger_test

import (
	"errors"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/licensegw/licensegw/gateway/events"
	"github.com/licensegw/licensegw/gateway/ledger"
	"github.com/licensegw/licensegw/gateway/seats"
	"github.com/licensegw/licensegw/sdk"
)

// answer is what one asynchronous call's callback received.
type answer struct {
	res     seats.Result
	updates <-chan ledger.Update
	err     error
}

func checkoutAsync(l *ledger.Ledger, q seats.CheckoutRequest) <-chan answer {
	ch := make(chan answer, 1)
	l.CheckoutAsync(q, func(res seats.Result, updates <-chan ledger.Update, err error) {
		ch <- answer{res, updates, err}
	})
	return ch
}

func checkinAsync(l *ledger.Ledger, lease string) <-chan error {
	ch := make(chan error, 1)
	l.CheckinAsync(lease, func(err error) { ch <- err })
	return ch
}

func await[T any](t *testing.T, ch <-chan T, within time.Duration) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(within):
		t.Fatalf("no answer within %v", within)
		panic("unreachable")
	}
}

// TestAsyncCalls: CheckoutAsync and CheckinAsync give the blocking calls'
// answers once the events are in the stream (grant, queue with its updates,
// denial, unknown lease), and each callback is called once.
func TestAsyncCalls(t *testing.T) {
	r := newRig(t, features(seats.Feature{Name: "cad", Version: "1.0", Seats: 1, Queue: true}))
	l, _ := r.open(nil)
	a := await(t, checkoutAsync(l, req("cad", "alice")), 30*time.Second)
	if a.err != nil || a.res.Outcome != seats.Granted {
		t.Fatalf("checkout: %+v", a)
	}
	if _, ok := l.Lease(a.res.Lease.ID); !ok {
		t.Fatalf("lease %s granted but not held", a.res.Lease.ID)
	}
	q := req("cad", "bob")
	q.Wait = time.Minute
	b := await(t, checkoutAsync(l, q), 30*time.Second)
	if b.err != nil || b.res.Outcome != seats.Queued || b.updates == nil {
		t.Fatalf("queued checkout: %+v", b)
	}
	if err := await(t, checkinAsync(l, a.res.Lease.ID), 30*time.Second); err != nil {
		t.Fatalf("checkin: %v", err)
	}
	u := await(t, b.updates, 30*time.Second)
	if u.Lease == nil {
		t.Fatalf("the queued ticket's update after the checkin: %+v, want a grant", u)
	}
	var gone *seats.GoneError
	if err := await(t, checkinAsync(l, a.res.Lease.ID), 30*time.Second); !errors.As(err, &gone) {
		t.Fatalf("second checkin of a lease: %v, want a *seats.GoneError", err)
	}
	kinds := map[events.Kind]int{}
	for _, ev := range r.streamEvents() {
		kinds[ev.Kind]++
	}
	if kinds[events.Checkout] != 2 || kinds[events.Checkin] != 1 || kinds[events.Queued] != 1 {
		t.Fatalf("stream holds %v, want 2 checkouts, 1 checkin, 1 queued", kinds)
	}
}

// TestAsyncCallsExpire: when the stream stops acknowledging while the
// connection stays up (the stream is deleted), an asynchronous checkout is
// answered with ErrUnavailable after Options.Wait, as a blocking one
// fails, and never twice.
func TestAsyncCallsExpire(t *testing.T) {
	r := newRig(t, features(seats.Feature{Name: "cad", Version: "1.0", Seats: 10}))
	// The wait bounds every append, the first one's too: it must outlast
	// a first acknowledgement on a loaded machine (300 ms did not, in CI).
	const wait = 2 * time.Second
	l, _ := r.openWith(func(o *ledger.Options) { o.Wait = wait })
	if a := await(t, checkoutAsync(l, req("cad", "alice")), 30*time.Second); a.err != nil {
		t.Fatal(a.err)
	}
	stopAcks(t, r)
	calls := 0
	got := make(chan error, 2)
	start := time.Now()
	l.CheckoutAsync(req("cad", "bob"), func(_ seats.Result, _ <-chan ledger.Update, err error) {
		calls++ // the callback runs once: no lock needed if so (-race checks)
		got <- err
	})
	err := await(t, got, 30*time.Second)
	if !errors.Is(err, ledger.ErrUnavailable) {
		t.Fatalf("checkout with the stream gone: %v, want ErrUnavailable", err)
	}
	if took := time.Since(start); took < wait {
		// The publish is retried, not failed: only the wait's end
		// answers it.
		t.Fatalf("answered after %v, before the wait of %v ended", took, wait)
	}
	select {
	case err := <-got:
		t.Fatalf("a second answer: %v", err)
	case <-time.After(wait):
	}
	if calls != 1 {
		t.Fatalf("callback called %d times", calls)
	}
}

// pluginCheckoutAsync is a plugin's asynchronous checkout, as its session
// makes it.
func pluginCheckoutAsync(s sdk.Seats, q sdk.CheckoutRequest) <-chan *sdk.Checkout {
	ch := make(chan *sdk.Checkout, 1)
	s.(sdk.AsyncSeats).CheckoutAsync(q, func(co *sdk.Checkout, err error) {
		if err != nil {
			co = &sdk.Checkout{Denial: &sdk.Denial{Message: err.Error()}}
		}
		ch <- co
	})
	return ch
}

// allUpdates reads a ticket's updates until the channel is closed.
func allUpdates(t *testing.T, ch <-chan sdk.TicketUpdate) []string {
	t.Helper()
	var out []string
	timeout := time.After(30 * time.Second)
	for {
		select {
		case u, ok := <-ch:
			switch {
			case !ok:
				return out
			case u.Grant != nil:
				out = append(out, "granted")
			case u.Denial != nil:
				out = append(out, u.Denial.Reason)
			default:
				out = append(out, fmt.Sprint(u.Position))
			}
		case <-timeout:
			t.Fatalf("updates not closed within 30s; had %v", out)
		}
	}
}

// TestPluginTicketUpdatesDeliveredOnce: a plugin's queued checkouts, taken
// the asynchronous way its session takes them or the blocking way (a
// checkout forwarded from another node), hear each change of their
// ticket once, in order, then the final update, and the channel closes;
// no goroutine per ticket relays them (the ledger's waiter delivers in the
// SDK's form itself).
func TestPluginTicketUpdatesDeliveredOnce(t *testing.T) {
	for _, how := range []string{"async", "blocking"} {
		t.Run(how, func(t *testing.T) { testPluginTicketUpdates(t, how == "async") })
	}
}

func testPluginTicketUpdates(t *testing.T, async bool) {
	r := newRig(t, features(seats.Feature{Name: "cad", Version: "1.0", Seats: 1, Queue: true}))
	l, _ := r.open(nil)
	s := l.Seats("clm", "concurrent-lm")
	co := func(user string, wait time.Duration) *sdk.Checkout {
		q := sdk.CheckoutRequest{Feature: "cad", Client: sdk.Client{User: user, Host: "ws"}, Wait: wait}
		if async {
			return await(t, pluginCheckoutAsync(s, q), 30*time.Second)
		}
		c, err := s.Checkout(ctx(t), q)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	held := co("holder", 0)
	if held.Outcome != sdk.Granted {
		t.Fatalf("holder: %+v", held)
	}

	// Many queued tickets and no goroutine for each.
	before := runtime.NumGoroutine()
	const many = 40
	tickets := make([]*sdk.Checkout, many)
	for i := range tickets {
		tickets[i] = co(fmt.Sprint("u", i), time.Hour)
		if tickets[i].Outcome != sdk.Queued || tickets[i].Position != i+1 || tickets[i].Updates == nil {
			t.Fatalf("ticket %d: %+v, want queued at %d with updates", i, tickets[i], i+1)
		}
	}
	if grew := runtime.NumGoroutine() - before; grew >= many/2 {
		t.Errorf("%d queued tickets added %d goroutines: something relays their updates", many, grew)
	}

	// The head is granted; the others move up one place each time one
	// ahead of them leaves: cancelled (the second), then the head's
	// lease checked in.
	ctx := ctx(t)
	if err := s.Checkin(ctx, held.Grant.Lease); err != nil {
		t.Fatal(err)
	}
	if err := s.Cancel(ctx, tickets[1].Ticket); err != nil {
		t.Fatal(err)
	}
	head := <-tickets[0].Updates
	if head.Grant == nil {
		t.Fatalf("head's first update %+v, want its grant", head)
	}
	if err := s.Checkin(ctx, head.Grant.Lease); err != nil {
		t.Fatal(err)
	}
	for _, tk := range tickets[3:] {
		if err := s.Cancel(ctx, tk.Ticket); err != nil {
			t.Fatal(err)
		}
	}
	for i, want := range []string{"[]", "[1 cancelled]", "[2 1 granted]", "[3 2 1 cancelled]"} {
		if got := fmt.Sprint(allUpdates(t, tickets[i].Updates)); got != want {
			t.Errorf("ticket %d heard %s, want %s", i, got, want)
		}
	}
}
