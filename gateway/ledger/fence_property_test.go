package ledger_test

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"pgregory.net/rapid"

	"github.com/licensegw/licensegw/gateway/events"
	"github.com/licensegw/licensegw/gateway/journal"
	"github.com/licensegw/licensegw/gateway/ledger"
	"github.com/licensegw/licensegw/gateway/natsd"
	"github.com/licensegw/licensegw/gateway/natsd/natstest"
	"github.com/licensegw/licensegw/gateway/seats"
)

// TestTwoLeadersThroughTheFence is the split brain the journal's fence
// exists for: two ledgers (engine + journal) on one stream, each sure it
// leads, take random checkouts and checkins, one at a time or racing each
// other, and are re-elected (reopened with a newer term, as a cluster's
// lease revision gives) at random. Whatever the interleaving, the stream
// read with the read rule must be one serial history (each term written by
// one writer, terms rising, idx consecutive) that a seat model accepts
// event by event (no lease granted twice, none ended that was not live,
// in_use as the model counts it and never above seats), every answer a
// client got must be in it, no event id is stored twice, Replay (the
// gateway's own reader) counts the same events, and a third ledger opened
// on the stream ends with the model's leases.
func TestTwoLeadersThroughTheFence(t *testing.T) {
	ns := natstest.Start(t)
	cfg := features(
		seats.Feature{Vendor: "acme", Name: "cad", Version: "1.0", Seats: 3, LeaseTTL: time.Hour},
		seats.Feature{Vendor: "acme", Name: "cam", Version: "1.0", Seats: 1, LeaseTTL: time.Hour},
	)
	// Each run opens about ten journals, which costs more than the
	// operations: fewer runs of more operations each, unless
	// -rapid.checks says otherwise.
	defer fewerChecks(t, 20)()
	var runs, ops atomic.Int64
	rapid.Check(t, func(rt *rapid.T) {
		n := runs.Add(1)
		f := &fenceRun{
			t: rt, ns: ns, cfg: cfg,
			stream: fmt.Sprintf("FENCE_%d", n), prefix: fmt.Sprintf("fence%d", n),
			answered: map[string]string{}, checkedIn: map[string]bool{},
		}
		defer f.close()
		f.elect(0)
		f.elect(1)
		steps := rapid.IntRange(30, 100).Draw(rt, "steps")
		for range steps {
			switch rapid.SampledFrom(fenceOps).Draw(rt, "op") {
			case "checkout":
				f.checkout(rapid.IntRange(0, 1).Draw(rt, "engine"), drawReq(rt))
				ops.Add(1)
			case "checkin":
				e := rapid.IntRange(0, 1).Draw(rt, "engine")
				if lease, ok := f.drawLease(rt); ok {
					f.checkin(e, lease)
					ops.Add(1)
				}
			case "race":
				ops.Add(int64(f.race(rt)))
			case "elect":
				f.elect(rapid.IntRange(0, 1).Draw(rt, "engine"))
				ops.Add(1)
			}
		}
		f.check()
	})
	t.Logf("%d runs, %d operations", runs.Load(), ops.Load())
}

// fenceOps weighs the operations: elections are the dearest.
var fenceOps = []string{"checkout", "checkout", "checkout", "checkin", "checkin", "race", "race", "race", "elect"}

// fewerChecks lowers rapid's number of checks to n for the test, unless
// the command line set it; the returned func restores it.
func fewerChecks(t *testing.T, n int) func() {
	f := flag.Lookup("rapid.checks")
	set := false
	flag.Visit(func(v *flag.Flag) { set = set || v.Name == "rapid.checks" })
	if f == nil || set {
		return func() {}
	}
	old := f.Value.String()
	if err := f.Value.Set(strconv.Itoa(n)); err != nil {
		t.Fatal(err)
	}
	return func() { _ = f.Value.Set(old) }
}

// race sends requests to both engines at once, several each: a deposed
// writer's pipelined appends meet the other's. It returns how many.
func (f *fenceRun) race(rt *rapid.T) int {
	var reqs [2][]seats.CheckoutRequest
	var ins [2][]string
	for e := range 2 {
		for range rapid.IntRange(0, 5).Draw(rt, "checkouts") {
			reqs[e] = append(reqs[e], drawReq(rt))
		}
		for range rapid.IntRange(0, 2).Draw(rt, "checkins") {
			if lease, ok := f.drawLease(rt); ok {
				ins[e] = append(ins[e], lease)
			}
		}
	}
	n := 0
	var wg sync.WaitGroup
	for e := range 2 {
		for _, r := range reqs[e] {
			wg.Go(func() { f.checkout(e, r) })
		}
		for _, lease := range ins[e] {
			wg.Go(func() { f.checkin(e, lease) })
		}
		n += len(reqs[e]) + len(ins[e])
	}
	wg.Wait()
	return n
}

func drawReq(rt *rapid.T) seats.CheckoutRequest {
	r := req(rapid.SampledFrom([]string{"cad", "cad", "cam"}).Draw(rt, "feature"), rapid.SampledFrom([]string{"ann", "bob", "cy"}).Draw(rt, "user"))
	r.Count = rapid.IntRange(1, 2).Draw(rt, "count")
	return r
}

// fenceRun is one run of the property: a stream of its own and two
// engines writing it.
type fenceRun struct {
	t              *rapid.T
	ns             *natsd.Server
	cfg            seats.Config
	stream, prefix string

	term    uint64 // the last term handed out: a lease revision, only rises
	engines [2]*fenceEngine

	mu        sync.Mutex
	answered  map[string]string // lease granted to a client -> the writer that answered
	leases    []string          // answered leases, in answer order
	checkedIn map[string]bool   // leases whose checkin a client was answered
	failed    []string          // unexpected errors
}

// fenceEngine is one ledger and the journal it writes through: one
// gateway that believes it leads.
type fenceEngine struct {
	name string // the journal's gateway name: who wrote an event
	nc   *nats.Conn
	j    *journal.Journal
	l    *ledger.Ledger // nil when it could not even open (deposed at once)
}

func (f *fenceRun) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 30*time.Second)
}

// elect (re)opens engine i with the next term: it replays the stream and
// writes from its end, as a node that won the lease does, while the other
// engine, which is not told, goes on believing it leads.
func (f *fenceRun) elect(i int) {
	if old := f.engines[i]; old != nil {
		old.close()
	}
	f.term++
	name := fmt.Sprintf("engine-%d-term-%d", i, f.term)
	nc, err := f.ns.Connect(nats.Name(name))
	if err != nil {
		f.t.Fatal(err)
	}
	e := &fenceEngine{name: name, nc: nc}
	f.engines[i] = e
	ctx, cancel := f.ctx()
	defer cancel()
	e.j, err = journal.Open(ctx, journal.Config{Conn: nc, Gateway: name, Stream: f.stream, Prefix: f.prefix, Term: f.term})
	if err != nil {
		f.t.Fatalf("open journal %s: %v", name, err)
	}
	e.l, err = ledger.Open(ctx, ledger.Options{Config: f.cfg, Journal: e.j, Wait: 10 * time.Second})
	switch {
	case err == nil:
	case errors.Is(err, journal.ErrDeposed):
		// The other engine appended while this one replayed: its revive
		// was refused. It is deposed before it began.
	default:
		f.t.Fatalf("open ledger %s: %v", name, err)
	}
}

func (e *fenceEngine) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if e.l != nil {
		_ = e.l.Close(ctx) // a deposed ledger's last appends fail: fine
	}
	if e.j != nil {
		_ = e.j.Close(ctx)
	}
	e.nc.Close()
}

func (f *fenceRun) close() {
	for _, e := range f.engines {
		if e != nil {
			e.close()
		}
	}
	nc, err := f.ns.Connect()
	if err != nil {
		return
	}
	defer nc.Close()
	if js, err := jetstream.New(nc); err == nil {
		ctx, cancel := f.ctx()
		defer cancel()
		_ = js.DeleteStream(ctx, f.stream)
	}
}

// checkout asks engine i; a grant is an answer the history must hold.
func (f *fenceRun) checkout(i int, r seats.CheckoutRequest) {
	e := f.engines[i]
	if e.l == nil {
		return
	}
	ctx, cancel := f.ctx()
	defer cancel()
	res, _, err := e.l.Checkout(ctx, r)
	if err != nil {
		if !errors.Is(err, ledger.ErrUnavailable) {
			f.mu.Lock() // maybe not the test's goroutine: check reports it
			f.failed = append(f.failed, fmt.Sprintf("checkout on %s: %v", e.name, err))
			f.mu.Unlock()
		}
		return
	}
	if res.Outcome == seats.Granted {
		f.mu.Lock()
		f.answered[res.Lease.ID] = e.name
		f.leases = append(f.leases, res.Lease.ID)
		f.mu.Unlock()
	}
}

// checkin gives lease back through engine i, which may not know it.
func (f *fenceRun) checkin(i int, lease string) {
	e := f.engines[i]
	if e.l == nil {
		return
	}
	ctx, cancel := f.ctx()
	defer cancel()
	if err := e.l.Checkin(ctx, lease); err == nil {
		f.mu.Lock()
		f.checkedIn[lease] = true
		f.mu.Unlock()
	}
}

func (f *fenceRun) drawLease(rt *rapid.T) (string, bool) {
	f.mu.Lock()
	leases := slices.Clone(f.leases)
	f.mu.Unlock()
	if len(leases) == 0 {
		return "", false
	}
	return rapid.SampledFrom(leases).Draw(rt, "lease"), true
}

// rawEvent is one message of the stream as stored.
type rawEvent struct {
	seq uint64
	events.Event
}

// raw reads every message of the stream, as stored, strays included.
func (f *fenceRun) raw(ctx context.Context) []rawEvent {
	nc, err := f.ns.Connect()
	if err != nil {
		f.t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		f.t.Fatal(err)
	}
	st, err := js.Stream(ctx, f.stream)
	if err != nil {
		f.t.Fatal(err)
	}
	var out []rawEvent
	for seq := uint64(1); seq <= st.CachedInfo().State.LastSeq; seq++ {
		m, err := st.GetMsg(ctx, seq)
		if err != nil {
			f.t.Fatalf("message %d: %v", seq, err)
		}
		ev := rawEvent{seq: seq}
		if err := json.Unmarshal(m.Data, &ev.Event); err != nil {
			f.t.Fatalf("message %d: %v", seq, err)
		}
		out = append(out, ev)
	}
	return out
}

// check reads the stream with the read rule and checks the property.
func (f *fenceRun) check() {
	ctx, cancel := f.ctx()
	defer cancel()
	// The engines stop first: nothing is appended while the stream is
	// read.
	for i, e := range f.engines {
		e.close()
		f.engines[i] = nil
	}
	if len(f.failed) > 0 {
		f.t.Fatalf("unexpected errors: %v", f.failed)
	}
	raw := f.raw(ctx)

	// The read rule, written out again here rather than borrowed.
	var counted []rawEvent
	var term, idx uint64
	known := false
	ids := map[string]uint64{}
	writerOf := map[uint64]string{} // term -> the one writer whose events count in it
	for _, ev := range raw {
		if prev, dup := ids[ev.ID]; dup {
			f.t.Fatalf("event %s stored twice, at %d and %d", ev.ID, prev, ev.seq)
		}
		ids[ev.ID] = ev.seq
		if ev.Kind == events.SealKind {
			continue
		}
		if ev.Term == 0 {
			f.t.Fatalf("event at %d has no term: %+v", ev.seq, ev.Event)
		}
		counts := !known || (ev.Idx == 0 && ev.Term > term) || (ev.Term == term && ev.Idx == idx+1)
		if !counts {
			continue // a deposed writer's stray append
		}
		if !known && ev.Idx != 0 {
			f.t.Fatalf("the stream's first event, at %d, is idx %d of term %d", ev.seq, ev.Idx, ev.Term)
		}
		if ev.Idx == 0 && ev.Kind != events.TermKind {
			f.t.Fatalf("term %d opens at %d with a %s event", ev.Term, ev.seq, ev.Kind)
		}
		if w, ok := writerOf[ev.Term]; ok && w != ev.Gateway {
			f.t.Fatalf("term %d has counted events of two writers, %s and %s (at %d)", ev.Term, w, ev.Gateway, ev.seq)
		}
		writerOf[ev.Term] = ev.Gateway
		term, idx, known = ev.Term, ev.Idx, true
		counted = append(counted, ev)
	}

	// The seat model: the counted history, one event at a time.
	seatsOf := map[string]int{}
	for _, ft := range f.cfg.Features {
		seatsOf[ft.Name] = ft.Seats
	}
	inUse := map[string]int{}
	live := map[string]events.Event{} // lease -> its checkout
	grantedIn, endedIn := map[string]bool{}, map[string]bool{}
	var accounting []string // ids of counted events Replay must hand over
	for _, ev := range counted {
		switch ev.Kind {
		case events.Checkout:
			if _, dup := live[ev.Lease]; dup || grantedIn[ev.Lease] || ev.Lease == "" {
				f.t.Fatalf("lease %q granted twice (at %d)", ev.Lease, ev.seq)
			}
			grantedIn[ev.Lease] = true
			live[ev.Lease] = ev.Event
			inUse[ev.Feature] += ev.Count
		case events.Checkin, events.Expired, events.Removed:
			start, ok := live[ev.Lease]
			if !ok {
				f.t.Fatalf("%s at %d of lease %s, which is not live", ev.Kind, ev.seq, ev.Lease)
			}
			delete(live, ev.Lease)
			endedIn[ev.Lease] = true
			inUse[ev.Feature] -= start.Count
		}
		switch ev.Kind {
		case events.Checkout, events.Checkin, events.Expired, events.Removed:
			if ev.InUse != inUse[ev.Feature] || ev.Seats != seatsOf[ev.Feature] {
				f.t.Fatalf("%s at %d: in_use %d seats %d, the history says %d of %d", ev.Kind, ev.seq, ev.InUse, ev.Seats, inUse[ev.Feature], seatsOf[ev.Feature])
			}
			if ev.InUse > ev.Seats {
				f.t.Fatalf("%s at %d: in_use %d > seats %d", ev.Kind, ev.seq, ev.InUse, ev.Seats)
			}
		}
		if ev.Kind != events.TermKind {
			accounting = append(accounting, ev.ID)
		}
	}

	// Every answer a client got is in the history.
	for lease, writer := range f.answered {
		if !grantedIn[lease] {
			f.t.Fatalf("lease %s was answered by %s but the history does not hold its grant", lease, writer)
		}
	}
	for lease := range f.checkedIn {
		if !endedIn[lease] {
			f.t.Fatalf("the checkin of %s was answered but the history does not hold it", lease)
		}
	}

	// The gateway's own reader agrees, and a new leader rebuilds the
	// model's leases.
	f.term++
	name := fmt.Sprintf("reader-term-%d", f.term)
	nc, err := f.ns.Connect(nats.Name(name))
	if err != nil {
		f.t.Fatal(err)
	}
	e := &fenceEngine{name: name, nc: nc}
	defer e.close()
	e.j, err = journal.Open(ctx, journal.Config{Conn: nc, Gateway: name, Stream: f.stream, Prefix: f.prefix, Term: f.term})
	if err != nil {
		f.t.Fatal(err)
	}
	var replayed []string
	if _, err := e.j.Replay(ctx, 0, func(_ uint64, ev events.Event) error {
		replayed = append(replayed, ev.ID)
		return nil
	}); err != nil {
		f.t.Fatalf("replay: %v", err)
	}
	if !slices.Equal(replayed, accounting) {
		f.t.Fatalf("Replay counts %d events, the read rule %d:\n%v\n%v", len(replayed), len(accounting), replayed, accounting)
	}
	if e.l, err = ledger.Open(ctx, ledger.Options{Config: f.cfg, Journal: e.j}); err != nil {
		f.t.Fatal(err)
	}
	for lease := range live {
		if _, ok := e.l.Lease(lease); !ok {
			f.t.Fatalf("lease %s is live in the history, not in a ledger rebuilt from it", lease)
		}
	}
	if n, _ := e.l.Counts(); n != len(live) {
		f.t.Fatalf("a ledger rebuilt from the history holds %d leases, the history %d", n, len(live))
	}
}
