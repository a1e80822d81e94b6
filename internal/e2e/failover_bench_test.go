package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/licensegw/licensegw/gateway/events"
	"github.com/licensegw/licensegw/internal/e2etest"
)

// TestFailoverBench is `make bench`'s failover figure, skipped unless
// FAILOVER_BENCH=1: a cluster of three real `licensegw serve` processes
// under load from three concurrent-lm clients that list every node. The
// leader is stopped three ways, each time once every node is back and the
// journal stream current on all three:
//
//   - killed (-9) FAILOVER_KILLS times (default 10): each reports how long
//     until another node was ready and until a client was answered a
//     grant, and whether the killed node also held the journal stream's
//     raft leadership (nats-server then elects a stream leader too, which
//     is most of the wait);
//   - handed over by `licensegw leader step-down` FAILOVER_STEPDOWNS times
//     (default 10), and by SIGTERM FAILOVER_TERMS times (default 10): a
//     rolling restart's hand-over, which should take under 2 s. Each
//     reports the time from the command (the signal) to the first grant
//     a client was answered that the next leader decided (its checkout
//     event names it), and the nodes' logged phases of the hand-over and
//     of the takeover.
//
// The stream is checked with the read rule at the end.
func TestFailoverBench(t *testing.T) {
	if os.Getenv("FAILOVER_BENCH") == "" {
		t.Skip("set FAILOVER_BENCH=1 (make bench) to run")
	}
	kills, stepdowns, terms := envCount("FAILOVER_KILLS", 10), envCount("FAILOVER_STEPDOWNS", 10), envCount("FAILOVER_TERMS", 10)
	lc := startLoadedCluster(t, 24)
	c, addrs, seats := lc.Cluster, lc.Addrs, lc.Seats
	f := lc.faults(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(kills+stepdowns+terms)*90*time.Second)
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
	if kills > 0 {
		t.Logf("failover over %d kills of the leader: next node ready %s; first grant answered %s", kills, summary(ready), summary(grant))
		t.Logf("first grant, stream leader killed with it (%d): %s; stream leader elsewhere (%d): %s",
			len(withStream), summary(withStream), len(without), summary(without))
	}

	var handovers []handover
	for k := range stepdowns + terms {
		c.WaitStreamCurrent(startTimeout)
		leader := c.WaitLeader(startTimeout, -1)
		h := handover{how: "step-down", from: leader, inUse: waitStandbys(t, c, leader)}
		failed, denied := f.load.failures(), f.load.denials()
		tookBefore, phasesBefore := strings.Count(logOf(c.Nodes[0])+logOf(c.Nodes[1])+logOf(c.Nodes[2]), tookLine), strings.Count(logOf(c.Nodes[leader]), phasesLine)
		if k >= stepdowns {
			h.how = "SIGTERM"
			f.keepDown(leader, true)
			h.at = time.Now()
			if err, _ := c.Nodes[leader].Terminate(); err != nil {
				lines := strings.Split(strings.TrimSpace(logOf(c.Nodes[leader])), "\n")
				t.Errorf("%s exited with %v after SIGTERM; its log ends:\n%s", c.Nodes[leader].Name(), err, strings.Join(lines[max(0, len(lines)-40):], "\n"))
			}
		} else {
			h.at = time.Now()
			if res := c.Nodes[leader].CLI(ctx, "leader", "step-down"); res.Code != 0 {
				t.Fatalf("leader step-down on %s: exit %d: %s%s", c.Nodes[leader].Name(), res.Code, res.Stdout, res.Stderr)
			}
		}
		h.to = c.WaitLeader(startTimeout, leader)
		f.load.waitGrantsAfter(ctx, t, h.at, 1)
		h.failed, h.denied = f.load.failures()-failed, f.load.denials()-denied
		// Both lines are logged by now, or within moments.
		e2etest.Eventually(t, 10*time.Second, "the hand-over's phases logged", func() error {
			if strings.Count(logOf(c.Nodes[0])+logOf(c.Nodes[1])+logOf(c.Nodes[2]), tookLine) == tookBefore ||
				strings.Count(logOf(c.Nodes[leader]), phasesLine) == phasesBefore {
				return errors.New("not yet")
			}
			return nil
		})
		h.took, h.serving = lastLine(c.Nodes[h.to], tookLine)
		h.phases, h.released = lastLine(c.Nodes[leader], phasesLine)
		handovers = append(handovers, h)
		f.keepDown(leader, false)
	}
	leader := c.WaitLeader(startTimeout, -1)
	f.mu.Lock()
	t.Logf("exits seen by the supervisor: %v", f.restarts)
	f.mu.Unlock()
	f.check(leader, fmt.Sprintf("%d kills, %d step-downs, %d SIGTERMs", kills, stepdowns, terms))
	if len(handovers) == 0 {
		return
	}
	// Which node decided each answered grant: its checkout event says.
	decidedBy := map[string]string{}
	for _, e := range c.Nodes[leader].Journal() {
		if e.Kind == events.Checkout {
			decidedBy[e.Lease] = e.Node
		}
	}
	byHow := map[string][]time.Duration{}
	for i, h := range handovers {
		d := f.load.firstDecidedBy(h.at, c.Nodes[h.to].Name(), decidedBy)
		byHow[h.how] = append(byHow[h.how], d)
		t.Logf("hand-over %d (%s): %s -> %s, first grant by %s answered %v after the command (lease released at %v, next leader serving at %v), %d failed requests (retried), %d denied (%d of %d seats in use before)\n\t%s: %s\n\t%s: %s",
			i+1, h.how, c.Nodes[h.from].Name(), c.Nodes[h.to].Name(), c.Nodes[h.to].Name(), d.Round(time.Millisecond),
			h.released.Sub(h.at).Round(time.Millisecond), h.serving.Sub(h.at).Round(time.Millisecond), h.failed, h.denied, h.inUse, seats,
			c.Nodes[h.from].Name(), h.phases, c.Nodes[h.to].Name(), h.took)
		if d > time.Second || d < 0 {
			// Where a slow one's time went: every node's log meanwhile.
			var lines []string
			for _, g := range c.Nodes {
				lines = append(lines, linesBetween(g, h.at.Add(-100*time.Millisecond), h.at.Add(max(d, 5*time.Second)))...)
			}
			slices.SortStableFunc(lines, func(a, b string) int {
				_, a, _ = strings.Cut(a, " ")
				_, b, _ = strings.Cut(b, " ")
				return strings.Compare(a[:min(len(a), 24)], b[:min(len(b), 24)])
			})
			t.Logf("hand-over %d took %v: the nodes' logs meanwhile:\n%s", i+1, d.Round(time.Millisecond), strings.Join(lines, "\n"))
		}
	}
	for _, how := range []string{"step-down", "SIGTERM"} {
		if ds := byHow[how]; len(ds) > 0 {
			t.Logf("hand-over by %s over %d: first grant by the next leader answered %s; over 2 s: %d", how, len(ds), summary(ds), over(ds, 2*time.Second))
		}
	}
}

// handover is one round of TestFailoverBench's hand-overs.
type handover struct {
	how      string
	from, to int
	at       time.Time // the command, or the signal
	failed   int       // requests that failed meanwhile (each retried)
	denied   int       // requests denied meanwhile (no seat free)
	inUse    int       // seats in use before
	phases   string    // the old leader's "hand-over phases" line
	took     string    // the next leader's "took over the cluster leadership" line
	released time.Time // when phases was logged (the lease released)
	serving  time.Time // when took was logged (the next leader serving)
}

// waitStandbys waits until the leader's status says every other node
// stands by (its election runs: it would take the lease over at once), as
// a rolling restart waits for the node it restarted before the next. It
// returns the seats in use then.
func waitStandbys(t *testing.T, c *e2etest.Cluster, leader int) int {
	t.Helper()
	inUse := 0
	e2etest.Eventually(t, startTimeout, "every other node standing by", func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		st, err := c.Nodes[leader].Admin().Status(ctx)
		if err != nil {
			return err
		}
		if st.Cluster == nil {
			return errors.New("no cluster status")
		}
		standby := 0
		for _, nd := range st.Cluster.Nodes {
			if nd.Name != st.Cluster.Node && nd.Role == "standby" {
				standby++
			}
		}
		if standby < len(c.Nodes)-1 {
			return fmt.Errorf("%d nodes stand by: %+v", standby, st.Cluster.Nodes)
		}
		inUse = 0
		for _, ft := range st.Features {
			inUse += ft.InUse
		}
		return nil
	})
	return inUse
}

// envCount is the count in the environment variable name, or def.
func envCount(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n >= 0 {
		return n
	}
	return def
}

// over counts the durations of ds longer than limit.
func over(ds []time.Duration, limit time.Duration) int {
	n := 0
	for _, d := range ds {
		if d > limit {
			n++
		}
	}
	return n
}

// The log lines of a hand-over's phases (stepdown.go) and of the next
// leader's takeover (node.go).
const (
	phasesLine = "hand-over phases"
	tookLine   = "took over the cluster leadership"
)

// logOf is g's whole log, every run of it.
func logOf(g *e2etest.Gateway) string {
	b, _ := os.ReadFile(g.LogPath)
	return string(b)
}

// lastLine is the last line of g's log (every run of it) that contains
// what, from the message on, and when it was logged.
func lastLine(g *e2etest.Gateway, what string) (string, time.Time) {
	s := logOf(g)
	i := strings.LastIndex(s, what)
	if i < 0 {
		return "(not logged)", time.Time{}
	}
	start := strings.LastIndexByte(s[:i], '\n') + 1
	line, _, _ := strings.Cut(s[start:], "\n")
	at, _ := logTime(line)
	return line[i-start:], at
}

// logTime is when a log line was written (hclog's text format starts
// with the time).
func logTime(line string) (time.Time, bool) {
	f, _, _ := strings.Cut(line, " ")
	at, err := time.Parse("2006-01-02T15:04:05.000Z0700", f)
	return at, err == nil
}

// linesBetween are the lines of g's log written from from to to.
func linesBetween(g *e2etest.Gateway, from, to time.Time) []string {
	var out []string
	for line := range strings.Lines(logOf(g)) {
		if at, ok := logTime(line); ok && !at.Before(from) && !at.After(to) {
			out = append(out, g.Name()+" "+strings.TrimSpace(line))
		}
	}
	return out
}

// denials is how many requests were denied so far.
func (l *clusterLoad) denials() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.denied
}

// firstDecidedBy is how long after t a client was first answered a grant
// that node decided (decidedBy maps a lease to the node of its checkout
// event); -1 if none was.
func (l *clusterLoad) firstDecidedBy(t time.Time, node string, decidedBy map[string]string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	first := time.Duration(-1)
	for lease, at := range l.granted {
		if d := at.Sub(t); d > 0 && decidedBy[lease] == node && (first < 0 || d < first) {
			first = d
		}
	}
	return first
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
