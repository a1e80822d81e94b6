package ledger_test

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/licensegw/licensegw/gateway/events"
	"github.com/licensegw/licensegw/gateway/journal"
	"github.com/licensegw/licensegw/gateway/ledger"
	"github.com/licensegw/licensegw/gateway/natsd/natstest"
	"github.com/licensegw/licensegw/gateway/seats"
)

// The tests here check that no answer gets ahead of the journal: a grant
// reaches a client only once the event that makes it is in the stream, also
// when the answer itself appends nothing. A cluster leader that loses its
// lease drops what it had not sent, so an answer given earlier would be a
// seat no other node knows of (TestClusterFaults found one, about one run
// in ten).

// stopAcks deletes the event stream under a running ledger: its
// connection stays up, but nothing it appends is acknowledged any more.
func stopAcks(t *testing.T, r *rig) {
	t.Helper()
	js := natstest.JetStream(t, r.ns)
	if err := js.DeleteStream(ctx(t), events.DefaultStream); err != nil {
		t.Fatal(err)
	}
}

// TestRetransmittedCheckoutWaitsForItsEvent: a keyed checkout asked again
// while its first answer still waits for the journal is not answered from
// the engine's memory: it waits for the same event, and is "unavailable"
// when that never comes (the first ask timed out, the client retried).
func TestRetransmittedCheckoutWaitsForItsEvent(t *testing.T) {
	r := newRig(t, features(seats.Feature{Name: "cad", Version: "1.0", Seats: 10}))
	const wait = time.Second
	l, _ := r.openWith(func(o *ledger.Options) { o.Wait = wait })
	if _, _, err := l.Checkout(ctx(t), req("cad", "warm-up")); err != nil {
		t.Fatal(err)
	}
	stopAcks(t, r)

	q := req("cad", "alice")
	q.Key = "clm/retry-1"
	first := checkoutAsync(l, q)
	again := checkoutAsync(l, q)         // asynchronous retransmission
	res, _, err := l.Checkout(ctx(t), q) // blocking retransmission
	if err == nil || res.Outcome == seats.Granted {
		t.Fatalf("blocking retransmission answered %+v, %v before its event was acknowledged", res, err)
	}
	if !errors.Is(err, ledger.ErrUnavailable) {
		t.Fatalf("blocking retransmission: %v, want ErrUnavailable", err)
	}
	for name, ch := range map[string]<-chan answer{"first ask": first, "asynchronous retransmission": again} {
		a := await(t, ch, 30*time.Second)
		if a.err == nil || a.res.Outcome == seats.Granted {
			t.Fatalf("%s answered %+v, %v with its event unacknowledged", name, a.res, a.err)
		}
		if !errors.Is(a.err, ledger.ErrUnavailable) {
			t.Fatalf("%s: %v, want ErrUnavailable", name, a.err)
		}
	}
}

// TestRetransmissionAfterTheAcknowledgementIsGranted: once the lease's
// event is in the stream, asking again with the same key is answered with
// the same lease at once (the retransmission case the key exists for).
func TestRetransmissionAfterTheAcknowledgementIsGranted(t *testing.T) {
	r := newRig(t, features(seats.Feature{Name: "cad", Version: "1.0", Seats: 10}))
	l, _ := r.open(nil)
	q := req("cad", "alice")
	q.Key = "clm/retry-2"
	res, _, err := l.Checkout(ctx(t), q)
	if err != nil || res.Outcome != seats.Granted {
		t.Fatalf("first ask: %+v, %v", res, err)
	}
	for i := range 3 {
		again, _, err := l.Checkout(ctx(t), q)
		if err != nil || again.Outcome != seats.Granted || again.Lease.ID != res.Lease.ID {
			t.Fatalf("retransmission %d: %+v, %v; want lease %s", i, again, err, res.Lease.ID)
		}
		a := await(t, checkoutAsync(l, q), 30*time.Second)
		if a.err != nil || a.res.Lease.ID != res.Lease.ID {
			t.Fatalf("asynchronous retransmission %d: %+v, %v", i, a.res, a.err)
		}
	}
	if n := len(r.streamEvents()); n != 1 {
		t.Fatalf("%d events in the stream, want the one checkout", n)
	}
}

// TestRevokedWriterAnswersNoRetransmission: a leader whose lease is gone
// (journal.Config.MayWrite turned false) answers a retransmitted checkout
// "unavailable", though the lease is in its memory: the next leader decides.
func TestRevokedWriterAnswersNoRetransmission(t *testing.T) {
	r := newRig(t, features(seats.Feature{Name: "cad", Version: "1.0", Seats: 10}))
	var holds atomic.Bool
	holds.Store(true)
	r.journal = func(c *journal.Config) { c.MayWrite = holds.Load }
	l, _ := r.open(nil)
	q := req("cad", "alice")
	q.Key = "clm/retry-3"
	if res, _, err := l.Checkout(ctx(t), q); err != nil || res.Outcome != seats.Granted {
		t.Fatalf("first ask: %+v, %v", res, err)
	}
	holds.Store(false)
	if res, _, err := l.Checkout(ctx(t), q); !errors.Is(err, ledger.ErrUnavailable) || !errors.Is(err, journal.ErrRevoked) {
		t.Fatalf("retransmission to a revoked writer: %+v, %v; want unavailable (revoked)", res, err)
	}
	if a := await(t, checkoutAsync(l, q), 30*time.Second); !errors.Is(a.err, ledger.ErrUnavailable) {
		t.Fatalf("asynchronous retransmission to a revoked writer: %+v, %v", a.res, a.err)
	}
}

// TestQueuedGrantWaitsForTheJournal: the checkin that frees a seat for a
// queued ticket is not acknowledged, so the ticket's holder must not hear
// it was granted: neither when the checkin's own wait ends nor later.
func TestQueuedGrantWaitsForTheJournal(t *testing.T) {
	r := newRig(t, features(seats.Feature{Name: "solver", Version: "1.0", Seats: 1, Queue: true}))
	const wait = time.Second
	l, _ := r.openWith(func(o *ledger.Options) { o.Wait = wait })
	holder, _, err := l.Checkout(ctx(t), req("solver", "alice"))
	if err != nil || holder.Outcome != seats.Granted {
		t.Fatalf("alice: %+v, %v", holder, err)
	}
	queue := func(user string) <-chan ledger.Update {
		q := req("solver", user)
		q.Wait = time.Minute
		res, ch, err := l.Checkout(ctx(t), q)
		if err != nil || res.Outcome != seats.Queued || ch == nil {
			t.Fatalf("%s: %+v %v", user, res, err)
		}
		return ch
	}
	bob := queue("bob")
	stopAcks(t, r)

	if err := l.Checkin(ctx(t), holder.Lease.ID); !errors.Is(err, ledger.ErrUnavailable) {
		t.Fatalf("checkin with the stream gone: %v, want ErrUnavailable", err)
	}
	deadline := time.After(wait + time.Second)
	for {
		select {
		case u, ok := <-bob:
			if ok && (u.Lease != nil || u.Reason != "") {
				t.Fatalf("bob heard %+v from a checkin the journal never acknowledged", u)
			}
			if !ok {
				t.Fatal("bob's channel closed with no final update")
			}
			continue
		case <-deadline:
		}
		break
	}
}
