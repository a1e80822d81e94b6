package e2e

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/licensegw/licensegw/internal/e2etest"
	"github.com/licensegw/licensegw/plugins/concurrentlm/client"
)

// TestClusterFaults injects the faults a cluster must survive into one
// cluster of three real `licensegw serve` processes whose routes run
// through proxies, under load from real concurrent-lm clients that list
// every node, one fault after the other:
//
//   - the leader's process frozen (SIGSTOP) past its lease, then thawed:
//     another node leads meanwhile, and the old leader answers nothing
//     after it lost its lease, not even the request it was holding;
//   - the node holding the journal stream's raft leadership killed (-9):
//     grants go on;
//   - the leader cut off from the other two (every route dropped, both
//     ways): the majority takes over, and the minority never grants a
//     request sent after the cut;
//   - the leader frozen while no client asks anything, with a request its
//     plugin holds meanwhile: the new leader has journaled nothing but its
//     term event, so only that fences the old one; the old one must not
//     depose the new one when thawed, and the new one goes on serving.
//
// After each, the stream, read with the read rule, holds every grant a
// client was answered, never more seats in use than exist, and no event
// twice.
func TestClusterFaults(t *testing.T) {
	lc := startLoadedCluster(t, 24, e2etest.ProxiedRoutes())
	addrs := lc.Addrs
	f := lc.faults(t)

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	f.ctx = ctx
	stop := make(chan struct{})
	var wg sync.WaitGroup
	defer func() { close(stop); wg.Wait() }()
	for w := range 3 {
		wg.Go(func() { f.work(addrs, w, stop) })
	}
	wg.Go(func() { f.supervise(stop) })
	defer func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		t.Logf("the supervisor restarted: %v", f.restarts)
		// A node that loses its lease, or is deposed, stands by in
		// its process: none exits by itself.
		if len(f.crashes) > 0 {
			t.Errorf("nodes exited by themselves: %v", f.crashes)
		}
	}()
	t.Cleanup(func() {
		if t.Failed() {
			f.dumpStreamTail(60)
		}
	})
	f.load.waitGrants(ctx, t, 10)

	f.frozenLeader()
	f.streamLeaderKilled()
	f.partitionedLeader()
	f.frozenIdleLeader()
}

// faults is TestClusterFaults' cluster, load and clients.
type faults struct {
	t      *testing.T
	ctx    context.Context
	c      *e2etest.Cluster
	pinned ed25519.PublicKey
	load   *clusterLoad
	seats  int

	mu       sync.Mutex
	down     map[int]bool // nodes the test keeps down: not restarted
	restarts []string     // what the supervisor restarted, and when
	exits    map[int]int  // exits seen, by node
	crashes  []string     // exits the harness did not cause

	quiet    atomic.Bool  // the workers ask nothing (frozenIdleLeader)
	inflight atomic.Int32 // workers' requests in flight
}

// supervise restarts every node that exits, 2 s after (as the systemd
// unit in examples/systemd does: Restart=on-failure, RestartSec=2s), but
// those the test keeps down, until stop.
func (f *faults) supervise(stop <-chan struct{}) {
	exited := map[int]time.Time{}
	for {
		select {
		case <-stop:
			return
		case <-time.After(100 * time.Millisecond):
		}
		for i, g := range f.c.Nodes {
			if f.isDown(i) {
				continue
			}
			if err, ok := g.Exited(0); ok {
				if _, seen := exited[i]; !seen {
					exited[i] = time.Now()
					f.mu.Lock()
					f.exits[i]++
					what := fmt.Sprintf("%s exited at %s (%v)", g.Name(), time.Now().UTC().Format("15:04:05.000"), err)
					f.restarts = append(f.restarts, what)
					if err != nil { // not one the harness killed
						f.crashes = append(f.crashes, what)
					}
					f.mu.Unlock()
				}
				if time.Since(exited[i]) < 2*time.Second {
					continue
				}
				if _, err := g.Relaunch(); err != nil {
					f.t.Errorf("restart %s: %v", g.Name(), err)
				}
				delete(exited, i)
			}
		}
	}
}

// keepDown stops the supervisor from restarting node i until release.
func (f *faults) keepDown(i int, down bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down[i] = down
}

// isDown says whether the test keeps node i down.
func (f *faults) isDown(i int) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.down[i]
}

func (f *faults) exitCount(i int) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.exits[i]
}

// work checks out and in until stop, as user w, with a client of the
// node list. A request that fails (no answer in time, the node
// unavailable) closes the client, and the next goes to a new one whose
// list starts at the next node: the concurrent-lm client follows a leader
// that moves, but does not leave a node that stopped answering while its
// plugin still holds the connection (a frozen gateway), so the harness
// does, as an application would.
func (f *faults) work(addrs []string, w int, stop <-chan struct{}) {
	user := fmt.Sprintf("user%d", w)
	l := f.load
	var cl *client.Client
	defer func() {
		if cl != nil {
			cl.Close()
		}
	}()
	failover := func() {
		if cl != nil {
			cl.Close()
			cl = nil
		}
		w++
		time.Sleep(20 * time.Millisecond)
	}
	var held *client.Lease // granted, to give back
	for {
		select {
		case <-stop:
			return
		case <-f.ctx.Done():
			return
		default:
		}
		if f.quiet.Load() { // frozenIdleLeader: no client asks anything
			time.Sleep(20 * time.Millisecond)
			continue
		}
		f.inflight.Add(1)
		func() {
			defer f.inflight.Add(-1)
			if cl == nil {
				list := append(slices.Clone(addrs[w%len(addrs):]), addrs[:w%len(addrs)]...)
				dctx, cancel := context.WithTimeout(f.ctx, 5*time.Second)
				var err error
				cl, err = client.Dial(dctx, strings.Join(list, ","), client.Options{
					PublicKey: f.pinned, ReconnectMin: 20 * time.Millisecond, ReconnectMax: 200 * time.Millisecond,
				})
				cancel()
				if err != nil {
					failover()
					return
				}
			}
			if held != nil { // give back the last grant (a lease lost with its client leaks a seat until its TTL)
				rctx, cancel := context.WithTimeout(f.ctx, 3*time.Second)
				err := held.Checkin(rctx)
				cancel()
				var gone *client.GoneError
				if err != nil && !errors.As(err, &gone) {
					held = nil
					failover()
					return
				}
				held = nil
			}
			rctx, cancel := context.WithTimeout(f.ctx, 3*time.Second)
			lease, err := cl.Checkout(rctx, client.CheckoutOptions{Feature: "cad", User: user, Host: "ws-" + user})
			cancel()
			l.record(lease, err)
			var denied *client.DeniedError
			switch {
			case err == nil:
				held = lease
				select {
				case l.grant <- struct{}{}:
				default:
				}
				time.Sleep(10 * time.Millisecond) // load, not a flood: the machine is shared
			case errors.As(err, &denied):
				time.Sleep(20 * time.Millisecond)
			default:
				failover()
			}
		}()
	}
}

// dial connects a concurrent-lm client to addr (one node, or a list).
func (f *faults) dial(addr string) *client.Client {
	f.t.Helper()
	cl, err := client.Dial(f.ctx, addr, client.Options{
		PublicKey: f.pinned, RequestTimeout: 5 * time.Second,
		ReconnectMin: 20 * time.Millisecond, ReconnectMax: 200 * time.Millisecond,
	})
	if err != nil {
		f.t.Fatalf("dial %s: %v", addr, err)
	}
	f.t.Cleanup(func() { cl.Close() })
	return cl
}

// check reads the stream from node i with the read rule and checks it
// against every answer the clients got.
func (f *faults) check(i int, after string) {
	f.t.Helper()
	f.load.mu.Lock()
	granted := make(map[string]time.Time, len(f.load.granted))
	for k, v := range f.load.granted {
		granted[k] = v
	}
	f.load.mu.Unlock()
	evs := f.c.Nodes[i].Journal()
	f.t.Logf("after %s: %d events in the stream, %d grants answered", after, len(evs), len(granted))
	checkClusterStream(f.t, evs, granted, f.seats)
}

// stopsLeading waits until node i no longer leads: its status says it
// does not lead (a node that loses its lease, or is deposed, stands by in
// the same process), or it exited (which it should not; the supervisor
// restarts it). It reports how the node stopped.
func (f *faults) stopsLeading(i, exitsBefore int) string {
	f.t.Helper()
	g := f.c.Nodes[i]
	var how string
	e2etest.Eventually(f.t, 60*time.Second, g.Name()+" stops leading", func() error {
		if f.exitCount(i) > exitsBefore {
			how = "exited"
			return nil
		}
		ctx, cancel := context.WithTimeout(f.ctx, 2*time.Second)
		defer cancel()
		st, err := g.Admin().Status(ctx)
		if err != nil {
			return err
		}
		if st.Cluster == nil || st.Cluster.Leading {
			return fmt.Errorf("its status says it leads: %+v", st.Cluster)
		}
		how = "follows " + st.Cluster.Leader
		return nil
	})
	return how
}

// rejoin lets the supervisor restart node i (if it is down) and waits
// until the journal stream is current on every node.
func (f *faults) rejoin(i int) {
	f.t.Helper()
	f.keepDown(i, false)
	st := f.c.WaitStreamCurrent(startTimeout)
	f.t.Logf("%s back: stream %s", f.c.Nodes[i].Name(), st.Desc)
}

// whyStopped says what the log of a deposed node shows: the fence's
// refusal, the lease's loss, or neither.
func whyStopped(log string) string {
	var why []string
	if strings.Contains(log, "journal fence refused an append") {
		why = append(why, "fenced by the stream")
	}
	if strings.Contains(log, "lost the cluster leadership") {
		why = append(why, "lost its lease")
	}
	if len(why) == 0 {
		return "no fence or lease message in its log"
	}
	return strings.Join(why, ", ")
}

// heldAnswer is what a checkout sent to a frozen node got in the end.
type heldAnswer struct {
	lease *client.Lease
	err   error
}

// holdCheckout asks for a cad seat for user through pin, whose node is
// about to be (or is) frozen; the answer arrives on the channel once the
// node is thawed, or the cancel func ends the ask.
func (f *faults) holdCheckout(pin *client.Client, user string) (<-chan heldAnswer, context.CancelFunc) {
	held := make(chan heldAnswer, 1)
	ctx, cancel := context.WithCancel(f.ctx)
	go func() {
		lease, err := pin.Checkout(ctx, client.CheckoutOptions{Feature: "cad", User: user, Host: "ws-held"})
		held <- heldAnswer{lease, err}
	}()
	return held, cancel
}

// frozenLeader: SIGSTOP the leader past its lease, SIGCONT it.
func (f *faults) frozenLeader() {
	t := f.t
	leader := f.c.WaitLeader(startTimeout, -1)
	old := f.c.Nodes[leader]
	pin := f.dial(old.Addr(e2etest.CLMAddr))
	lease, err := pin.Checkout(f.ctx, client.CheckoutOptions{Feature: "cad", User: "pinned", Host: "ws-pinned"})
	if err != nil {
		t.Fatalf("checkout from %s before it froze: %v", old.Name(), err)
	}
	f.load.mu.Lock()
	f.load.granted[lease.ID] = time.Now()
	f.load.mu.Unlock()

	exits := f.exitCount(leader)
	old.Signal(syscall.SIGSTOP)
	frozen := time.Now()
	// A request the frozen leader's plugin (a process of its own, still
	// running) takes and holds for the gateway.
	held, hcancel := f.holdCheckout(pin, "held")
	defer hcancel()
	next := f.c.WaitLeader(startTimeout, leader)
	elected := time.Since(frozen)
	f.load.waitGrantsAfter(f.ctx, t, frozen, 5)
	t.Logf("%s frozen: %s leads after %v, first grant answered after %v",
		old.Name(), f.c.Nodes[next].Name(), elected.Round(time.Millisecond), f.load.firstAfter(frozen).Round(time.Millisecond))

	old.Signal(syscall.SIGCONT)
	thawed := time.Now()
	// It decides nothing from now on: the request it held and a new one
	// either fail or, since every node forwards to the leader, are
	// granted: by the new leader, or by the old one if the stream took
	// its append before the new term's (f.check: every answered grant is
	// in the stream under the read rule).
	var late []string
	select {
	case r := <-held:
		if r.err == nil {
			t.Logf("the request %s held while frozen: granted %v after it was thawed", old.Name(), time.Since(thawed).Round(time.Millisecond))
			late = append(late, r.lease.ID)
		} else {
			t.Logf("the request %s held while frozen: %v", old.Name(), r.err)
		}
	case <-time.After(15 * time.Second):
		hcancel()
		if r := <-held; r.err == nil {
			late = append(late, r.lease.ID)
		}
	}
	nctx, ncancel := context.WithTimeout(f.ctx, 10*time.Second)
	after, err := pin.Checkout(nctx, client.CheckoutOptions{Feature: "cad", User: "after", Host: "ws-after"})
	ncancel()
	if err == nil {
		late = append(late, after.ID)
	}
	f.load.mu.Lock()
	for _, id := range late {
		f.load.granted[id] = time.Now()
	}
	f.load.mu.Unlock()
	how := f.stopsLeading(leader, exits)
	t.Logf("%s thawed: %s; %s", old.Name(), how, whyStopped(old.Log()))
	// Read once every replica is current: right after a thaw, the old
	// node may still answer reads as the stream's raft leader it was,
	// from what it held when it froze.
	f.rejoin(leader)
	f.check(next, "the frozen leader")
}

// streamLeaderKilled: kill -9 the node holding the stream's raft
// leadership.
func (f *faults) streamLeaderKilled() {
	t := f.t
	st := f.c.WaitStreamCurrent(startTimeout)
	leader := f.c.WaitLeader(startTimeout, -1)
	victim := st.Leader
	f.keepDown(victim, true)
	f.c.Nodes[victim].Kill()
	killed := time.Now()
	next := leader
	if victim == leader {
		next = f.c.WaitLeader(startTimeout, victim)
	}
	f.load.waitGrantsAfter(f.ctx, t, killed, 5)
	t.Logf("stream leader %s killed (the gateway leader: %v): %s leads, first grant answered after %v",
		f.c.Nodes[victim].Name(), victim == leader, f.c.Nodes[next].Name(), f.load.firstAfter(killed).Round(time.Millisecond))
	f.check(next, "the stream leader's kill")
	f.rejoin(victim)
}

// partitionedLeader: cut the leader off from the other two nodes.
func (f *faults) partitionedLeader() {
	t := f.t
	f.c.WaitStreamCurrent(startTimeout)
	leader := f.c.WaitLeader(startTimeout, -1)
	cutOff := f.c.Nodes[leader]
	pin := f.dial(cutOff.Addr(e2etest.CLMAddr))

	exits := f.exitCount(leader)
	f.c.Partition(leader)
	cut := time.Now()
	defer f.c.Heal(leader)
	// Requests sent to the minority from now on: none may be granted.
	var minority []string
	tried, failed := 0, 0
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			rctx, cancel := context.WithTimeout(f.ctx, 8*time.Second)
			lease, err := pin.Checkout(rctx, client.CheckoutOptions{Feature: "cad", User: "minority", Host: "ws-minority"})
			cancel()
			tried++
			var denied *client.DeniedError
			switch {
			case err == nil:
				minority = append(minority, fmt.Sprintf("%s after %v", lease.ID, time.Since(cut).Round(time.Millisecond)))
			case errors.As(err, &denied):
				minority = append(minority, fmt.Sprintf("a denial (%v) after %v", err, time.Since(cut).Round(time.Millisecond)))
			default:
				failed++
			}
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()

	next := f.c.WaitLeader(startTimeout, leader)
	elected := time.Since(cut)
	f.load.waitGrantsAfter(f.ctx, t, cut, 5)
	t.Logf("%s cut off: %s leads after %v, first grant answered after %v",
		cutOff.Name(), f.c.Nodes[next].Name(), elected.Round(time.Millisecond), f.load.firstAfter(cut).Round(time.Millisecond))
	how := f.stopsLeading(leader, exits)
	close(stop)
	<-done
	t.Logf("%s cut off: %s; %s; %d requests sent to it after the cut, %d failed", cutOff.Name(), how, whyStopped(cutOff.Log()), tried, failed)
	// The minority decided nothing: no grant, and no denial either (a
	// denial is an answer from its stale state).
	if len(minority) > 0 {
		t.Errorf("%s, cut off from the majority, answered requests sent after the cut: %v", cutOff.Name(), minority)
	}
	f.check(next, "the partition")
}

// frozenIdleLeader: SIGSTOP the leader while the clients ask nothing, with
// a request held in its plugin meanwhile; SIGCONT it once the next leader
// serves. The next leader has journaled only its term event, so nothing
// but that event fences the old one: the old one's thawed append must be
// refused (or, if the stream took it before the new term, be valid
// history), and must not depose the new one (a stray of an older term
// after its term event is stepped past).
func (f *faults) frozenIdleLeader() {
	t := f.t
	f.c.WaitStreamCurrent(startTimeout)
	leader := f.c.WaitLeader(startTimeout, -1)
	old := f.c.Nodes[leader]
	pin := f.dial(old.Addr(e2etest.CLMAddr))

	f.quiet.Store(true)
	defer f.quiet.Store(false)
	e2etest.Eventually(t, 30*time.Second, "the workers' requests answered", func() error {
		if n := f.inflight.Load(); n > 0 {
			return fmt.Errorf("%d in flight", n)
		}
		return nil
	})
	exits := f.exitCount(leader)
	old.Signal(syscall.SIGSTOP)
	frozen := time.Now()
	held, hcancel := f.holdCheckout(pin, "held-idle")
	defer hcancel()
	next := f.c.WaitLeader(startTimeout, leader)
	t.Logf("%s frozen while idle: %s leads after %v", old.Name(), f.c.Nodes[next].Name(), time.Since(frozen).Round(time.Millisecond))
	old.Signal(syscall.SIGCONT)
	thawed := time.Now()
	var late []string
	select {
	case r := <-held:
		if r.err == nil {
			late = append(late, r.lease.ID)
			t.Logf("the request %s held while frozen: granted %v after it was thawed", old.Name(), time.Since(thawed).Round(time.Millisecond))
		} else {
			t.Logf("the request %s held while frozen: %v", old.Name(), r.err)
		}
	case <-time.After(20 * time.Second):
		hcancel()
		if r := <-held; r.err == nil {
			late = append(late, r.lease.ID)
		}
	}

	// The new leader goes on serving.
	cl := f.dial(f.c.Nodes[next].Addr(e2etest.CLMAddr))
	rctx, rcancel := context.WithTimeout(f.ctx, 20*time.Second)
	lease, err := cl.Checkout(rctx, client.CheckoutOptions{Feature: "cad", User: "after-idle", Host: "ws-after"})
	rcancel()
	if err != nil {
		t.Fatalf("the new leader %s after the idle old leader was thawed: %v", f.c.Nodes[next].Name(), err)
	}
	late = append(late, lease.ID)
	f.load.mu.Lock()
	for _, id := range late {
		f.load.granted[id] = time.Now()
	}
	f.load.mu.Unlock()
	how := f.stopsLeading(leader, exits)
	t.Logf("%s thawed: %s; %s", old.Name(), how, whyStopped(old.Log()))
	f.c.WaitStreamCurrent(startTimeout) // as in frozenLeader
	f.check(next, "the frozen idle leader")
}

// dumpStreamTail logs the stream's last n events, as read from the first
// node that answers, with each event's place in its writer's history: what
// a failure (a journal that no node can open again, say) needs to be
// understood after the test's directories are gone.
func (f *faults) dumpStreamTail(n int) {
	for i, g := range f.c.Nodes {
		if f.isDown(i) {
			continue
		}
		evs := g.Journal()
		evs = evs[max(0, len(evs)-n):]
		var b strings.Builder
		for _, ev := range evs {
			prev := ev.Prev
			if len(prev) > 12 {
				prev = prev[:12]
			}
			fmt.Fprintf(&b, "  %6d term=%d idx=%d node=%s kind=%s id=%s msgid=%s prev=%s\n", ev.Seq, ev.Term, ev.Idx, ev.Node, ev.Kind, ev.ID, ev.MsgID, prev)
		}
		f.t.Logf("the stream's last %d events, read through %s:\n%s", len(evs), g.Name(), b.String())
		return
	}
}
