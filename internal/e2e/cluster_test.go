package e2e

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/licensegw/licensegw/gateway/events"
	"github.com/licensegw/licensegw/internal/e2etest"
	"github.com/licensegw/licensegw/plugins/concurrentlm/client"
)

// TestClusterLeaderKilled runs three gateways as one cluster, with load
// from real concurrent-lm clients that list all three nodes, and kills
// the leader with SIGKILL. Another node leads and serves the same leases;
// the stream, read with the read rule, holds every grant a client was
// answered, never more seats in use than exist, and no event twice.
func TestClusterLeaderKilled(t *testing.T) {
	// Enough seats that the leases kept (one per client) and those whose
	// grant was journaled but never answered (one per client at most, at
	// the kill) leave room for the load to go on.
	const seats = 12
	lc := startLoadedCluster(t, seats)
	c, load := lc.Cluster, lc.Load
	leader := c.WaitLeader(startTimeout, -1)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	held := make([]*client.Lease, 3)
	for w := range 3 {
		cl := lc.dial(ctx, t)
		wg.Go(func() { held[w] = load.run(ctx, cl, fmt.Sprintf("user%d", w), stop) })
	}

	load.waitGrants(ctx, t, 15)
	c.Nodes[leader].Kill() // returns once the process is gone
	killed := time.Now()
	next := c.WaitLeader(startTimeout, leader)
	elected := time.Since(killed)
	load.waitGrantsAfter(ctx, t, killed, 15)
	close(stop)
	wg.Wait()
	first := load.firstAfter(killed)
	t.Logf("leader gw-%d killed: gw-%d ready after %v, first grant answered after %v; %d grants, %d denials, %d failed requests",
		leader+1, next+1, elected.Round(time.Millisecond), first.Round(time.Millisecond), len(load.granted), load.denied, load.failed)

	// A lease held across the failover is still held: its heartbeats
	// reach the new leader, which rebuilt it from the stream.
	for w, l := range held {
		if l == nil {
			t.Errorf("client %d never held a lease", w)
			continue
		}
		if err := l.Err(); err != nil {
			t.Errorf("lease %s held across the failover: %v", l.ID, err)
		}
	}

	checkClusterStream(t, c.Nodes[next].Journal(), load.granted, seats)
}

// clusterLoad records what the clients were answered.
type clusterLoad struct {
	mu      sync.Mutex
	granted map[string]time.Time // lease -> when the client was answered
	denied  int
	failed  int
	grant   chan struct{} // a send per grant
}

func newClusterLoad() *clusterLoad {
	return &clusterLoad{granted: map[string]time.Time{}, grant: make(chan struct{}, 1)}
}

// record counts a checkout's answer: the grant with when it was
// answered, or a denial, or a failure.
func (l *clusterLoad) record(lease *client.Lease, err error) {
	var denied *client.DeniedError
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case err == nil:
		l.granted[lease.ID] = time.Now()
	case errors.As(err, &denied):
		l.denied++
	default:
		l.failed++
	}
}

// run checks out and in until stop, keeping its first lease; it returns
// that lease.
func (l *clusterLoad) run(ctx context.Context, cl *client.Client, user string, stop <-chan struct{}) *client.Lease {
	var kept *client.Lease
	for {
		select {
		case <-stop:
			return kept
		case <-ctx.Done():
			return kept
		default:
		}
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		lease, err := cl.Checkout(rctx, client.CheckoutOptions{Feature: "cad", User: user, Host: "ws-" + user})
		cancel()
		l.record(lease, err)
		if err != nil {
			time.Sleep(20 * time.Millisecond)
			continue
		}
		select {
		case l.grant <- struct{}{}:
		default:
		}
		if kept == nil {
			kept = lease
			continue
		}
		l.checkin(ctx, lease)
	}
}

// checkin gives lease back, again until answered: a checkin lost with the
// leader would keep its seat until the TTL. GONE (an earlier attempt was
// journaled: the lease no longer exists) is done too.
func (l *clusterLoad) checkin(ctx context.Context, lease *client.Lease) {
	for ctx.Err() == nil {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := lease.Checkin(cctx)
		cancel()
		var gone *client.GoneError
		if err == nil || errors.As(err, &gone) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (l *clusterLoad) count(after time.Time) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, at := range l.granted {
		if at.After(after) {
			n++
		}
	}
	return n
}

func (l *clusterLoad) waitGrants(ctx context.Context, t *testing.T, n int) {
	t.Helper()
	l.waitGrantsAfter(ctx, t, time.Time{}, n)
}

func (l *clusterLoad) waitGrantsAfter(ctx context.Context, t *testing.T, after time.Time, n int) {
	t.Helper()
	for l.count(after) < n {
		select {
		case <-l.grant:
		case <-time.After(100 * time.Millisecond):
		case <-ctx.Done():
			t.Fatalf("%d grants after %v, waiting for %d", l.count(after), after, n)
		}
	}
}

// firstAfter is how long after t the first grant was answered.
func (l *clusterLoad) firstAfter(t time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	var first time.Duration
	for _, at := range l.granted {
		if d := at.Sub(t); d > 0 && (first == 0 || d < first) {
			first = d
		}
	}
	return first
}

// checkClusterStream applies the read rule to the stream and checks it
// against what clients were answered.
func checkClusterStream(t *testing.T, evs []e2etest.Event, granted map[string]time.Time, seats int) {
	t.Helper()
	var term, idx uint64
	known := false
	seen := map[string]uint64{}
	checkedOut := map[string]bool{}
	terms := 0
	for _, e := range evs {
		if prev, dup := seen[e.ID]; dup {
			t.Errorf("event %s stored twice, at %d and %d", e.ID, prev, e.Seq)
		}
		seen[e.ID] = e.Seq
		counts := !known || (e.Idx == 0 && e.Term > term) || (e.Term == term && e.Idx == idx+1)
		if !counts {
			continue // a deposed writer's stray append
		}
		term, idx, known = e.Term, e.Idx, true
		switch e.Kind {
		case events.TermKind:
			terms++
		case events.Checkout:
			checkedOut[e.Lease] = true
			if e.InUse > e.Seats || e.InUse > seats {
				t.Errorf("checkout at %d: in_use %d > seats %d", e.Seq, e.InUse, e.Seats)
			}
		}
	}
	if terms < 2 {
		t.Errorf("%d terms in the stream, want one per leader (2)", terms)
	}
	var first uint64 // the earliest event of a grant not counted
	for lease, at := range granted {
		if !checkedOut[lease] {
			t.Errorf("lease %s was granted to a client at %s but is not in the stream under the read rule; %s",
				lease, at.UTC().Format("15:04:05.000"), whereIs(evs, lease))
			for _, e := range evs {
				if e.Lease == lease && (first == 0 || e.Seq < first) {
					first = e.Seq
				}
			}
		}
	}
	if first > 0 {
		t.Logf("the stream before the first grant not counted:\n%s", window(evs, first))
	}
}

// window describes the events of evs from 40 sequences before seq to seq,
// as the read rule walks them.
func window(evs []e2etest.Event, seq uint64) string {
	var term, idx uint64
	known := false
	var lines []string
	for _, e := range evs {
		counts := !known || (e.Idx == 0 && e.Term > term) || (e.Term == term && e.Idx == idx+1)
		if counts {
			term, idx, known = e.Term, e.Idx, true
		}
		if e.Seq+40 >= seq && e.Seq <= seq {
			lines = append(lines, fmt.Sprintf("seq %d term %d idx %d %s %s %s counted=%v", e.Seq, e.Term, e.Idx, e.Kind, e.Gateway, e.ID, counts))
		}
	}
	return strings.Join(lines, "\n")
}

// whereIs describes the events of lease in the stream, counted or not.
func whereIs(evs []e2etest.Event, lease string) string {
	var found []string
	for _, e := range evs {
		if e.Lease == lease {
			found = append(found, fmt.Sprintf("%s at seq %d (term %d idx %d, %s, %s)", e.Kind, e.Seq, e.Term, e.Idx, e.Gateway, e.Time.UTC().Format("15:04:05.000")))
		}
	}
	if len(found) == 0 {
		return "no event of it at all"
	}
	return "its events: " + strings.Join(found, "; ")
}
