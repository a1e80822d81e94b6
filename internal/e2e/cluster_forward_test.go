package e2e

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/licensegw/licensegw/gateway/events"
	"github.com/licensegw/licensegw/internal/e2etest"
)

// TestClusterFollowersServe runs three gateways as one cluster and talks
// CLM/1 to a follower's port: the follower forwards to the leader, so a
// client there gets a grant, heartbeats and checks in; the follower's
// status shows the leader's leases. Then the leader is killed: the lease
// taken through the follower (bound to its connection) survives and its
// heartbeats reach the new leader, while the lease bound to a connection
// of the dead leader is checked in with reason disconnect. The stream,
// read with the read rule, never shows more seats in use than exist.
func TestClusterFollowersServe(t *testing.T) {
	const seats = 3
	c := e2etest.StartCluster(t, e2etest.Options{
		Bins: bins, StartTimeout: startTimeout,
		Config: fmt.Sprintf("feature \"cad\" {\n  seats = %d\n  lease_ttl = \"120s\"\n}\n\n", seats) + e2etest.ConcurrentLMPlugin(""),
	}, 3)
	leader := c.WaitLeader(startTimeout, -1)
	fi := (leader + 1) % len(c.Nodes)
	follower, lead := c.Nodes[fi], c.Nodes[leader]
	e2etest.Eventually(t, startTimeout, "the follower ready", func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return follower.Admin().Ready(ctx)
	})
	node := func(g *e2etest.Gateway) *Gateway {
		return &Gateway{Gateway: g, t: t, CLMAddr: g.Addr(e2etest.CLMAddr)}
	}
	fname, lname := follower.Status().Cluster.Node, lead.Status().Cluster.Node

	// Through the follower: a bound lease kept, another taken and given back.
	fc := node(follower).Dial()
	r := fc.Do("CHECKOUT feature=cad user=ann host=ws1 bind=conn")
	expect(t, r, "GRANTED", "feature", "cad")
	kept := r.Get("lease")
	expect(t, fc.Do("HEARTBEAT lease="+kept), "OK", "lease", kept)
	other := fc.checkout("cad", "bob", "ws2")
	expect(t, fc.Do("CHECKIN lease="+other), "OK", "lease", other)

	// Any node's status shows the leader's state, and who leads.
	for _, g := range []*e2etest.Gateway{follower, lead} {
		st := g.Status()
		if st.Cluster == nil || st.Cluster.Leader != lname || st.Cluster.Unavailable != "" {
			t.Fatalf("%s: cluster status %+v, want leader %s and available", st.Gateway, st.Cluster, lname)
		}
		f := g.Feature("cad")
		if f.InUse != 1 || len(f.Leases) != 1 || f.Leases[0].ID != kept || !f.Leases[0].Bound || f.Leases[0].Node != fname {
			t.Fatalf("%s: cad %d in use, leases %+v; want only %s, bound to a connection on %s", st.Gateway, f.InUse, f.Leases, kept, fname)
		}
	}

	// On the leader: a lease bound to one of its connections.
	lc := node(lead).Dial()
	r = lc.Do("CHECKOUT feature=cad user=cy host=ws3 bind=conn")
	expect(t, r, "GRANTED", "feature", "cad")
	doomed := r.Get("lease")

	lead.Kill()
	killed := time.Now()
	next := c.WaitLeader(startTimeout, leader)
	t.Logf("leader %s killed: gw-%d leads after %v", lname, next+1, time.Since(killed).Round(time.Millisecond))

	// The follower's connection never closed: its bound lease lives on,
	// and its heartbeats reach the new leader.
	e2etest.Eventually(t, startTimeout, "a heartbeat through the follower after the failover", func() error {
		r, err := fc.do("HEARTBEAT lease=" + kept)
		switch {
		case err != nil:
			t.Fatalf("heartbeat: %v", err)
		case r.Verb == "GONE":
			t.Fatalf("the lease bound to the follower's connection is gone after the leader died: %q", r.Line)
		case r.Verb != "OK":
			return errors.New(r.Line) // ERR code=unavailable while none leads
		}
		return nil
	})
	// The dead leader's connections died with it.
	c.Nodes[next].WaitEvent(startTimeout, "the dead leader's bound lease checked in", func(e e2etest.Event) bool {
		return e.Kind == events.Checkin && e.Lease == doomed && e.Reason == "disconnect"
	})
	expect(t, fc.Do("CHECKIN lease="+kept), "OK", "lease", kept)

	evs := c.Nodes[next].Journal() // with seals: they take an idx the read rule counts
	checkClusterStream(t, evs, map[string]time.Time{kept: {}, other: {}, doomed: {}}, seats)
	for _, e := range evs {
		if e.Kind == events.Checkout && e.Lease == kept && (e.ConnNode != fname || e.Node != lname) {
			t.Errorf("checkout of %s through %s: node %q conn_node %q, want %s and %s", kept, fname, e.Node, e.ConnNode, lname, fname)
		}
		if e.Lease == kept && e.Kind == events.Checkin && e.Reason != "" {
			t.Errorf("lease %s held through the failover ended %q, want a plain checkin", kept, e.Reason)
		}
	}
}
