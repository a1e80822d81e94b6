package seats

import (
	"fmt"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/licensegw/licensegw/gateway/events"
)

// onNode is alice's client on a cluster node.
func onNode(node string) Client {
	c := alice()
	c.Node, c.Addr = node, node+":40000"
	return c
}

// TestKeyedCheckoutRebindsABoundLease: a client whose connection (on node
// n1) is gone asks its bound checkout again, under the same key, through
// node n2: it gets the same lease, now bound to n2, so n1's departure no
// longer releases it and n2's does. The binding survives a snapshot. An
// unbound ask of a bound lease, and any ask of an unbound lease, leave the
// lease as it is.
func TestKeyedCheckoutRebindsABoundLease(t *testing.T) {
	cfg := Config{Features: []Feature{{Name: "cad", Version: "1", Seats: 3}}}
	e := newEngine(t, cfg)
	first := req("cad", onNode("n1"))
	first.Key, first.Bound = "flexlm/k1", true
	l := mustGrant(t, e, at(0), first)

	again := req("cad", onNode("n2"))
	again.Key, again.Bound = "flexlm/k1", true
	res, evs := e.Checkout(at(time.Second), again, nil)
	if res.Outcome != Granted || res.Lease.ID != l.ID || len(evs) != 0 {
		t.Fatalf("keyed ask through n2: %+v, events %v; want lease %s and no event", res, kinds(evs), l.ID)
	}
	if res.Lease.Client.Node != "n2" || res.Lease.Client.Addr != "n1:40000" {
		t.Fatalf("lease bound to %q (address %s) after the ask through n2, want n2 (address unchanged)", res.Lease.Client.Node, res.Lease.Client.Addr)
	}
	onN := func(node string) func(Lease) bool { return func(l Lease) bool { return l.Client.Node == node } }
	if evs := e.ReleaseBoundWhere(at(2*time.Second), onN("n1"), nil); len(evs) != 0 {
		t.Fatalf("n1's departure released %v; the lease is bound to n2 now", kinds(evs))
	}
	restored := newEngine(t, cfg)
	if err := restored.Restore(e.State()); err != nil {
		t.Fatal(err)
	}
	for name, x := range map[string]*Engine{"live": e, "restored": restored} {
		evs := x.ReleaseBoundWhere(at(3*time.Second), onN("n2"), nil)
		if len(evs) != 1 || evs[0].Kind != events.Checkin || evs[0].Lease != l.ID || evs[0].Reason != string(Disconnected) {
			t.Fatalf("%s engine: n2's departure: %+v, want the lease checked in (disconnect)", name, evs)
		}
	}

	// An unbound ask does not move a bound lease.
	e = newEngine(t, cfg)
	l = mustGrant(t, e, at(0), first)
	loose := again
	loose.Bound = false
	if res, _ := e.Checkout(at(time.Second), loose, nil); res.Lease.ID != l.ID || res.Lease.Client.Node != "n1" {
		t.Fatalf("unbound ask: %+v, want lease %s still on n1", res.Lease, l.ID)
	}
	// A bound ask does not bind an unbound lease.
	e = newEngine(t, cfg)
	plain := first
	plain.Bound = false
	l = mustGrant(t, e, at(0), plain)
	if res, _ := e.Checkout(at(time.Second), again, nil); res.Lease.ID != l.ID || res.Lease.Bound || res.Lease.Client.Node != "n1" {
		t.Fatalf("bound ask of an unbound lease: %+v", res.Lease)
	}
}

// TestRebindProperty: random keyed checkouts (bound or not) through three
// nodes, checkins and node departures. A model says which leases live and
// where each bound one is held: a bound lease follows the node of the last
// bound ask of its key, a departure releases exactly the bound leases held
// on that node, a key always answers with its live lease, and the seats in
// use are the live leases'.
func TestRebindProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		const seats = 4
		e, err := New(Config{Features: []Feature{{Name: "cad", Version: "1", Seats: seats}}}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		type held struct {
			id, node string
			bound    bool
		}
		live := map[string]*held{} // by key
		now := at(0)
		nodes := []string{"n1", "n2", "n3"}
		for step := range rapid.IntRange(1, 60).Draw(t, "steps") {
			now = now.Add(time.Second)
			key := fmt.Sprintf("k%d", rapid.IntRange(0, 5).Draw(t, "key"))
			node := rapid.SampledFrom(nodes).Draw(t, "node")
			switch rapid.IntRange(0, 2).Draw(t, "op") {
			case 0: // a keyed checkout through node
				r := req("cad", onNode(node))
				r.Key, r.Bound = key, rapid.Bool().Draw(t, "bound")
				res, _ := e.Checkout(now, r, nil)
				if h, ok := live[key]; ok {
					if res.Outcome != Granted || res.Lease.ID != h.id {
						t.Fatalf("step %d: key %s answered %+v, want its lease %s", step, key, res, h.id)
					}
					if h.bound && r.Bound {
						h.node = node
					}
				} else if res.Outcome == Granted {
					live[key] = &held{id: res.Lease.ID, node: node, bound: r.Bound}
				} else if len(live) < seats {
					t.Fatalf("step %d: denied %+v with %d of %d seats held", step, res, len(live), seats)
				}
			case 1: // a checkin of the key's lease
				if h, ok := live[key]; ok {
					if _, err := e.Checkin(now, h.id, nil); err != nil {
						t.Fatalf("step %d: checkin %s: %v", step, h.id, err)
					}
					delete(live, key)
				}
			case 2: // node leaves the cluster
				evs := e.ReleaseBoundWhere(now, func(l Lease) bool { return l.Client.Node == node }, nil)
				gone := map[string]bool{}
				for _, ev := range evs {
					gone[ev.Lease] = true
				}
				for k, h := range live {
					if want := h.bound && h.node == node; want != gone[h.id] {
						t.Fatalf("step %d: %s left: lease %s (bound %v, held on %s) released %v", step, node, h.id, h.bound, h.node, gone[h.id])
					}
					if gone[h.id] {
						delete(live, k)
					}
				}
			}
			if n, _ := e.Counts(); n != len(live) {
				t.Fatalf("step %d: engine holds %d leases, model %d", step, n, len(live))
			}
			for _, l := range e.State().Leases {
				if l.Bound && live[l.Key] != nil && l.Client.Node != live[l.Key].node {
					t.Fatalf("step %d: lease %s bound on %s, model says %s", step, l.ID, l.Client.Node, live[l.Key].node)
				}
			}
		}
	})
}
