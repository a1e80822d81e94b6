package ledger_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/licensegw/licensegw/gateway/events"
	"github.com/licensegw/licensegw/gateway/journal"
	"github.com/licensegw/licensegw/gateway/ledger"
	"github.com/licensegw/licensegw/gateway/natsd"
	"github.com/licensegw/licensegw/gateway/natsd/natstest"
	"github.com/licensegw/licensegw/gateway/seats"
	"github.com/licensegw/licensegw/sdk"
)

// rig is a ledger on a real embedded NATS server, reopenable on the same
// stream and data directory as a restarted gateway would be.
type rig struct {
	t       testing.TB
	ns      *natsd.Server
	dataDir string
	cfg     seats.Config
	journal func(*journal.Config) // edits the journal's configuration; may be nil
}

func newRig(t testing.TB, cfg seats.Config) *rig {
	t.Helper()
	return &rig{t: t, ns: natstest.Start(t), dataDir: t.TempDir(), cfg: cfg}
}

// open opens a ledger with its own connection and journal, as one gateway
// process would.
func (r *rig) open(now func() time.Time) (*ledger.Ledger, *journal.Journal) {
	r.t.Helper()
	return r.openWith(func(o *ledger.Options) { o.Now = now })
}

// openWith is open with options edited by edit.
func (r *rig) openWith(edit func(*ledger.Options)) (*ledger.Ledger, *journal.Journal) {
	r.t.Helper()
	nc, err := r.ns.Connect(nats.Name(r.t.Name()))
	if err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(nc.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	jcfg := journal.Config{Conn: nc, Gateway: "test-gw"}
	if r.journal != nil {
		r.journal(&jcfg)
	}
	j, err := journal.Open(ctx, jcfg)
	if err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		j.Close(ctx) // bounded: the server may be gone
	})
	opts := ledger.Options{Config: r.cfg, Journal: j, DataDir: r.dataDir, SnapshotEvery: 1_000_000}
	edit(&opts)
	l, err := ledger.Open(ctx, opts)
	if err != nil {
		r.t.Fatal(err)
	}
	return l, j
}

// streamEvents reads every accounting event in the stream, through a
// journal of its own as a restarted gateway would.
func (r *rig) streamEvents() []events.Event {
	r.t.Helper()
	nc, err := r.ns.Connect()
	if err != nil {
		r.t.Fatal(err)
	}
	defer nc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	j, err := journal.Open(ctx, journal.Config{Conn: nc, Gateway: "reader"})
	if err != nil {
		r.t.Fatal(err)
	}
	defer j.Close(ctx)
	var out []events.Event
	if _, err := j.Replay(ctx, 0, func(_ uint64, ev events.Event) error {
		out = append(out, ev)
		return nil
	}); err != nil {
		r.t.Fatal(err)
	}
	return out
}

func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func features(fs ...seats.Feature) seats.Config { return seats.Config{Features: fs} }

func req(feature, user string) seats.CheckoutRequest {
	return seats.CheckoutRequest{Feature: feature, Client: seats.Client{User: user, Host: user + "-ws", Protocol: "test"}}
}

func TestCheckoutIsJournaledBeforeTheAnswer(t *testing.T) {
	r := newRig(t, features(seats.Feature{Vendor: "acme", Name: "cad", Version: "1.0", Seats: 2}))
	l, _ := r.open(nil)
	res, _, err := l.Checkout(ctx(t), req("cad", "alice"))
	if err != nil || res.Outcome != seats.Granted {
		t.Fatalf("checkout: %+v, %v", res, err)
	}
	// The answer came: the event must already be in the stream.
	evs := r.streamEvents()
	if len(evs) != 1 || evs[0].Kind != events.Checkout || evs[0].Lease != res.Lease.ID || evs[0].Gateway != "test-gw" || evs[0].InUse != 1 || evs[0].Seats != 2 {
		t.Fatalf("stream holds %+v", evs)
	}
	if err := l.Checkin(ctx(t), res.Lease.ID); err != nil {
		t.Fatal(err)
	}
	evs = r.streamEvents()
	if len(evs) != 2 || evs[1].Kind != events.Checkin || evs[1].InUse != 0 || evs[1].HeldMS == nil {
		t.Fatalf("after checkin the stream holds %+v", evs)
	}
	var gone *seats.GoneError
	if _, err := l.Heartbeat(ctx(t), res.Lease.ID); err == nil || !asGone(err, &gone) {
		t.Fatalf("heartbeat after checkin: %v", err)
	}
}

func asGone(err error, gone **seats.GoneError) bool {
	g, ok := err.(*seats.GoneError)
	*gone = g
	return ok
}

func TestQueueGrantReachesTheWaiter(t *testing.T) {
	r := newRig(t, features(seats.Feature{Name: "solver", Version: "1.0", Seats: 1, Queue: true}))
	l, _ := r.open(nil)
	first, _, err := l.Checkout(ctx(t), req("solver", "alice"))
	if err != nil || first.Outcome != seats.Granted {
		t.Fatalf("first: %+v %v", first, err)
	}
	var waiters []<-chan ledger.Update
	for _, u := range []string{"bob", "carol"} {
		q := req("solver", u)
		q.Wait = time.Minute
		res, ch, err := l.Checkout(ctx(t), q)
		if err != nil || res.Outcome != seats.Queued || ch == nil {
			t.Fatalf("%s: %+v %v", u, res, err)
		}
		waiters = append(waiters, ch)
	}
	if err := l.Checkin(ctx(t), first.Lease.ID); err != nil {
		t.Fatal(err)
	}
	bob := final(t, waiters[0])
	if bob.Lease == nil || bob.Lease.Client.User != "bob" {
		t.Fatalf("bob's final update: %+v", bob)
	}
	// carol moved to the head; her position update came before anything final.
	select {
	case u := <-waiters[1]:
		if u.Position != 1 || u.Lease != nil {
			t.Fatalf("carol got %+v, want position 1", u)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("carol heard nothing")
	}
	res, _, _ := l.Checkout(ctx(t), req("solver", "dave"))
	if res.Outcome != seats.Denied || res.Reason != seats.NoSeats {
		t.Fatalf("dave jumped the queue: %+v", res)
	}
}

func final(t *testing.T, ch <-chan ledger.Update) ledger.Update {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case u, ok := <-ch:
			if !ok {
				t.Fatal("channel closed without a final update")
			}
			if u.Lease != nil || u.Reason != "" {
				return u
			}
		case <-timeout:
			t.Fatal("no final update")
		}
	}
}

func TestExpiryRunsOnTheClock(t *testing.T) {
	r := newRig(t, features(seats.Feature{Name: "viewer", Version: "1.0", Seats: 1, LeaseTTL: 200 * time.Millisecond}))
	l, _ := r.open(nil)
	res, _, err := l.Checkout(ctx(t), req("viewer", "alice"))
	if err != nil || res.Outcome != seats.Granted {
		t.Fatal(res, err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if n, _ := l.Counts(); n == 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n, _ := l.Counts(); n != 0 {
		t.Fatal("lease did not expire")
	}
	evs := r.streamEvents()
	if last := evs[len(evs)-1]; last.Kind != events.Expired || last.Lease != res.Lease.ID {
		t.Fatalf("last event %+v, want expired", last)
	}
}

// TestRestartRebuildsLeases covers a crash (no Close, no final snapshot) and
// a clean stop followed by more events: both rebuild every lease.
func TestRestartRebuildsLeases(t *testing.T) {
	cfg := features(seats.Feature{Name: "cad", Version: "1.0", Seats: 100, Queue: true})
	for _, clean := range []bool{false, true} {
		t.Run(map[bool]string{false: "crash", true: "snapshot"}[clean], func(t *testing.T) {
			r := newRig(t, cfg)
			l1, j1 := r.open(nil)
			var ids []string
			for i := range 30 {
				res, _, err := l1.Checkout(ctx(t), req("cad", "u"+string(rune('a'+i%26))))
				if err != nil || res.Outcome != seats.Granted {
					t.Fatal(res, err)
				}
				ids = append(ids, res.Lease.ID)
			}
			if clean {
				if err := l1.Snapshot(ctx(t)); err != nil {
					t.Fatal(err)
				}
			}
			// After the snapshot: ten checkins that only the journal knows.
			for _, id := range ids[:10] {
				if err := l1.Checkin(ctx(t), id); err != nil {
					t.Fatal(err)
				}
			}
			if clean {
				if _, err := filepath.Glob(filepath.Join(r.dataDir, "snapshot.json")); err != nil {
					t.Fatal(err)
				}
			}
			j1.Close(ctx(t)) // the process is gone; its ledger never closed

			l2, _ := r.open(nil)
			if n, _ := l2.Counts(); n != 20 {
				t.Fatalf("rebuilt %d leases, want 20", n)
			}
			for _, id := range ids[10:] {
				if _, err := l2.Heartbeat(ctx(t), id); err != nil {
					t.Fatalf("lease %s lost: %v", id, err)
				}
			}
			for _, id := range ids[:10] {
				if _, err := l2.Heartbeat(ctx(t), id); err == nil {
					t.Fatalf("checked-in lease %s came back", id)
				}
			}
		})
	}
}

func TestConcurrentCheckoutsNeverOversubscribe(t *testing.T) {
	r := newRig(t, features(seats.Feature{Name: "hot", Version: "1.0", Seats: 10}))
	l, _ := r.open(nil)
	var wg sync.WaitGroup
	var mu sync.Mutex
	granted := 0
	for w := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 20 {
				res, _, err := l.Checkout(ctx(t), req("hot", "u"+string(rune('a'+(w+i)%26))))
				if err != nil {
					t.Error(err)
					return
				}
				if res.Outcome == seats.Granted {
					mu.Lock()
					granted++
					mu.Unlock()
					if i%2 == 0 {
						_ = l.Checkin(ctx(t), res.Lease.ID)
					}
				}
			}
		}()
	}
	wg.Wait()
	for _, ev := range r.streamEvents() {
		if ev.Kind == events.Checkout && ev.InUse > ev.Seats {
			t.Fatalf("event %+v has in_use above seats", ev)
		}
	}
	if n, _ := l.Counts(); n > 10 {
		t.Fatalf("%d leases held of 10 seats", n)
	}
	if granted == 0 {
		t.Fatal("nothing granted")
	}
}

// TestQueueUnderConcurrency: many waiters on a small queued feature, each
// checking in as soon as it is granted, some giving up. Deliveries of
// concurrent operations race each other; every waiter must still hear
// exactly one final update, after its position updates.
func TestQueueUnderConcurrency(t *testing.T) {
	r := newRig(t, features(seats.Feature{Name: "q", Version: "1.0", Seats: 2, Queue: true, MaxQueue: 200}))
	l, _ := r.open(nil)
	var wg sync.WaitGroup
	var mu sync.Mutex
	granted, cancelled := 0, 0
	for i := range 60 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			q := req("q", fmt.Sprint("u", i))
			q.Wait = time.Minute
			res, ch, err := l.Checkout(ctx(t), q)
			if err != nil {
				t.Error(err)
				return
			}
			lease := res.Lease
			if res.Outcome == seats.Queued {
				if i%7 == 0 {
					if err := l.Cancel(ctx(t), res.Ticket, seats.Cancelled); err != nil && !errors.Is(err, seats.ErrUnknownTicket) {
						t.Error(err)
					}
				}
				last := res.Position
				var final *ledger.Update
				for u := range ch {
					switch {
					case u.Lease != nil || u.Reason != "":
						if final != nil {
							t.Errorf("ticket %s: a second final update %+v", res.Ticket, u)
						}
						final = &u
					case final != nil:
						t.Errorf("ticket %s: position %d after the final update", res.Ticket, u.Position)
					case u.Position >= last:
						t.Errorf("ticket %s: position went from %d to %d", res.Ticket, last, u.Position)
					default:
						last = u.Position
					}
				}
				if final == nil {
					t.Errorf("ticket %s: no final update", res.Ticket)
					return
				}
				if final.Lease == nil {
					mu.Lock()
					cancelled++
					mu.Unlock()
					return
				}
				lease = *final.Lease
			}
			mu.Lock()
			granted++
			mu.Unlock()
			if err := l.Checkin(ctx(t), lease.ID); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if granted+cancelled != 60 || granted < 60-9 {
		t.Fatalf("granted %d, cancelled %d of 60", granted, cancelled)
	}
	if n, tk := l.Counts(); n != 0 || tk != 0 {
		t.Fatalf("%d leases and %d tickets left", n, tk)
	}
}

// A removal is journaled with who ordered it, whether through the admin API
// or a plugin's client (lmremove).
func TestRemoveNamesTheActor(t *testing.T) {
	r := newRig(t, features(seats.Feature{Vendor: "acme", Name: "cad", Version: "1.0", Seats: 2}))
	l, _ := r.open(nil)
	res, _, err := l.Checkout(ctx(t), req("cad", "alice"))
	if err != nil || res.Outcome != seats.Granted {
		t.Fatalf("checkout: %+v, %v", res, err)
	}
	by := sdk.Client{Addr: "127.0.0.1:4711", User: "root", Host: "gw"}
	if err := l.Seats("flexlm-1", "flexlm").Remove(ctx(t), res.Lease.ID, by); err != nil {
		t.Fatal(err)
	}
	evs := r.streamEvents()
	last := evs[len(evs)-1]
	want := "plugin flexlm-1 (flexlm) client 127.0.0.1:4711 root@gw"
	if last.Kind != events.Removed || last.Lease != res.Lease.ID || last.By != want {
		t.Fatalf("last event %+v, want removed by %q", last, want)
	}
}

// The ledger applies the identifier rules itself: a request breaking them
// is refused with sdk.ErrInvalid and journals nothing.
func TestCheckoutBreakingTheIdentifierRulesIsNotJournaled(t *testing.T) {
	r := newRig(t, features(seats.Feature{Vendor: "acme", Name: "cad", Version: "1.0", Seats: 2}))
	l, _ := r.open(nil)
	s := l.Seats("clm", "concurrent-lm")
	for _, req := range []sdk.CheckoutRequest{
		{Feature: strings.Repeat("F", 4030), Client: sdk.Client{User: "a", Host: "h"}},
		{Feature: "cad.*", Client: sdk.Client{User: "a", Host: "h"}},
		{Feature: "cad", Client: sdk.Client{User: strings.Repeat("\x01", 65000), Host: "h"}},
		{Feature: "cad", Vendor: "a>b", Client: sdk.Client{User: "a", Host: "h"}},
	} {
		if _, err := s.Checkout(ctx(t), req); !errors.Is(err, sdk.ErrInvalid) {
			t.Errorf("feature %.20q user %.20q: %v, want ErrInvalid", req.Feature, req.Client.User, err)
		}
	}
	if evs := r.streamEvents(); len(evs) != 0 {
		t.Fatalf("the refused requests journaled %d events: %+v", len(evs), evs[0])
	}
}
