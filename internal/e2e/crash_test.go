package e2e

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/licensegw/licensegw/gateway/events"
	"github.com/licensegw/licensegw/internal/e2etest"
)

// TestPluginKilled kills the plugin process with SIGKILL while clients hold
// leases: the port keeps accepting connections (the gateway owns the
// listening socket), the plugin is restarted, and the leases survive.
func TestPluginKilled(t *testing.T) {
	t.Parallel()
	g := StartGateway(t, `
feature "cad" {
  seats = 4
}
`)
	leases := []string{
		g.Dial().checkout("cad", "alice", "ws-01"),
		g.Dial().checkout("cad", "bob", "ws-02"),
	}
	old := g.Plugin()
	if old.PID == 0 {
		t.Fatalf("plugin has no pid in admin status: %+v", old)
	}
	if err := syscall.Kill(old.PID, syscall.SIGKILL); err != nil {
		t.Fatalf("kill plugin %d: %v", old.PID, err)
	}

	// During the restart window, connections are accepted (they wait in
	// the backlog) and answered once the new plugin serves.
	var waiting []net.Conn
	for range 5 {
		c, err := net.DialTimeout("tcp", g.CLMAddr, 2*time.Second)
		if err != nil {
			t.Fatalf("connect while the plugin restarts: %v", err)
		}
		t.Cleanup(func() { c.Close() })
		waiting = append(waiting, c)
		time.Sleep(20 * time.Millisecond)
	}
	for i, c := range waiting {
		cn := &Conn{t: t, c: c, r: bufio.NewReader(c)}
		r, err := cn.do("PING")
		if err != nil {
			t.Errorf("connection %d made during the restart: %v", i, err)
			continue
		}
		expect(t, r, "PONG")
	}

	e2etest.Eventually(t, 30*time.Second, "plugin restarted", func() error {
		p := g.Plugin()
		if p.State != "running" || p.Restarts < 1 || p.PID == old.PID || p.PID == 0 {
			return fmt.Errorf("plugin %+v", p)
		}
		return nil
	})
	c := g.Dial()
	for _, l := range leases {
		expect(t, c.Do("HEARTBEAT lease="+l), "OK", "lease", l)
	}
	if f := g.Feature("cad"); f.InUse != 2 {
		t.Errorf("admin in_use=%d after the plugin restart, want 2", f.InUse)
	}
	if subjects := g.Subjects(); !slices.Contains(subjects, "licensegw.plugins.concurrentlm.exited") {
		t.Errorf("no plugin exited message in the stream: %v", subjects)
	}
}

// loadResult is what the load clients saw before the gateway died.
type loadResult struct {
	mu        sync.Mutex
	held      map[string]bool // GRANTED received, no CHECKIN sent
	uncertain map[string]bool // CHECKIN sent, answer lost
	released  map[string]bool // CHECKIN answered OK
	grants    int
	denials   int
}

// loadClient checks leases out continuously, keeping at most three and
// checking the oldest in, until its connection fails.
func loadClient(g *Gateway, user string, res *loadResult) {
	c, err := net.DialTimeout("tcp", g.CLMAddr, 5*time.Second)
	if err != nil {
		return
	}
	defer c.Close()
	cn := &Conn{c: c, r: bufio.NewReader(c)}
	var mine []string
	for {
		r, err := cn.do("CHECKOUT feature=load user=" + user + " host=h")
		if err != nil {
			return
		}
		res.mu.Lock()
		switch r.Verb {
		case "GRANTED":
			res.grants++
			res.held[r.Get("lease")] = true
			mine = append(mine, r.Get("lease"))
		case "DENIED":
			res.denials++
		}
		res.mu.Unlock()
		if len(mine) < 3 {
			continue
		}
		l := mine[0]
		mine = mine[1:]
		res.mu.Lock()
		delete(res.held, l)
		res.uncertain[l] = true
		res.mu.Unlock()
		r, err = cn.do("CHECKIN lease=" + l)
		if err != nil {
			return
		}
		if r.Verb == "OK" {
			res.mu.Lock()
			delete(res.uncertain, l)
			res.released[l] = true
			res.mu.Unlock()
		}
	}
}

// TestGatewayKilledUnderLoad kills the gateway with SIGKILL while eight
// clients check out and in, restarts it, and checks that every lease a
// client was granted is back and that the stream is consistent.
func TestGatewayKilledUnderLoad(t *testing.T) {
	t.Parallel()
	const seats = 20
	g := StartGateway(t, fmt.Sprintf(`
feature "load" {
  seats = %d
}
`, seats))
	res := &loadResult{held: map[string]bool{}, uncertain: map[string]bool{}, released: map[string]bool{}}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() { loadClient(g, fmt.Sprintf("u%d", i), res) })
	}
	time.Sleep(1500 * time.Millisecond)
	pluginPID := g.Plugin().PID
	g.Kill()
	wg.Wait()
	res.mu.Lock()
	t.Logf("before the kill: %d grants, %d denials; %d leases held, %d check-ins unanswered",
		res.grants, res.denials, len(res.held), len(res.uncertain))
	if res.grants < 20 {
		t.Errorf("only %d grants in 1.5s of load", res.grants)
	}
	res.mu.Unlock()

	// The plugin must not outlive its gateway: it holds the listening
	// sockets it inherited.
	gone := func() error {
		if err := syscall.Kill(pluginPID, 0); !errors.Is(err, syscall.ESRCH) {
			if p, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pluginPID)); len(p) > 0 && !zombie(p) {
				return fmt.Errorf("plugin %d still running", pluginPID)
			}
		}
		return nil
	}
	e2etest.Eventually(t, 15*time.Second, "orphaned plugin exits", gone)

	g.Restart()
	st := g.Status()
	inStatus := map[string]bool{}
	for _, f := range st.Features {
		for _, l := range f.Leases {
			inStatus[l.ID] = true
		}
	}
	c := g.Dial()
	for l := range res.held {
		if !inStatus[l] {
			t.Errorf("granted lease %s is not in the restarted gateway's status", l)
		}
		if r := c.Do("HEARTBEAT lease=" + l); r.Verb != "OK" {
			t.Errorf("granted lease %s after the restart: %q", l, r.Line)
		}
	}
	for l := range inStatus {
		if res.released[l] {
			t.Errorf("lease %s, checked in before the kill, is back after the restart", l)
		}
	}
	if f := g.Feature("load"); f.InUse > seats || f.InUse != len(f.Leases) {
		t.Errorf("admin after the restart: in_use=%d seats=%d leases=%d", f.InUse, f.Seats, len(f.Leases))
	}

	evs := filterEvents(g.Events(), events.Checkout, "load")
	byID := map[string]int{}
	byLease := map[string]int{}
	for _, e := range evs {
		byID[e.ID]++
		byLease[e.Lease]++
		if e.InUse > e.Seats {
			t.Errorf("checkout event %s has in_use=%d > seats=%d", e.ID, e.InUse, e.Seats)
		}
	}
	for id, n := range byID {
		if n > 1 {
			t.Errorf("checkout event %s is %d times in the stream", id, n)
		}
	}
	for l, n := range byLease {
		if n > 1 {
			t.Errorf("lease %s has %d checkout events", l, n)
		}
	}
	for l := range res.held {
		if byLease[l] == 0 {
			t.Errorf("granted lease %s has no checkout event", l)
		}
	}
	for l := range inStatus {
		if byLease[l] == 0 {
			t.Errorf("lease %s in the restarted gateway has no checkout event", l)
		}
	}
	t.Logf("stream: %d checkout events", len(evs))
}

// zombie reports whether a /proc/<pid>/stat line is a zombie's (dead, not
// yet reaped).
func zombie(stat []byte) bool {
	for i := len(stat) - 1; i > 0; i-- {
		if stat[i] == ')' {
			return i+2 < len(stat) && stat[i+2] == 'Z'
		}
	}
	return false
}

// TestCrashDropsConnectionState: queue tickets and bind=conn leases belong
// to their TCP connection. When a crash closes the connection (plugin or
// gateway killed), they must end: a ticket that nobody waits on must not
// take the next free seat, and a bound lease must not hold one.
func TestCrashDropsConnectionState(t *testing.T) {
	t.Parallel()
	crashes := []struct {
		name  string
		crash func(g *Gateway)
	}{
		{"plugin killed", func(g *Gateway) { g.KillPlugin("concurrentlm", 30*time.Second) }},
		{"gateway killed", func(g *Gateway) {
			g.Kill()
			g.Restart()
		}},
		{"gateway stopped", func(g *Gateway) {
			g.Stop()
			g.Restart()
		}},
	}
	for _, tc := range crashes {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := StartGateway(t, `
feature "queued" {
  seats = 1
  queue {}
}
feature "bound" {
  seats = 1
}
`)
			holder := g.Dial().checkout("queued", "holder", "h")
			waiter := g.Dial()
			expect(t, waiter.Do("CHECKOUT feature=queued user=waiter host=h wait=600"), "QUEUED")
			expect(t, g.Dial().Do("CHECKOUT feature=bound user=b host=h bind=conn"), "GRANTED")

			tc.crash(g)

			c := g.Dial()
			expect(t, c.Do("CHECKIN lease="+holder), "OK", "lease", holder)
			e2etest.Eventually(t, 10*time.Second, "the orphaned ticket gone", func() error {
				if q := g.Feature("queued"); q.Queued != 0 || q.InUse != 0 {
					return fmt.Errorf("in_use=%d queued=%d leases=%+v", q.InUse, q.Queued, q.Leases)
				}
				return nil
			})
			expect(t, c.Do("CHECKOUT feature=queued user=next host=h"), "GRANTED")

			// The bound lease's connection is closed too; it must not
			// hold its seat until its TTL runs out.
			var last string
			deadline := time.Now().Add(5 * time.Second)
			for time.Now().Before(deadline) {
				if last = c.Do("CHECKOUT feature=bound user=next host=h").Line; strings.HasPrefix(last, "GRANTED ") {
					return
				}
				time.Sleep(250 * time.Millisecond)
			}
			t.Errorf("bind=conn lease outlived its connection: the seat is still taken after the %s: %q", tc.name, last)
		})
	}
}
