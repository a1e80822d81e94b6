package seats_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/licensegw/licensegw/gateway/events"
	"github.com/licensegw/licensegw/gateway/seats"
	"github.com/licensegw/licensegw/sdk"
	"github.com/licensegw/licensegw/sdk/sdktest"
	"pgregory.net/rapid"
)

// TestFakeMatchesEngine runs the same random operations through
// sdktest.Seats, the in-memory Seats every plugin unit test runs against,
// and through the engine, ticked before each call as the ledger does. For
// what the fake models (seats, versions, counts, borrowing, queues and
// their limits, TTLs, heartbeats, request keys, expiry) both must give the
// same outcomes, denial and GONE reasons, grant the same pools and counts
// with the same expiries, and end the same tickets the same way; otherwise
// a plugin test passing against the fake would say nothing about the
// gateway.
func TestFakeMatchesEngine(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		d := newDiff(t)
		for range 30 + rapid.IntRange(0, 90).Draw(t, "steps") {
			d.step(t)
			d.compare(t)
		}
	})
}

var diffT0 = time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC)

// diff drives both implementations and pairs their identifiers.
type diff struct {
	now    time.Time
	fake   *sdktest.Seats
	eng    *seats.Engine
	leases map[string]string // live: engine lease -> fake lease
	pairs  map[string]string // every engine lease ever paired -> fake lease
	tix    map[string]string // engine ticket -> fake ticket
	fakeT  map[string]<-chan sdk.TicketUpdate
	// How each ticket ended, as each side tells it: "lease:<engine id>"
	// or "denied:<reason>" (fake grants are translated to engine ids).
	engEnd, fakeEnd map[string]string // by engine ticket
	ended           []string          // engine leases that ended, for heartbeats of gone leases
}

func newDiff(t *rapid.T) *diff {
	var ff []sdktest.Feature
	var ef []seats.Feature
	add := func(vendor, name, version string) {
		f := sdktest.Feature{
			Vendor: vendor, Name: name, Version: version,
			Seats:    rapid.IntRange(0, 3).Draw(t, "seats"),
			Queue:    rapid.IntRange(0, 3).Draw(t, "queue") > 0,
			QueueMax: rapid.IntRange(0, 2).Draw(t, "queuemax"),
			TTL:      time.Duration(rapid.IntRange(1, 3).Draw(t, "ttl")) * time.Minute,
			Borrow:   rapid.Bool().Draw(t, "borrow"),
		}
		if f.Borrow && rapid.Bool().Draw(t, "hasmaxborrow") {
			f.MaxBorrow = time.Duration(rapid.IntRange(60, 900).Draw(t, "maxborrow")) * time.Second
		}
		ff = append(ff, f)
		ef = append(ef, seats.Feature{
			Vendor: vendor, Name: name, Version: version, Seats: f.Seats, LeaseTTL: f.TTL,
			Queue: f.Queue, MaxQueue: f.QueueMax, Borrow: f.Borrow, MaxBorrow: f.MaxBorrow,
		})
	}
	add("acme", "cad", "1.0")
	if rapid.Bool().Draw(t, "cad2") {
		add("acme", "cad", "2.0")
	}
	if rapid.Bool().Draw(t, "zetacad") {
		add("zeta", "cad", "1.5")
	}
	add("zeta", "sim", "3")
	eng, err := seats.New(seats.Config{Features: ef}, seats.Options{})
	if err != nil {
		t.Fatal(err)
	}
	d := &diff{
		now: diffT0, eng: eng,
		leases: map[string]string{}, pairs: map[string]string{"nope": "nope"}, tix: map[string]string{}, fakeT: map[string]<-chan sdk.TicketUpdate{},
		engEnd: map[string]string{}, fakeEnd: map[string]string{},
	}
	d.fake = sdktest.NewSeats(ff...).WithClock(func() time.Time { return d.now })
	return d
}

// tick runs the engine's due work, as the ledger does before each call.
func (d *diff) tick(t *rapid.T) {
	d.observe(t, d.eng.Tick(d.now, nil))
}

// observe notes how the engine's events end tickets and leases.
func (d *diff) observe(t *rapid.T, evs []events.Event) {
	for _, ev := range evs {
		switch ev.Kind {
		case events.Checkout:
			if ev.Ticket != "" {
				d.engEnd[ev.Ticket] = "lease:" + ev.Lease
			}
		case events.Dequeued:
			d.engEnd[ev.Ticket] = "denied:" + ev.Reason
		case events.Checkin, events.Expired, events.Removed, events.Returned:
			d.ended = append(d.ended, ev.Lease)
		}
	}
}

func (d *diff) step(t *rapid.T) {
	ctx := context.Background()
	switch rapid.SampledFrom([]string{"checkout", "checkout", "checkout", "heartbeat", "checkin", "remove", "cancel", "advance", "deadline"}).Draw(t, "op") {
	case "checkout":
		d.checkout(t, ctx)
	case "heartbeat":
		id := d.pickLease(t)
		d.tick(t)
		l, err := d.eng.Heartbeat(d.now, id)
		st, ferr := d.fake.Heartbeat(ctx, d.pairs[id])
		sameGone(t, "heartbeat", err, ferr)
		if err == nil && !l.Expires.Equal(st.Expires) {
			t.Fatalf("heartbeat of %s: engine expires %s, fake %s", id, l.Expires, st.Expires)
		}
	case "checkin":
		id := d.pickLease(t)
		d.tick(t)
		evs, err := d.eng.Checkin(d.now, id, nil)
		d.observe(t, evs)
		sameGone(t, "checkin", err, d.fake.Checkin(ctx, d.pairs[id]))
	case "remove":
		id := d.pickLease(t)
		d.tick(t)
		evs, err := d.eng.Remove(d.now, id, nil)
		d.observe(t, evs)
		sameGone(t, "remove", err, d.fake.Remove(ctx, d.pairs[id], sdk.Client{Addr: "test"}))
	case "cancel":
		ids := slices.Sorted(maps.Keys(d.tix))
		if len(ids) == 0 {
			return
		}
		id := rapid.SampledFrom(ids).Draw(t, "ticket")
		d.tick(t)
		evs, err := d.eng.Cancel(d.now, id, seats.Cancelled, nil)
		d.observe(t, evs)
		if ferr := d.fake.Cancel(ctx, d.tix[id]); (err == nil) != (ferr == nil) {
			t.Fatalf("cancel %s: engine %v, fake %v", id, err, ferr)
		}
	case "advance":
		d.now = d.now.Add(time.Duration(rapid.IntRange(0, 240).Draw(t, "advance")) * time.Second)
	case "deadline":
		if next := d.eng.NextDeadline(); next.After(d.now) {
			d.now = next
		}
	}
}

// pickLease returns a live lease, one that ended, or one that never was.
func (d *diff) pickLease(t *rapid.T) string {
	live := slices.Sorted(maps.Keys(d.leases))
	switch {
	case len(live) > 0 && rapid.IntRange(0, 3).Draw(t, "live") > 0:
		return rapid.SampledFrom(live).Draw(t, "lease")
	case len(d.ended) > 0 && rapid.Bool().Draw(t, "ended"):
		return rapid.SampledFrom(d.ended).Draw(t, "lease")
	}
	return "nope"
}

func (d *diff) checkout(t *rapid.T, ctx context.Context) {
	r := sdk.CheckoutRequest{
		Feature: rapid.SampledFrom([]string{"cad", "cad", "cad", "sim", "none"}).Draw(t, "feature"),
		Vendor:  rapid.SampledFrom([]string{"", "", "", "acme", "zeta"}).Draw(t, "vendor"),
		Version: rapid.SampledFrom([]string{"", "", "", "1.0", "1.5", "2.0", "3"}).Draw(t, "version"),
		Count:   rapid.IntRange(0, 4).Draw(t, "count"),
		Client:  sdk.Client{User: rapid.SampledFrom([]string{"ann", "bob"}).Draw(t, "user"), Host: "ws"},
	}
	if rapid.Bool().Draw(t, "waits") {
		r.Wait = time.Duration(rapid.IntRange(1, 300).Draw(t, "wait")) * time.Second
	}
	if rapid.IntRange(0, 4).Draw(t, "borrows") == 0 {
		r.Borrow = time.Duration(rapid.IntRange(1, 1200).Draw(t, "borrow")) * time.Second
	}
	if rapid.IntRange(0, 3).Draw(t, "keyed") == 0 {
		r.RequestKey = rapid.SampledFrom([]string{"k1", "k2"}).Draw(t, "key")
	}
	d.tick(t)
	res, evs := d.eng.Checkout(d.now, seats.CheckoutRequest{
		Vendor: r.Vendor, Feature: r.Feature, Version: r.Version, Count: r.Count,
		Client: seats.Client{User: r.Client.User, Host: r.Client.Host},
		Wait:   r.Wait, Borrow: r.Borrow, Key: r.RequestKey,
	}, nil)
	d.observe(t, evs)
	got, err := d.fake.Checkout(ctx, r)
	if err != nil {
		t.Fatalf("fake checkout %+v: %v", r, err)
	}
	switch res.Outcome {
	case seats.Granted:
		g := got.Grant
		if got.Outcome != sdk.Granted {
			t.Fatalf("checkout %+v: engine granted %+v, fake %s", r, res.Lease, describe(got))
		}
		l := res.Lease
		if l.Pool.Vendor != g.Vendor || l.Pool.Name != g.Feature || l.Pool.Version != g.Version || l.Count != g.Count ||
			l.Borrowed != g.Borrowed || !l.Expires.Equal(g.Expires) {
			t.Fatalf("checkout %+v: engine granted %+v, fake %+v", r, l, g)
		}
		if prev, ok := d.leases[l.ID]; ok && prev != g.Lease {
			t.Fatalf("retransmission of %s: engine answers %s (fake %s), fake answers %s", r.RequestKey, l.ID, prev, g.Lease)
		}
		d.leases[l.ID] = g.Lease
		d.pairs[l.ID] = g.Lease
	case seats.Queued:
		if got.Outcome != sdk.Queued || got.Position != res.Position {
			t.Fatalf("checkout %+v: engine queued at %d, fake %s", r, res.Position, describe(got))
		}
		d.tix[res.Ticket] = got.Ticket
		d.fakeT[res.Ticket] = got.Updates
	case seats.Denied:
		if got.Outcome != sdk.Denied || got.Denial.Reason != string(res.Reason) {
			t.Fatalf("checkout %+v: engine denied %s (%s), fake %s", r, res.Reason, res.Message, describe(got))
		}
	}
}

func describe(c *sdk.Checkout) string {
	switch c.Outcome {
	case sdk.Granted:
		return fmt.Sprintf("granted %+v", *c.Grant)
	case sdk.Queued:
		return fmt.Sprintf("queued at %d", c.Position)
	}
	return fmt.Sprintf("denied %s (%s)", c.Denial.Reason, c.Denial.Message)
}

// sameGone requires both errors nil, or both GONE with the same reason.
func sameGone(t *rapid.T, op string, err, ferr error) {
	var eg *seats.GoneError
	var fg *sdk.GoneError
	switch {
	case err == nil && ferr == nil:
	case errors.As(err, &eg) && errors.As(ferr, &fg):
		if string(eg.Reason) != fg.Reason {
			t.Fatalf("%s: engine gone %s, fake gone %s", op, eg.Reason, fg.Reason)
		}
	default:
		t.Fatalf("%s: engine %v, fake %v", op, err, ferr)
	}
}

// compare brings both up to date and compares tickets, leases and counts.
func (d *diff) compare(t *rapid.T) {
	d.fake.Expire()
	d.tick(t)
	fakeToEng := map[string]string{}
	for e, f := range d.leases {
		fakeToEng[f] = e
	}
	// Tickets that ended: the fake's final update against the engine's
	// events. A fake grant names a fake lease: pair it with the engine's.
	for e, ch := range d.fakeT {
		for done := false; !done; {
			select {
			case u, ok := <-ch:
				switch {
				case !ok:
					delete(d.fakeT, e)
					done = true
				case u.Grant != nil:
					d.fakeEnd[e] = "lease:" + u.Grant.Lease
				case u.Denial != nil:
					d.fakeEnd[e] = "denied:" + u.Denial.Reason
				}
			default:
				done = true
			}
		}
	}
	for e := range d.tix {
		eEnd, fEnd := d.engEnd[e], d.fakeEnd[e]
		if fl, ok := strings.CutPrefix(fEnd, "lease:"); ok {
			if el, ok := strings.CutPrefix(eEnd, "lease:"); ok {
				d.leases[el], d.pairs[el] = fl, fl
				fakeToEng[fl] = el
				fEnd = eEnd
			}
		}
		if eEnd != fEnd {
			t.Fatalf("ticket %s: engine %q, fake %q", e, eEnd, fEnd)
		}
		if eEnd != "" {
			delete(d.tix, e)
		}
	}
	// Live leases and counts, pool by pool.
	fs, err := d.fake.Status(context.Background(), sdk.StatusQuery{})
	if err != nil {
		t.Fatal(err)
	}
	fake := map[seats.PoolKey]sdk.FeatureStatus{}
	for _, f := range fs {
		fake[seats.PoolKey{Vendor: f.Vendor, Name: f.Feature, Version: f.Version}] = f
	}
	live := map[string]bool{}
	for _, st := range d.eng.Status() {
		key := st.Feature.Vendor + "/" + st.Feature.Name + "/" + st.Feature.Version
		f := fake[seats.PoolKey{Vendor: st.Feature.Vendor, Name: st.Feature.Name, Version: st.Feature.Version}]
		if st.InUse != f.InUse || len(st.Tickets) != f.Queued || len(st.Leases) != len(f.Leases) {
			t.Fatalf("%s: engine in use %d, %d tickets, %d leases; fake %d, %d, %d", key, st.InUse, len(st.Tickets), len(st.Leases), f.InUse, f.Queued, len(f.Leases))
		}
		for _, fl := range f.Leases {
			el, ok := fakeToEng[fl.Lease]
			l, live2 := d.eng.Lease(el)
			if !ok || !live2 || l.Count != fl.Count || !l.Expires.Equal(fl.Expires) {
				t.Fatalf("%s: fake lease %+v, engine %q %+v", key, fl, el, l)
			}
			live[el] = true
		}
	}
	for e := range d.leases {
		if !live[e] {
			delete(d.leases, e)
		}
	}
}
