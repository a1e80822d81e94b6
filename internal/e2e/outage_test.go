package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/licensegw/licensegw/gateway/admin"
	"github.com/licensegw/licensegw/gateway/events"
	"github.com/licensegw/licensegw/internal/e2etest"
)

// natsProcess is an external nats-server with JetStream, run as its own
// process so a test can kill it with SIGKILL and start it again on the same
// port and store.
type natsProcess struct {
	t     *testing.T
	addr  string
	store string
	cmd   *exec.Cmd
	done  chan struct{}
}

func startNATS(t *testing.T) *natsProcess {
	t.Helper()
	addr, err := e2etest.FreeTCPAddr()
	if err != nil {
		t.Fatal(err)
	}
	n := &natsProcess{t: t, addr: addr, store: t.TempDir()}
	n.start()
	t.Cleanup(n.kill)
	return n
}

func (n *natsProcess) url() string { return "nats://" + n.addr }

func (n *natsProcess) start() {
	n.t.Helper()
	host, port, _ := net.SplitHostPort(n.addr)
	n.cmd = exec.Command(bins.Path(natsBin), "-js", "-a", host, "-p", port, "-sd", n.store)
	n.cmd.Stdout, n.cmd.Stderr = os.Stderr, os.Stderr
	if err := n.cmd.Start(); err != nil {
		n.t.Fatal(err)
	}
	n.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) { _ = cmd.Wait(); close(done) }(n.cmd, n.done)
	e2etest.Eventually(n.t, 30*time.Second, "nats-server listening", func() error {
		c, err := net.DialTimeout("tcp", n.addr, time.Second)
		if err == nil {
			c.Close()
		}
		return err
	})
}

func (n *natsProcess) kill() {
	if n.cmd == nil || n.cmd.Process == nil {
		return
	}
	_ = n.cmd.Process.Signal(syscall.SIGKILL)
	<-n.done
	n.cmd = nil
}

// outcome is what one client saw for one CHECKOUT.
type outcome struct {
	sent, answered time.Time
	verb, code     string
	lease          string
}

// TestNATSOutage kills the external NATS server under load (issue 8): every
// client gets "unavailable" within the bound, nothing answered GRANTED is
// lost or duplicated, /readyz says 503 and then 200, service resumes by
// itself, and SIGTERM stops a gateway whose NATS is down within its grace.
func TestNATSOutage(t *testing.T) {
	t.Parallel()
	const (
		clients = 8
		outage  = 8 * time.Second // long enough to show the 5 s bound
		bound   = 5 * time.Second // ledger.DefaultWait
	)
	nats := startNATS(t)
	g := StartGateway(t, `
feature "cad" {
  seats     = 100000
  lease_ttl = "1h"
}
`, WithNATS(nats.url()))

	var (
		mu       sync.Mutex
		outcomes []outcome
		stop     = make(chan struct{})
		wg       sync.WaitGroup
	)
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := g.Dial()
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				o := outcome{sent: time.Now()}
				r, err := c.do("CHECKOUT feature=cad user=u" + strconv.Itoa(i) + " host=h")
				o.answered = time.Now()
				if err != nil {
					o.verb = "error: " + err.Error()
				} else {
					o.verb, o.code, o.lease = r.Verb, r.Get("code"), r.Get("lease")
				}
				mu.Lock()
				outcomes = append(outcomes, o)
				mu.Unlock()
				if err != nil {
					return
				}
				if o.verb != "GRANTED" {
					time.Sleep(20 * time.Millisecond) // a client's retry pace
				}
			}
		}()
	}

	time.Sleep(time.Second)
	nats.kill()
	killed := time.Now()
	e2etest.Eventually(t, bound+2*time.Second, "/readyz 503 with NATS down", func() error {
		if code := readyz(g); code != http.StatusServiceUnavailable {
			return fmt.Errorf("/readyz %d", code)
		}
		return nil
	})
	time.Sleep(outage - time.Since(killed))
	nats.start()
	restarted := time.Now()
	e2etest.Eventually(t, 60*time.Second, "/readyz 200 after NATS is back", func() error {
		if code := readyz(g); code != http.StatusOK {
			return fmt.Errorf("/readyz %d", code)
		}
		return nil
	})
	ready := time.Since(restarted)
	// Service resumes by itself: every client is granted again.
	e2etest.Eventually(t, 60*time.Second, "every client granted after the outage", func() error {
		mu.Lock()
		defer mu.Unlock()
		seen := 0
		for _, o := range outcomes {
			if o.verb == "GRANTED" && o.sent.After(restarted) {
				seen++
			}
		}
		if seen < clients {
			return fmt.Errorf("%d grants since NATS came back", seen)
		}
		return nil
	})
	close(stop)
	wg.Wait()

	// Every answer during the outage came within the bound, and was
	// GRANTED (acknowledged before the kill) or unavailable.
	var granted []string
	var unavailable int
	var firstUnavailable, slowest time.Duration
	for _, o := range outcomes {
		took := o.answered.Sub(o.sent)
		switch {
		case o.verb == "GRANTED":
			granted = append(granted, o.lease)
		case o.verb == "ERR" && o.code == "unavailable":
			unavailable++
			if d := o.answered.Sub(killed); firstUnavailable == 0 || d < firstUnavailable {
				firstUnavailable = d
			}
		default:
			t.Errorf("answer %s %s after %v", o.verb, o.code, took)
		}
		if o.sent.After(killed.Add(-time.Second)) && o.sent.Before(restarted) {
			slowest = max(slowest, took)
		}
	}
	if unavailable == 0 {
		t.Fatal("no client got ERR code=unavailable while NATS was down")
	}
	if slowest > bound+2*time.Second {
		t.Errorf("an answer during the outage took %v, bound %v", slowest, bound)
	}
	t.Logf("outage %v: %d granted, %d unavailable; first unavailable %v after the kill; slowest answer in the outage %v; /readyz ready %v after restart",
		outage, len(granted), unavailable, firstUnavailable.Round(time.Millisecond), slowest.Round(time.Millisecond), ready.Round(time.Millisecond))

	// Nothing granted is lost or stored twice.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	evs, err := e2etest.ReadEvents(ctx, nats.url())
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string]int{}
	for _, ev := range e2etest.Kinds(evs, events.Checkout) {
		stored[ev.Lease]++
	}
	for _, l := range granted {
		if stored[l] != 1 {
			t.Errorf("granted lease %s is in the stream %d times", l, stored[l])
		}
	}
	leases := g.Feature("cad").Leases
	for _, l := range granted {
		if !slices.ContainsFunc(leases, func(x admin.Lease) bool { return x.ID == l }) {
			t.Errorf("granted lease %s not held by the gateway", l)
		}
	}

	// SIGTERM with NATS down: the gateway stops within its grace.
	nats.kill()
	err, took := g.Terminate()
	t.Logf("SIGTERM with NATS down: exited after %v (%v)", took.Round(time.Millisecond), err)
	if took > 35*time.Second {
		t.Errorf("SIGTERM took %v with NATS down", took)
	}
}

func readyz(g *Gateway) int {
	resp, err := http.Get("http://" + g.AdminAddr + "/readyz")
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}
