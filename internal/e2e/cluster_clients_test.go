package e2e

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/licensegw/licensegw/gateway/events"
	"github.com/licensegw/licensegw/internal/e2etest"
	"github.com/licensegw/licensegw/plugins/concurrentlm/client"
	flexclient "github.com/licensegw/licensegw/plugins/flexlm/client"
	flexwire "github.com/licensegw/licensegw/plugins/flexlm/wire"
	sentclient "github.com/licensegw/licensegw/plugins/sentinel/client"
	sentwire "github.com/licensegw/licensegw/plugins/sentinel/wire"
)

// clientsClusterConfig runs the three protocol plugins on every node.
const clientsClusterConfig = `feature "cad" {
  vendor    = "acme"
  version   = "1.0"
  seats     = 6
  lease_ttl = "15s"
}

feature "solo" {
  vendor  = "acme"
  version = "1.0"
  seats   = 1
  queue {
    max_length = 5
  }
}

plugin "flexlm" {
  path   = "{{.Bin "licensegw-flexlm"}}"
  listen = { lmgrd = "{{.TCP "lmgrd"}}", vendor = "{{.TCP "vendor"}}" }
  config {
    server_host = "e2ehost"
  }
}

plugin "sentinel" {
  path   = "{{.Bin "licensegw-sentinel"}}"
  listen = { udp = "{{.UDP "sentinel"}}" }
}

`

// TestClusterClients drives one three-node cluster, with the three
// protocol plugins on every node, through what clients of a cluster meet:
//
//   - a queued ticket taken through a follower is granted when a seat
//     frees on the leader;
//   - a CLM/1 CHECKOUT asked again with the same request= key on another
//     node gets the same lease, and a bound one moves to the asking node;
//   - the concurrent-lm client whose node goes silent (SIGSTOP of its
//     concurrent-lm plugin process, which still holds the connection) is
//     served by another node: its next checkout is granted there, and its
//     lease's heartbeats go on through it, past the lease's TTL;
//   - a node cut off from the others (no quorum) says why in its status and
//     /readyz, and each plugin answers its protocol's "unavailable, retry"
//     (never a grant), while the concurrent-lm client and `licensegw run`
//     given the node list move on to a node that can decide.
func TestClusterClients(t *testing.T) {
	c := e2etest.StartCluster(t, e2etest.Options{
		Bins: bins, StartTimeout: startTimeout,
		Config: clientsClusterConfig + e2etest.ConcurrentLMPlugin(""),
	}, 3, e2etest.ProxiedRoutes())
	li := c.WaitLeader(startTimeout, -1)
	lead := c.Nodes[li]
	// The follower to freeze and cut off does not hold the journal
	// stream's raft leadership, so that the cluster goes on writing at
	// once (TestClusterFaults covers that case).
	st := c.WaitStreamCurrent(startTimeout)
	fi := (li + 1) % 3
	if fi == st.Leader {
		fi = (li + 2) % 3
	}
	follower, other := c.Nodes[fi], c.Nodes[3-li-fi]
	for _, g := range []*e2etest.Gateway{follower, other} {
		e2etest.Eventually(t, startTimeout, g.Name()+" ready", func() error {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			return g.Admin().Ready(ctx)
		})
	}
	clm := func(g *e2etest.Gateway) *Conn {
		return (&Gateway{Gateway: g, t: t, CLMAddr: g.Addr(e2etest.CLMAddr)}).Dial()
	}
	leases := func(feature string) map[string]string { // lease -> user, as the leader counts them
		out := map[string]string{}
		for _, l := range lead.Feature(feature).Leases {
			out[l.ID] = l.User
		}
		return out
	}

	t.Run("queued ticket through a follower", func(t *testing.T) {
		holder, waiter := clm(lead), clm(follower)
		held := holder.checkout("solo", "hold", "ws1")
		q := waiter.Do("CHECKOUT feature=solo user=wait host=ws2 wait=60 id=q1")
		expect(t, q, "QUEUED", "position", "1")
		expect(t, holder.Do("CHECKIN lease="+held), "OK")
		ev := waiter.Event(lineTimeout)
		expect(t, ev, "EVENT", "ticket", q.Get("ticket"), "feature", "solo", "id", "q1")
		if ev.Get("lease") == "" || ev.Event != "granted" {
			t.Fatalf("queued grant %q", ev.Line)
		}
		if got := leases("solo"); len(got) != 1 || got[ev.Get("lease")] != "wait" {
			t.Fatalf("the leader holds %v for solo, want only the waiter's %s", got, ev.Get("lease"))
		}
		expect(t, waiter.Do("CHECKIN lease="+ev.Get("lease")), "OK")
	})

	t.Run("request key across nodes", func(t *testing.T) {
		a, b := clm(other), clm(lead)
		first := a.Do("CHECKOUT feature=cad user=kay host=ws3 request=e2e-key-1")
		expect(t, first, "GRANTED")
		expect(t, b.Do("CHECKOUT feature=cad user=kay host=ws3 request=e2e-key-1"), "GRANTED", "lease", first.Get("lease"))
		bound := a.Do("CHECKOUT feature=cad user=kay host=ws3 bind=conn request=e2e-key-2")
		expect(t, bound, "GRANTED")
		node := func() string {
			for _, l := range lead.Feature("cad").Leases {
				if l.ID == bound.Get("lease") {
					return l.Node
				}
			}
			return "(gone)"
		}
		if n := node(); n != other.Name() {
			t.Fatalf("bound lease held on %q, want %s", n, other.Name())
		}
		expect(t, b.Do("CHECKOUT feature=cad user=kay host=ws3 bind=conn request=e2e-key-2"), "GRANTED", "lease", bound.Get("lease"))
		if n := node(); n != lead.Name() {
			t.Fatalf("bound lease asked again through %s is held on %q", lead.Name(), n)
		}
		if got := leases("cad"); len(got) != 2 {
			t.Fatalf("cad leases %v after four asks under two keys, want 2", got)
		}
		expect(t, b.Do("CHECKIN lease="+first.Get("lease")), "OK")
		expect(t, b.Do("CHECKIN lease="+bound.Get("lease")), "OK")
	})

	t.Run("frozen node", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		list := strings.Join([]string{follower.Addr(e2etest.CLMAddr), other.Addr(e2etest.CLMAddr), lead.Addr(e2etest.CLMAddr)}, ",")
		cl, err := client.Dial(ctx, list, client.Options{
			AnswerTimeout: 2 * time.Second, ReconnectMin: 20 * time.Millisecond, ReconnectMax: 200 * time.Millisecond,
		})
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		held, err := cl.Checkout(ctx, client.CheckoutOptions{Feature: "cad", User: "fay", Host: "ws4"})
		if err != nil {
			t.Fatal(err)
		}
		// The node's concurrent-lm plugin process freezes: it holds the
		// client's connection and answers nothing. (Freezing the whole
		// gateway freezes its NATS server too, which may hold raft
		// leaderships the cluster then re-elects: TestClusterFaults.)
		pid := follower.Plugin("concurrentlm").PID
		if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
		stopped := time.Now()
		thawed := false
		thaw := func() {
			if !thawed {
				thawed = true
				_ = syscall.Kill(pid, syscall.SIGCONT)
			}
		}
		defer thaw()
		next, err := cl.Checkout(ctx, client.CheckoutOptions{Feature: "cad", User: "gus", Host: "ws5"})
		if err != nil {
			t.Fatalf("checkout with %s frozen: %v", follower.Name(), err)
		}
		t.Logf("%s frozen: the next checkout granted after %v", follower.Name(), time.Since(stopped).Round(time.Millisecond))
		// An expiry past stopped+TTL was set by a heartbeat answered
		// after the freeze: through another node.
		ttl := held.TTL
		e2etest.Eventually(t, time.Minute, "the lease renewed after the freeze", func() error {
			select {
			case <-held.Done():
				t.Fatalf("lease lost while %s was frozen: %v", follower.Name(), held.Err())
			default:
			}
			if !held.Expires().After(stopped.Add(ttl)) {
				return fmt.Errorf("expires %v", held.Expires())
			}
			return nil
		})
		t.Logf("%s frozen: the lease renewed through another node after %v", follower.Name(), time.Since(stopped).Round(time.Millisecond))
		select {
		case <-held.Done():
			t.Fatalf("lease lost while %s was frozen: %v", follower.Name(), held.Err())
		default:
		}
		got := leases("cad")
		if len(got) != 2 || got[held.ID] != "fay" || got[next.ID] != "gus" {
			t.Fatalf("the leader holds %v for cad %v after the freeze, want %s (fay) and %s (gus)", got, time.Since(stopped), held.ID, next.ID)
		}
		thaw()
		for _, l := range []*client.Lease{held, next} {
			if err := l.Checkin(ctx); err != nil {
				t.Fatal(err)
			}
		}
	})

	t.Run("no quorum", func(t *testing.T) {
		e2etest.Eventually(t, startTimeout, follower.Name()+" ready after the thaw", func() error {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			return follower.Admin().Ready(ctx)
		})
		c.Partition(fi)
		cut := time.Now()
		defer c.Heal(fi)
		var why string
		e2etest.Eventually(t, startTimeout, follower.Name()+" unavailable in its status and /readyz", func() error {
			s := follower.Status()
			if s.Cluster == nil || s.Cluster.Unavailable == "" {
				return errors.New("status says available")
			}
			resp, err := follower.AdminGet("/readyz")
			if err != nil {
				return err
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return fmt.Errorf("/readyz %d %q", resp.StatusCode, body)
			}
			why = fmt.Sprintf("status %q, /readyz %d %q", s.Cluster.Unavailable, resp.StatusCode, strings.TrimSpace(string(body)))
			return nil
		})
		t.Logf("%s cut off; after %v: %s", follower.Name(), time.Since(cut).Round(time.Millisecond), why)

		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		var wg sync.WaitGroup
		errs := make(chan error, 6)
		wg.Go(func() { // CLM/1 over TCP, by hand
			r, err := clm(follower).do("CHECKOUT feature=cad user=mia host=ws6")
			switch {
			case err != nil:
				errs <- fmt.Errorf("CLM/1: %w", err)
			case r.Verb != "ERR" || r.Get("code") != "unavailable":
				errs <- fmt.Errorf("CLM/1 on a node without quorum answered %q, want ERR code=unavailable", r.Line)
			}
		})
		wg.Go(func() { // FlexLM-style: ERROR -96
			port := follower.Addr("lmgrd")[strings.LastIndex(follower.Addr("lmgrd"), ":")+1:]
			fc, err := flexclient.Dial(ctx, port+"@127.0.0.1", flexclient.Options{
				// lmgrd names the vendor daemon from the gateway's
				// features, which a node without quorum cannot read
				// now: it answers from the names it read before, and
				// inside the default 5 s connect timeout regardless.
				User: "ned", Host: "ws7", NoReconnect: true, ConnectTimeout: flexclient.DefaultConnectTimeout,
			})
			if err != nil {
				errs <- fmt.Errorf("FlexLM-style dial: %w", err)
				return
			}
			defer fc.Close()
			_, err = fc.Checkout(ctx, flexclient.CheckoutRequest{Feature: "cad"})
			var se *flexclient.ServerError
			if !errors.As(err, &se) || se.Code != flexwire.CodeUnavailable {
				errs <- fmt.Errorf("FlexLM-style checkout on a node without quorum: %v, want ERROR %d", err, flexwire.CodeUnavailable)
			}
		})
		wg.Go(func() { // Sentinel-style: status Unavailable
			sc, err := sentclient.Dial(follower.Addr("sentinel"), sentclient.Options{User: "oda", Host: "ws8", MaxTimeout: 8 * time.Second})
			if err != nil {
				errs <- fmt.Errorf("Sentinel-style dial: %w", err)
				return
			}
			defer sc.Close()
			_, _, err = sc.Checkout(ctx, sentclient.CheckoutRequest{Feature: "cad"})
			if !sentclient.IsStatus(err, sentwire.Unavailable) {
				errs <- fmt.Errorf("Sentinel-style checkout on a node without quorum: %v, want status Unavailable", err)
			}
		})
		// Clients given the node list move on to a node that decides.
		list := follower.Addr(e2etest.CLMAddr) + "," + lead.Addr(e2etest.CLMAddr)
		var pia *client.Lease
		wg.Go(func() {
			cl, err := client.Dial(ctx, list, client.Options{ReconnectMin: 20 * time.Millisecond, ReconnectMax: 200 * time.Millisecond})
			if err != nil {
				errs <- fmt.Errorf("dial %s: %w", list, err)
				return
			}
			defer cl.Close()
			if pia, err = cl.Checkout(ctx, client.CheckoutOptions{Feature: "cad", User: "pia", Host: "ws9"}); err != nil {
				errs <- fmt.Errorf("checkout with the list %s: %w", list, err)
				return
			}
			if err := pia.Checkin(ctx); err != nil {
				errs <- fmt.Errorf("checkin with the list %s: %w", list, err)
			}
		})
		wg.Go(func() {
			out := e2etest.Run(ctx, t, bins.Path("licensegw"), []string{"run", "--feature", "cad", "--server", list, "--", "true"}, "USER=runner")
			if out.Code != 0 {
				errs <- fmt.Errorf("licensegw run --server %s: exit %d\n%s%s", list, out.Code, out.Stdout, out.Stderr)
			}
		})
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		t.Logf("%s cut off: every client answered after %v", follower.Name(), time.Since(cut).Round(time.Millisecond))
		// Nothing the cut-off node was asked was granted: mia, ned and
		// oda hold nothing; pia and run gave theirs back.
		if got := leases("cad"); len(got) != 0 {
			t.Errorf("the leader holds %v for cad, want none", got)
		}
		if pia == nil {
			return
		}
		for _, e := range lead.Journal() {
			if e.Kind == events.Checkout && e.User != "pia" && e.User != "runner" && e.Time.After(cut) {
				t.Errorf("a checkout for %s after the cut: %+v", e.User, e.Event)
			}
		}
	})

	// The stream never counted more seats in use than exist.
	for _, e := range lead.Journal() {
		if e.Kind == events.Checkout && e.InUse > e.Seats {
			t.Errorf("checkout at %d: in_use %d > seats %d", e.Seq, e.InUse, e.Seats)
		}
	}
}
