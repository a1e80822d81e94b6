package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/licensegw/licensegw/gateway/events"
	"github.com/licensegw/licensegw/internal/e2etest"
)

// TestClusterHandOver runs three gateways as one cluster under load from
// real concurrent-lm clients listing all three, and hands the leadership
// over twice: `licensegw leader step-down` on the leader, then SIGTERM of
// the next one. Each time another node leads and grants again; the node
// that stepped down goes on as a standby; clients see nothing worse than
// answers to retry; the stream, read with the read rule, holds every
// answered grant; and the lifecycle stream tells the story in cluster.*
// messages.
func TestClusterHandOver(t *testing.T) {
	const seats = 12
	lc := startLoadedCluster(t, seats)
	c, load := lc.Cluster, lc.Load
	first := c.WaitLeader(startTimeout, -1)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 3 {
		cl := lc.dial(ctx, t)
		wg.Go(func() { load.run(ctx, cl, fmt.Sprintf("user%d", w), stop) })
	}
	load.waitGrants(ctx, t, 10)

	// A standby refuses, naming the leader.
	standby := (first + 1) % 3
	e2etest.Eventually(t, startTimeout, "a standby refusing to step down", func() error {
		_, err := c.Nodes[standby].Admin().StepDown(ctx)
		if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("gw-%d leads", first+1)) {
			return fmt.Errorf("step-down on a standby = %v, want a refusal naming the leader", err)
		}
		return nil
	})

	// 1. Step-down on request.
	failedBefore := load.failures()
	asked := time.Now()
	res := c.Nodes[first].CLI(ctx, "leader", "step-down")
	if res.Code != 0 {
		t.Fatalf("leader step-down: exit %d: %s%s", res.Code, res.Stdout, res.Stderr)
	}
	second := c.WaitLeader(startTimeout, first)
	load.waitGrantsAfter(ctx, t, asked, 10)
	t.Logf("step-down of gw-%d: %s; %d failed requests (retried)",
		first+1, strings.ReplaceAll(strings.TrimSpace(res.Stdout), "\n", "; "), load.failures()-failedBefore)
	if !strings.Contains(res.Stdout, "stepped down from term") {
		t.Errorf("step-down output: %q", res.Stdout)
	}
	// The leader's final snapshot went to the cluster's object store, and
	// the next leader started from it; or, when the store could not take
	// it within the hand-over's bound (its stream electing, a loaded
	// machine), the old leader says so and the next one replays more.
	e2etest.Eventually(t, 10*time.Second, "the next leader starting from the stored snapshot", func() error {
		if !strings.Contains(c.Nodes[second].Log(), "starting from the snapshot store's snapshot") &&
			!strings.Contains(c.Nodes[first].Log(), "final snapshot not stored") {
			return fmt.Errorf("gw-%d's log does not say it started from the snapshot store, nor gw-%d's that its final snapshot was not stored", second+1, first+1)
		}
		return nil
	})
	// The node that stepped down runs on as a standby.
	e2etest.Eventually(t, startTimeout, "the node that stepped down standing by", func() error {
		sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		st, err := c.Nodes[first].Admin().Status(sctx)
		if err != nil {
			return err
		}
		if st.Cluster == nil || st.Cluster.Leading || st.Cluster.Leader != fmt.Sprintf("gw-%d", second+1) {
			return fmt.Errorf("cluster status %+v", st.Cluster)
		}
		return nil
	})

	// 2. SIGTERM of the leader.
	failedBefore = load.failures()
	termed := time.Now()
	stopped := make(chan error, 1)
	go func() { err, _ := c.Nodes[second].Terminate(); stopped <- err }()
	third := c.WaitLeader(startTimeout, second)
	load.waitGrantsAfter(ctx, t, termed, 10)
	t.Logf("SIGTERM of gw-%d: gw-%d leads; %d failed requests (retried)", second+1, third+1, load.failures()-failedBefore)
	if err := <-stopped; err != nil {
		t.Errorf("the leader exited with %v after SIGTERM", err)
	}
	close(stop)
	wg.Wait()

	evs := eventsWithSeals(ctx, t, c.Nodes[third])
	checkClusterStream(t, evs, load.granted, seats)
	// The hand-over figures: from the command (the signal) to the first
	// checkout the next leader decided.
	logPhases(t, c.Nodes...)
	t.Logf("hand-over: step-down gw-%d -> gw-%d: first grant by gw-%d %v after the command; SIGTERM gw-%d -> gw-%d: first grant by gw-%d %v after the signal",
		first+1, second+1, second+1, firstGrantBy(evs, second, asked), second+1, third+1, third+1, firstGrantBy(evs, third, termed))
	checkClusterLifecycle(ctx, t, c.Nodes[third], first, second)
}

// checkClusterLifecycle reads the cluster.* messages of the lifecycle
// stream: three leaders elected with rising terms, a step-down and a
// stop handed over, and every node joined.
func checkClusterLifecycle(ctx context.Context, t *testing.T, g *e2etest.Gateway, first, second int) {
	t.Helper()
	js, err := jetstream.New(g.PrivilegedNATS())
	if err != nil {
		t.Fatal(err)
	}
	var msgs []map[string]any
	var subjects []string
	e2etest.Eventually(t, 30*time.Second, "cluster lifecycle messages", func() error {
		msgs, subjects = nil, nil
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		st, err := js.Stream(rctx, events.DefaultLifecycleStream)
		if err != nil {
			return err
		}
		info, err := st.Info(rctx)
		if err != nil {
			return err
		}
		for seq := info.State.FirstSeq; seq <= info.State.LastSeq && seq > 0; seq++ {
			m, err := st.GetMsg(rctx, seq)
			if err != nil {
				continue // deleted
			}
			if !strings.HasPrefix(m.Subject, "licensegw.cluster.") {
				continue
			}
			var p map[string]any
			if err := json.Unmarshal(m.Data, &p); err != nil {
				return fmt.Errorf("%s at %d: %w", m.Subject, seq, err)
			}
			msgs, subjects = append(msgs, p), append(subjects, strings.TrimPrefix(m.Subject, "licensegw.cluster."))
		}
		var elected, handed int
		for _, s := range subjects {
			switch s {
			case events.ClusterLeaderElected:
				elected++
			case events.ClusterLeaderSteppedDown:
				handed++
			}
		}
		if elected < 3 || handed < 2 {
			return fmt.Errorf("%d elected, %d stepped down in %v", elected, handed, subjects)
		}
		return nil
	})
	var lastTerm float64
	joined := map[string]bool{}
	reasons := map[string]string{}
	for i, s := range subjects {
		p := msgs[i]
		if p["schema"] != events.Schema || p["time"] == nil || p["gateway"] == nil {
			t.Errorf("%s: missing the lifecycle payload's fields: %v", s, p)
		}
		switch s {
		case events.ClusterLeaderElected:
			term, _ := p["term"].(float64)
			if term <= lastTerm {
				t.Errorf("leader elected with term %v after term %v", term, lastTerm)
			}
			lastTerm = term
		case events.ClusterLeaderSteppedDown:
			node, _ := p["node"].(string)
			reasons[node], _ = p["reason"].(string)
		case events.ClusterNodeJoined:
			node, _ := p["node"].(string)
			joined[node] = true
		}
	}
	if r := reasons[fmt.Sprintf("gw-%d", first+1)]; r != "step-down" {
		t.Errorf("gw-%d handed over for %q, want step-down (%v)", first+1, r, subjects)
	}
	if r := reasons[fmt.Sprintf("gw-%d", second+1)]; r != "shutdown" {
		t.Errorf("gw-%d handed over for %q, want shutdown (%v)", second+1, r, subjects)
	}
	if len(joined) < 2 {
		t.Errorf("nodes joined: %v, want at least the two standbys of the first term (%v)", joined, subjects)
	}
}

// failures is how many requests have failed so far (each retried).
func (l *clusterLoad) failures() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.failed
}

// firstGrantBy is how long after t node i decided its first checkout.
func firstGrantBy(evs []e2etest.Event, i int, t time.Time) time.Duration {
	name := fmt.Sprintf("gw-%d", i+1)
	for _, e := range evs {
		if e.Kind == events.Checkout && e.Node == name && e.Time.After(t) {
			return e.Time.Sub(t).Round(time.Millisecond)
		}
	}
	return -1
}

// eventsWithSeals reads the journal with its seals: they are counted
// events (term, idx), so the read rule needs them (Gateway.Events leaves
// them out).
func eventsWithSeals(ctx context.Context, t *testing.T, g *e2etest.Gateway) []e2etest.Event {
	t.Helper()
	rctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	// Not EventSubjects itself, for which ReadStream drops the seals.
	evs, err := e2etest.ReadStream(rctx, g.NATSURL(), "licensegw.events.*.>", g.AuditNATS())
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// logPhases logs the hand-over's steps from the nodes' logs, to show where
// its time goes.
func logPhases(t *testing.T, gs ...*e2etest.Gateway) {
	t.Helper()
	for _, g := range gs {
		for line := range strings.Lines(g.Log()) {
			for _, what := range []string{"stepping down", "handed the cluster leadership", "elected leader", "snapshot store's snapshot", "accounting rebuilt", "gateway started", "moved off", "hand-over phases", "took over the cluster"} {
				if strings.Contains(line, what) {
					t.Log(strings.TrimSpace(line))
					break
				}
			}
		}
	}
}
