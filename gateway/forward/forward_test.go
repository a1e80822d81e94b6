package forward

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/licensegw/licensegw/gateway/natsd/natstest"
	"github.com/licensegw/licensegw/sdk"
	"github.com/licensegw/licensegw/sdk/sdktest"
)

const prefix = "licensegw"

// engine serves every node's requests from one in-memory accounting and
// records releases.
type engine struct {
	seats *sdktest.Seats

	mu       sync.Mutex
	released []string // node/plugin
}

func (e *engine) SeatsFor(node, plugin, protocol string) sdk.Seats { return e.seats }

func (e *engine) ReleaseBoundOn(_ context.Context, node, plugin string, _ time.Time) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.released = append(e.released, node+"/"+plugin)
	return nil
}

func newEngine(features ...sdktest.Feature) *engine {
	if len(features) == 0 {
		features = []sdktest.Feature{{Vendor: "acme", Name: "cad", Seats: 1, Queue: true}}
	}
	return &engine{seats: sdktest.NewSeats(features...)}
}

// conn is a connection to the server at url.
func conn(t *testing.T, url string) *nats.Conn { return connB(t, url) }

func connB(t testing.TB, url string) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(url, natstest.FullAccess())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

func serve(t *testing.T, nc *nats.Conn, e Engine, term uint64) *Service {
	t.Helper()
	svc, err := Serve(ServiceConfig{Conn: nc, Prefix: prefix, Term: term, Engine: e})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Stop)
	return svc
}

func forwarder(t *testing.T, nc *nats.Conn, cfg Config) *Forwarder {
	t.Helper()
	cfg.Conn, cfg.Prefix = nc, prefix
	if cfg.Node == "" {
		cfg.Node = "gw-2"
	}
	f, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	return f
}

func ctxFor(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

var client = sdk.Client{User: "ann", Host: "ws1", Addr: "127.0.0.1:5000"}

func TestForwardedLeaseLife(t *testing.T) {
	s := natstest.Start(t)
	e := newEngine()
	serve(t, conn(t, s.ClientURL()), e, 7)
	st := forwarder(t, conn(t, s.ClientURL()), Config{}).Seats("clm", "concurrent-lm")
	ctx := ctxFor(t, 30*time.Second)

	co, err := st.Checkout(ctx, sdk.CheckoutRequest{Feature: "cad", Client: client})
	if err != nil {
		t.Fatal(err)
	}
	if co.Outcome != sdk.Granted {
		t.Fatalf("outcome %v, want granted", co.Outcome)
	}
	denied, err := st.Checkout(ctx, sdk.CheckoutRequest{Feature: "cad", Client: client})
	if err != nil || denied.Outcome != sdk.Denied || denied.Denial.Reason != "no-seats" {
		t.Fatalf("second checkout of the one seat: %+v, %v; want denied no-seats", denied, err)
	}
	if _, err := st.Heartbeat(ctx, co.Grant.Lease); err != nil {
		t.Fatalf("heartbeat: %v", err)
	}
	fs, err := st.Status(ctx, sdk.StatusQuery{Feature: "cad"})
	if err != nil || len(fs) != 1 || fs[0].InUse != 1 {
		t.Fatalf("status: %+v, %v; want cad with 1 in use", fs, err)
	}
	if err := st.Checkin(ctx, co.Grant.Lease); err != nil {
		t.Fatalf("checkin: %v", err)
	}
	// A first attempt hears that the lease is gone; only a retry counts
	// an unknown lease as done.
	var gone *sdk.GoneError
	if err := st.Checkin(ctx, co.Grant.Lease); !errors.As(err, &gone) {
		t.Fatalf("second checkin: %v, want a GoneError", err)
	}
	if _, err := st.Heartbeat(ctx, co.Grant.Lease); !errors.As(err, &gone) {
		t.Fatalf("heartbeat after checkin: %v, want a GoneError", err)
	}
	if _, err := st.Checkout(ctx, sdk.CheckoutRequest{Feature: "cad", Count: 1, Client: sdk.Client{User: "bad user\x00"}}); !errors.Is(err, sdk.ErrInvalid) {
		t.Fatalf("invalid checkout: %v, want ErrInvalid", err)
	}
}

// With no leader, a call fails "unavailable" once its retries are spent,
// and succeeds as soon as a leader serves within them.
func TestForwardWaitsForALeader(t *testing.T) {
	s := natstest.Start(t)
	st := forwarder(t, conn(t, s.ClientURL()), Config{Retry: 300 * time.Millisecond}).Seats("clm", "concurrent-lm")
	ctx := ctxFor(t, 30*time.Second)
	start := time.Now()
	_, err := st.Checkout(ctx, sdk.CheckoutRequest{Feature: "cad", Client: client})
	if !errors.Is(err, sdk.ErrUnavailable) {
		t.Fatalf("checkout with no leader: %v, want ErrUnavailable", err)
	}
	t.Logf("no leader: unavailable after %v", time.Since(start).Round(time.Millisecond))

	f := forwarder(t, conn(t, s.ClientURL()), Config{Retry: 20 * time.Second})
	leader := conn(t, s.ClientURL())
	go func() {
		time.Sleep(300 * time.Millisecond) // the election
		svc, err := Serve(ServiceConfig{Conn: leader, Prefix: prefix, Term: 2, Engine: newEngine()})
		if err != nil {
			t.Error(err)
			return
		}
		t.Cleanup(svc.Stop)
	}()
	co, err := f.Seats("clm", "concurrent-lm").Checkout(ctx, sdk.CheckoutRequest{Feature: "cad", Client: client})
	if err != nil || co.Outcome != sdk.Granted {
		t.Fatalf("checkout retried until a leader served: %+v, %v", co, err)
	}
}

// A leader that applies a checkout and dies before answering: the retry
// reaches the next leader with the same request key and gets the same
// lease, not a second seat.
func TestForwardRetryGetsTheSameLease(t *testing.T) {
	s := natstest.Start(t)
	e := newEngine(sdktest.Feature{Vendor: "acme", Name: "cad", Seats: 5})
	dying := conn(t, s.ClientURL())
	var applied atomic.Value
	sub, err := dying.Subscribe(Subject(prefix, opCheckout), func(m *nats.Msg) {
		var req request
		if err := json.Unmarshal(m.Data, &req); err != nil {
			t.Error(err)
			return
		}
		co, err := e.seats.Checkout(context.Background(), *req.Checkout)
		if err != nil {
			t.Error(err)
			return
		}
		applied.Store(co.Grant.Lease) // and no answer: the leader died
	})
	if err != nil {
		t.Fatal(err)
	}
	f := forwarder(t, conn(t, s.ClientURL()), Config{Attempt: 300 * time.Millisecond, Retry: 20 * time.Second})
	ctx := ctxFor(t, 30*time.Second)
	type result struct {
		co  *sdk.Checkout
		err error
	}
	done := make(chan result, 1)
	go func() {
		co, err := f.Seats("clm", "concurrent-lm").Checkout(ctx, sdk.CheckoutRequest{Feature: "cad", Client: client})
		done <- result{co, err}
	}()
	deadline := time.Now().Add(20 * time.Second)
	for applied.Load() == nil {
		if time.Now().After(deadline) {
			t.Fatal("the first leader never saw the checkout")
		}
		time.Sleep(10 * time.Millisecond)
	}
	_ = sub.Unsubscribe()
	serve(t, conn(t, s.ClientURL()), e, 3)
	r := <-done
	if r.err != nil || r.co.Outcome != sdk.Granted {
		t.Fatalf("retried checkout: %+v, %v", r.co, r.err)
	}
	if r.co.Grant.Lease != applied.Load().(string) {
		t.Errorf("retry got lease %s, the dead leader granted %s", r.co.Grant.Lease, applied.Load())
	}
	fs, _ := e.seats.Status(ctx, sdk.StatusQuery{Feature: "cad"})
	if fs[0].InUse != 1 {
		t.Errorf("in use %d after one checkout retried, want 1", fs[0].InUse)
	}
}

// A queued checkout's updates reach the plugin on the node that holds the
// ticket; a change of leader ends a waiting ticket with reason restart.
func TestForwardedTicket(t *testing.T) {
	s := natstest.Start(t)
	e := newEngine()
	serve(t, conn(t, s.ClientURL()), e, 4)
	var term atomic.Uint64
	term.Store(4)
	f := forwarder(t, conn(t, s.ClientURL()), Config{Term: term.Load})
	checkTicketEndsWithTheTerm(t, f.Seats("clm", "concurrent-lm"), func() {
		term.Store(5) // a new leader: it dequeued every ticket it replayed
	})
}

// checkTicketEndsWithTheTerm queues a checkout through st behind the only
// seat of cad, which it holds: the ticket is granted when that seat is
// checked in. A second ticket queued behind that grant ends with reason
// restart once newTerm has made another term lead.
func checkTicketEndsWithTheTerm(t *testing.T, st sdk.Seats, newTerm func()) {
	t.Helper()
	ctx := ctxFor(t, 30*time.Second)
	held, err := st.Checkout(ctx, sdk.CheckoutRequest{Feature: "cad", Client: client})
	if err != nil || held.Outcome != sdk.Granted {
		t.Fatalf("%+v, %v", held, err)
	}
	q, err := st.Checkout(ctx, sdk.CheckoutRequest{Feature: "cad", Client: client, Wait: time.Minute})
	if err != nil || q.Outcome != sdk.Queued {
		t.Fatalf("queued checkout: %+v, %v", q, err)
	}
	if err := st.Checkin(ctx, held.Grant.Lease); err != nil {
		t.Fatal(err)
	}
	if u := final(t, q.Updates); u.Grant == nil || u.Ticket != q.Ticket {
		t.Fatalf("ticket %s ended with %+v, want a grant", q.Ticket, u)
	}
	q2, err := st.Checkout(ctx, sdk.CheckoutRequest{Feature: "cad", Client: client, Wait: time.Minute})
	if err != nil || q2.Outcome != sdk.Queued {
		t.Fatalf("second queued checkout: %+v, %v", q2, err)
	}
	newTerm()
	if u := final(t, q2.Updates); u.Denial == nil || u.Denial.Reason != "restart" {
		t.Fatalf("ticket across a leader change ended with %+v, want denial restart", u)
	}
}

func final(t *testing.T, ch <-chan sdk.TicketUpdate) sdk.TicketUpdate {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case u, ok := <-ch:
			if !ok {
				t.Fatal("updates closed without a final update")
			}
			if u.Final() {
				return u
			}
		case <-timeout:
			t.Fatal("no final update")
		}
	}
}

func TestForwardedRelease(t *testing.T) {
	s := natstest.Start(t)
	e := newEngine()
	serve(t, conn(t, s.ClientURL()), e, 1)
	f := forwarder(t, conn(t, s.ClientURL()), Config{Node: "gw-3"})
	if err := f.ReleaseBound(ctxFor(t, 30*time.Second), "clm", time.Now()); err != nil {
		t.Fatal(err)
	}
	if len(e.released) != 1 || e.released[0] != "gw-3/clm" {
		t.Fatalf("released %v, want gw-3/clm", e.released)
	}
	if term, err := f.Ping(ctxFor(t, 30*time.Second)); err != nil || term != 1 {
		t.Fatalf("ping: term %d, %v", term, err)
	}
}
