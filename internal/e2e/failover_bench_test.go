package e2e

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"
)

// TestFailoverBench is `make bench`'s failover figure, skipped unless
// FAILOVER_BENCH=1: a cluster of three real `licensegw serve` processes
// under load from three concurrent-lm clients that list every node; the
// leader is killed (-9) FAILOVER_KILLS times (default 10), each time once
// every node is back and the journal stream current on all three. Each
// kill reports how long until another node was ready and until a client
// was answered a grant, and whether the killed node also held the
// journal stream's raft leadership (nats-server then elects a stream
// leader too, which is most of the wait). The stream is checked with the
// read rule at the end.
func TestFailoverBench(t *testing.T) {
	if os.Getenv("FAILOVER_BENCH") == "" {
		t.Skip("set FAILOVER_BENCH=1 (make bench) to run")
	}
	kills, _ := strconv.Atoi(os.Getenv("FAILOVER_KILLS"))
	if kills <= 0 {
		kills = 10
	}
	lc := startLoadedCluster(t, 24)
	c, addrs := lc.Cluster, lc.Addrs
	f := lc.faults(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(kills)*90*time.Second)
	defer cancel()
	f.ctx = ctx
	stop := make(chan struct{})
	var wg sync.WaitGroup
	defer func() { close(stop); wg.Wait() }()
	for w := range 3 {
		wg.Go(func() { f.work(addrs, w, stop) })
	}
	wg.Go(func() { f.supervise(stop) })
	f.load.waitGrants(ctx, t, 10)

	var ready, grant, withStream, without []time.Duration
	for k := range kills {
		st := c.WaitStreamCurrent(startTimeout)
		leader := c.WaitLeader(startTimeout, -1)
		f.keepDown(leader, true)
		c.Nodes[leader].Kill()
		killed := time.Now()
		next := c.WaitLeader(startTimeout, leader)
		r := time.Since(killed)
		f.load.waitGrantsAfter(ctx, t, killed, 1)
		g := f.load.firstAfter(killed)
		ready, grant = append(ready, r), append(grant, g)
		if st.Leader == leader {
			withStream = append(withStream, g)
		} else {
			without = append(without, g)
		}
		t.Logf("kill %d: %s (stream leader too: %v) killed, %s ready after %v, first grant after %v",
			k+1, c.Nodes[leader].Name(), st.Leader == leader, c.Nodes[next].Name(), r.Round(time.Millisecond), g.Round(time.Millisecond))
		f.keepDown(leader, false)
	}
	t.Logf("failover over %d kills of the leader: next node ready %s; first grant answered %s", kills, summary(ready), summary(grant))
	t.Logf("first grant, stream leader killed with it (%d): %s; stream leader elsewhere (%d): %s",
		len(withStream), summary(withStream), len(without), summary(without))
	f.mu.Lock()
	t.Logf("exits seen by the supervisor: %v", f.restarts)
	f.mu.Unlock()
	leader := c.WaitLeader(startTimeout, -1)
	f.check(leader, fmt.Sprintf("%d kills", kills))
}

// summary is min, median, p90 and max of ds.
func summary(ds []time.Duration) string {
	if len(ds) == 0 {
		return "none"
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	at := func(q float64) time.Duration { return s[min(len(s)-1, int(q*float64(len(s))))].Round(time.Millisecond) }
	return fmt.Sprintf("min %v, median %v, p90 %v, max %v", s[0].Round(time.Millisecond), at(0.5), at(0.9), s[len(s)-1].Round(time.Millisecond))
}
