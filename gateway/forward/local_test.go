package forward

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/licensegw/licensegw/gateway/journal"
	"github.com/licensegw/licensegw/gateway/ledger"
	"github.com/licensegw/licensegw/gateway/natsd"
	"github.com/licensegw/licensegw/gateway/natsd/natstest"
	accounting "github.com/licensegw/licensegw/gateway/seats"
	"github.com/licensegw/licensegw/sdk"
	"github.com/licensegw/licensegw/sdk/sdktest"
)

// openLedger opens a ledger on the default stream of ns through a journal
// of its own, as a gateway taking the lead would; close closes both.
func openLedger(t testing.TB, ns *natsd.Server, features ...accounting.Feature) (l *ledger.Ledger, close func()) {
	t.Helper()
	nc, err := ns.Connect(nats.Name(t.Name()))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	j, err := journal.Open(ctx, journal.Config{Conn: nc, Gateway: "gw-1"})
	if err != nil {
		t.Fatal(err)
	}
	l, err = ledger.Open(ctx, ledger.Options{Config: accounting.Config{Features: features}, Journal: j, Node: "gw-1"})
	if err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	close = func() {
		once.Do(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = l.Close(ctx)
			_ = j.Close(ctx)
			nc.Close()
		})
	}
	t.Cleanup(close)
	return l, close
}

// While the node leads, its plugins' calls are answered by its own ledger
// (no service subscribes here, so a forwarded call could only fail), the
// asynchronous ones too; the moment it stops leading they go to the
// leader over NATS.
func TestLeaderCallsItsOwnLedger(t *testing.T) {
	ns := natstest.Start(t)
	l, _ := openLedger(t, ns, accounting.Feature{Vendor: "acme", Name: "cad", Version: "1.0", Seats: 2})
	f := forwarder(t, conn(t, ns.ClientURL()), Config{Node: "gw-1", Retry: 200 * time.Millisecond})
	var leading atomic.Bool
	leading.Store(true)
	f.Lead(&Local{Engine: l, Term: 3, Leading: leading.Load})
	st := f.Seats("clm", "concurrent-lm")
	ctx := ctxFor(t, 30*time.Second)

	co, err := st.Checkout(ctx, sdk.CheckoutRequest{Feature: "cad", Client: client})
	if err != nil || co.Outcome != sdk.Granted {
		t.Fatalf("local checkout: %+v, %v", co, err)
	}
	if _, err := st.Heartbeat(ctx, co.Grant.Lease); err != nil {
		t.Fatalf("local heartbeat: %v", err)
	}
	async := st.(sdk.AsyncSeats)
	got := make(chan *sdk.Checkout, 1)
	async.CheckoutAsync(sdk.CheckoutRequest{Feature: "cad", Client: client}, func(co *sdk.Checkout, err error) {
		if err != nil {
			t.Error(err)
		}
		got <- co
	})
	co2 := <-got
	if co2 == nil || co2.Outcome != sdk.Granted {
		t.Fatalf("local async checkout: %+v", co2)
	}
	checkedIn := make(chan error, 1)
	async.CheckinAsync(co2.Grant.Lease, func(err error) { checkedIn <- err })
	if err := <-checkedIn; err != nil {
		t.Fatalf("local async checkin: %v", err)
	}
	if term, err := f.Ping(ctx); err != nil || term != 3 {
		t.Fatalf("ping while leading: %d, %v; want term 3", term, err)
	}
	if lease, ok := l.Lease(co.Grant.Lease); !ok || lease.Client.Node != "" || lease.Client.Plugin != "clm" {
		t.Fatalf("lease in the ledger: %+v, %v; want this node's (node \"\"), plugin clm", lease, ok)
	}

	leading.Store(false) // the lease is lost: nothing answers over NATS here
	if _, err := st.Heartbeat(ctx, co.Grant.Lease); !errors.Is(err, sdk.ErrUnavailable) {
		t.Fatalf("heartbeat after the lease was lost: %v, want unavailable (no leader answers)", err)
	}
	leading.Store(true)
	f.Lead(nil)
	if _, err := st.Heartbeat(ctx, co.Grant.Lease); !errors.Is(err, sdk.ErrUnavailable) {
		t.Fatalf("heartbeat after Lead(nil): %v, want unavailable (no leader answers)", err)
	}
}

// localEngine is a local ledger that applies a call to the accounting it
// shares with the next leader and then fails "unavailable", as a ledger
// whose journal did not acknowledge before it stepped down.
type localEngine struct {
	*sdktest.Seats
	checkouts, checkins atomic.Int32
}

func (e *localEngine) SeatsFor(string, string, string) sdk.Seats { return e }
func (e *localEngine) ReleaseBoundOn(context.Context, string, string, time.Time) error {
	return nil
}

func (e *localEngine) Checkout(ctx context.Context, req sdk.CheckoutRequest) (*sdk.Checkout, error) {
	e.checkouts.Add(1)
	if _, err := e.Seats.Checkout(ctx, req); err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("%w: journal not acknowledged", sdk.ErrUnavailable)
}

func (e *localEngine) Checkin(ctx context.Context, lease string) error {
	e.checkins.Add(1)
	if err := e.Seats.Checkin(ctx, lease); err != nil {
		return err
	}
	return fmt.Errorf("%w: journal not acknowledged", sdk.ErrUnavailable)
}

// A local call answered "unavailable" after it may have been applied goes
// to the leader as a retry: a checkout keeps its RequestKey and gets the
// same lease (one seat used), a checkin of a lease that attempt ended is
// done.
func TestLocalUnavailableIsRetriedThroughTheLeader(t *testing.T) {
	ns := natstest.Start(t)
	shared := sdktest.NewSeats(sdktest.Feature{Vendor: "acme", Name: "cad", Seats: 5})
	serve(t, conn(t, ns.ClientURL()), &engine{seats: shared}, 4)
	local := &localEngine{Seats: shared}
	f := forwarder(t, conn(t, ns.ClientURL()), Config{Node: "gw-1"})
	f.Lead(&Local{Engine: local, Term: 3, Leading: func() bool { return true }})
	st := f.Seats("clm", "concurrent-lm")
	ctx := ctxFor(t, 30*time.Second)

	co, err := st.Checkout(ctx, sdk.CheckoutRequest{Feature: "cad", Client: client})
	if err != nil || co.Outcome != sdk.Granted {
		t.Fatalf("checkout: %+v, %v", co, err)
	}
	fs, _ := shared.Status(ctx, sdk.StatusQuery{Feature: "cad"})
	if local.checkouts.Load() != 1 || fs[0].InUse != 1 {
		t.Fatalf("local attempts %d, in use %d; want 1 attempt and 1 seat (the retry found the lease by its key)", local.checkouts.Load(), fs[0].InUse)
	}
	if err := st.Checkin(ctx, co.Grant.Lease); err != nil {
		t.Fatalf("checkin applied locally, then retried through the leader: %v, want done", err)
	}
	if local.checkins.Load() != 1 {
		t.Fatalf("local checkin attempts %d, want 1", local.checkins.Load())
	}
}

// The hand-over race: calls keep coming while the leader's ledger closes
// under them and the next leader (a ledger replaying the same stream)
// starts serving over NATS. Every call is answered as if one ledger had
// served them all: no lease is lost, none is granted twice, nothing is
// refused.
func TestCallsSurviveTheLedgerClosingUnderThem(t *testing.T) {
	ns := natstest.Start(t)
	feature := accounting.Feature{Vendor: "acme", Name: "cad", Version: "1.0", Seats: 1000, LeaseTTL: time.Minute}
	l1, close1 := openLedger(t, ns, feature)
	f := forwarder(t, conn(t, ns.ClientURL()), Config{Node: "gw-1", Retry: 20 * time.Second})
	f.Lead(&Local{Engine: l1, Term: 1, Leading: func() bool { return true }})
	st := f.Seats("clm", "concurrent-lm")
	ctx := ctxFor(t, 60*time.Second)

	const workers = 8
	var calls atomic.Int64
	stop := make(chan struct{})
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			c := sdk.Client{User: fmt.Sprintf("u%d", w), Host: "ws", Addr: "127.0.0.1:1"}
			for {
				select {
				case <-stop:
					errs <- nil
					return
				default:
				}
				co, err := st.Checkout(ctx, sdk.CheckoutRequest{Feature: "cad", Client: c})
				if err != nil || co.Outcome != sdk.Granted {
					errs <- fmt.Errorf("checkout: %+v, %w", co, err)
					return
				}
				if _, err := st.Heartbeat(ctx, co.Grant.Lease); err != nil {
					errs <- fmt.Errorf("heartbeat %s: %w", co.Grant.Lease, err)
					return
				}
				if err := st.Checkin(ctx, co.Grant.Lease); err != nil {
					errs <- fmt.Errorf("checkin %s: %w", co.Grant.Lease, err)
					return
				}
				calls.Add(3)
			}
		})
	}
	waitFor(t, func() bool { return calls.Load() > 300 }, "calls on the first leader")
	close1() // no Lead(nil) first: calls slip into the closed ledger
	l2, _ := openLedger(t, ns, feature)
	serve(t, conn(t, ns.ClientURL()), &ledgerEngine{l2}, 2)
	f.Lead(nil)
	before := calls.Load()
	waitFor(t, func() bool { return calls.Load() > before+300 }, "calls on the next leader")
	close(stop)
	wg.Wait()
	for range workers {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if leases, _ := l2.Counts(); leases != 0 {
		t.Errorf("%d leases left on the next leader after every checkout was checked in", leases)
	}
	t.Logf("%d calls answered, %d of them before the hand-over", calls.Load(), before)
}

// ledgerEngine is a ledger as the forwarding service's engine.
type ledgerEngine struct{ *ledger.Ledger }

func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A checkout queued on the local ledger ends with reason restart when
// another term leads, as a forwarded one does.
func TestLocalTicketEndsWithTheTerm(t *testing.T) {
	ns := natstest.Start(t)
	l, _ := openLedger(t, ns, accounting.Feature{Vendor: "acme", Name: "cad", Version: "1.0", Seats: 1, Queue: true})
	var term atomic.Uint64
	term.Store(3)
	f := forwarder(t, conn(t, ns.ClientURL()), Config{Node: "gw-1", Term: term.Load})
	f.Lead(&Local{Engine: l, Term: 3, Leading: func() bool { return true }})
	checkTicketEndsWithTheTerm(t, f.Seats("clm", "concurrent-lm"), func() { term.Store(4) })
}

// asyncCheckouts is a Seats whose Checkout is its CheckoutAsync, waited
// for: a plugin's session checks out that way.
type asyncCheckouts struct{ sdk.Seats }

func (a asyncCheckouts) Checkout(ctx context.Context, req sdk.CheckoutRequest) (*sdk.Checkout, error) {
	type answer struct {
		co  *sdk.Checkout
		err error
	}
	ch := make(chan answer, 1)
	a.Seats.(sdk.AsyncSeats).CheckoutAsync(req, func(co *sdk.Checkout, err error) { ch <- answer{co, err} })
	select {
	case r := <-ch:
		return r.co, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// A plugin's checkouts queued on the local ledger the asynchronous way
// (as its session takes them) need no goroutine each to relay their
// updates: the ledger hands them to the Forwarder's waiter, which still
// ends them (reason restart) when another term leads, and grants them.
func TestLocalAsyncTicketsNeedNoRelay(t *testing.T) {
	ns := natstest.Start(t)
	l, _ := openLedger(t, ns, accounting.Feature{Vendor: "acme", Name: "cad", Version: "1.0", Seats: 1, Queue: true},
		accounting.Feature{Vendor: "acme", Name: "cam", Version: "1.0", Seats: 1, Queue: true})
	var term atomic.Uint64
	term.Store(3)
	f := forwarder(t, conn(t, ns.ClientURL()), Config{Node: "gw-1", Term: term.Load})
	f.Lead(&Local{Engine: l, Term: 3, Leading: func() bool { return true }})
	st := asyncCheckouts{f.Seats("clm", "concurrent-lm")}
	t.Run("granted, then ended by the term", func(t *testing.T) {
		checkTicketEndsWithTheTerm(t, st, func() { term.Store(4) })
	})

	term.Store(5)
	f.Lead(&Local{Engine: l, Term: 5, Leading: func() bool { return true }})
	ctx := ctxFor(t, 30*time.Second)
	// Another feature: the subtest left cad's seat held.
	held, err := st.Checkout(ctx, sdk.CheckoutRequest{Feature: "cam", Client: client})
	if err != nil || held.Outcome != sdk.Granted {
		t.Fatalf("%+v, %v", held, err)
	}
	before := runtime.NumGoroutine()
	const many = 40
	tickets := make([]*sdk.Checkout, many)
	for i := range tickets {
		q, err := st.Checkout(ctx, sdk.CheckoutRequest{Feature: "cam", Client: client, Wait: time.Minute})
		if err != nil || q.Outcome != sdk.Queued || q.Updates == nil {
			t.Fatalf("queued checkout %d: %+v, %v", i, q, err)
		}
		tickets[i] = q
	}
	if grew := runtime.NumGoroutine() - before; grew >= many/2 {
		t.Errorf("%d queued tickets added %d goroutines: something relays their updates", many, grew)
	}
	term.Store(6)
	for i, q := range tickets {
		if u := final(t, q.Updates); u.Denial == nil || u.Denial.Reason != "restart" {
			t.Fatalf("ticket %d across a leader change ended with %+v, want denial restart", i, u)
		}
	}
}
