package ledger_test

import (
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/licensegw/licensegw/gateway/events"
	"github.com/licensegw/licensegw/gateway/ledger"
	"github.com/licensegw/licensegw/gateway/seats"
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
	nc, err := r.ns.Connect()
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	if err := js.DeleteStream(ctx(t), events.DefaultStream); err != nil {
		t.Fatal(err)
	}
	calls := 0
	got := make(chan error, 2)
	start := time.Now()
	l.CheckoutAsync(req("cad", "bob"), func(_ seats.Result, _ <-chan ledger.Update, err error) {
		calls++ // the callback runs once: no lock needed if so (-race checks)
		got <- err
	})
	err = await(t, got, 30*time.Second)
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
