package forward

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/licensegw/licensegw/gateway/natsd/natstest"
	"github.com/licensegw/licensegw/sdk"
)

// TestNewTermSendsAgain: a leader handing over drops a request it has
// not taken up (it is never answered). Once another leader's term is
// known, the call is sent again to the new leader at once, rather than
// after the attempt's whole timeout (7 s by default: the hand-overs that
// took 7 s).
func TestNewTermSendsAgain(t *testing.T) {
	s := natstest.Start(t)
	old := conn(t, s.ClientURL())
	var dropped atomic.Int32
	sub, err := old.Subscribe(Subject(prefix, opCheckout), func(*nats.Msg) { dropped.Add(1) })
	if err != nil {
		t.Fatal(err)
	}
	if err := old.Flush(); err != nil {
		t.Fatal(err)
	}
	var term atomic.Uint64
	term.Store(4)
	const attempt = time.Minute
	f := forwarder(t, conn(t, s.ClientURL()), Config{Attempt: attempt, Retry: attempt, Term: term.Load})
	ctx := ctxFor(t, 2*attempt)
	done := make(chan error, 1)
	began := time.Now()
	go func() {
		co, err := f.Seats("clm", "concurrent-lm").Checkout(ctx, sdk.CheckoutRequest{Feature: "cad", Client: client})
		if err == nil && co.Outcome != sdk.Granted {
			t.Errorf("checkout: %+v", co)
		}
		done <- err
	}()
	deadline := time.Now().Add(30 * time.Second)
	for dropped.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the old leader never got the checkout")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// The old leader is gone; the next one serves under a new term.
	_ = sub.Unsubscribe()
	serve(t, conn(t, s.ClientURL()), newEngine(), 5)
	term.Store(5)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("checkout after the new term: %v", err)
		}
		t.Logf("answered by the new leader %v after the first attempt", time.Since(began).Round(time.Millisecond))
	case <-time.After(attempt - 5*time.Second):
		t.Fatalf("the call waited out its attempt (%v) although a new leader was elected", attempt)
	}
}
