package vendors

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/licensegw/licensegw/internal/e2etest"
	flexwire "github.com/licensegw/licensegw/plugins/flexlm/wire"
)

// idleConfig lets one IP hold many connections to both TCP plugins.
var idleConfig = `
feature "pool" {
  vendor = "zeta"
  seats  = 10
}

plugin "flexlm" {
  path   = "{{.Bin "licensegw-flexlm"}}"
  listen = { lmgrd = "{{.TCP "lmgrd"}}", vendor = "{{.TCP "vendor"}}" }
  config {
    vendors                = ["zeta"]
    max_connections        = 20000
    max_connections_per_ip = 20000
  }
}
` + e2etest.ConcurrentLMPlugin(`
    max_connections        = 20000
    max_connections_per_ip = 20000
    rate                   = 0
`)

// maxIdleBytes bounds a plugin's resident memory per idle connection (a
// goroutine's stack and the connection's read and write buffers).
const maxIdleBytes = 32 << 10

// TestIdleConnectionMemory holds up to 10,000 idle connections (fewer
// when the file descriptor limit is lower) to each TCP plugin, each having
// said hello once, and checks the plugin process's resident memory per
// connection. Sentinel-style is datagrams only: it has no connections.
func TestIdleConnectionMemory(t *testing.T) {
	n := idleConnections(t, 10000)
	g := e2etest.Start(t, e2etest.Options{Bins: bins, Config: idleConfig})
	pid := map[string]int{}
	for _, p := range g.Status().Plugins {
		pid[p.Name] = p.PID
	}

	clmHello := []byte("PING\n")
	t.Run("concurrent-lm", func(t *testing.T) {
		perConn := idleRSS(t, pid["concurrentlm"], g.Addr(e2etest.CLMAddr), n, func(c net.Conn, r *bufio.Reader) error {
			if _, err := c.Write(clmHello); err != nil {
				return err
			}
			line, err := r.ReadString('\n')
			if err == nil && line != "PONG\n" {
				err = fmt.Errorf("answer %q", line)
			}
			return err
		})
		t.Logf("concurrent-lm: %d idle connections, %d bytes RSS each", n, perConn)
	})
	hello, err := flexwire.New(flexwire.Hello, 1).Encode()
	if err != nil {
		t.Fatal(err)
	}
	t.Run("flexlm", func(t *testing.T) {
		perConn := idleRSS(t, pid["flexlm"], g.Addr("vendor"), n, func(c net.Conn, r *bufio.Reader) error {
			if _, err := c.Write(hello); err != nil {
				return err
			}
			f, err := flexwire.Read(r)
			if err == nil && f.Type != flexwire.HelloOK {
				err = fmt.Errorf("answer %v", f)
			}
			return err
		})
		t.Logf("flexlm: %d idle connections, %d bytes RSS each", n, perConn)
	})
}

// idleConnections is how many connections the test can hold: want, or
// fewer under the file descriptor limit (raised to its hard maximum).
func idleConnections(t *testing.T, want int) int {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	if lim.Cur < lim.Max {
		lim.Cur = lim.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
		_ = syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim)
	}
	n := min(want, int(lim.Cur)-1000)
	if n < 1000 {
		t.Skipf("file descriptor limit %d is too low to hold 1,000 connections", lim.Cur)
	}
	return n
}

// idleRSS opens n connections to addr, says hello on each, and returns the
// growth of pid's resident memory per connection, failing the test above
// maxIdleBytes.
func idleRSS(t *testing.T, pid int, addr string, n int, hello func(net.Conn, *bufio.Reader) error) int {
	t.Helper()
	before := rss(t, pid)
	conns := make([]net.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := range n {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		conns = append(conns, c)
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		if err := hello(c, bufio.NewReaderSize(c, 64)); err != nil {
			t.Fatalf("connection %d: hello: %v", i, err)
		}
	}
	time.Sleep(time.Second) // let the runtime settle
	after := rss(t, pid)
	perConn := (after - before) / n
	if perConn > maxIdleBytes {
		t.Errorf("%d idle connections grew the plugin's RSS from %d to %d bytes: %d each, over %d", n, before, after, perConn, maxIdleBytes)
	}
	return perConn
}

// rss is a process's resident set size in bytes, from /proc.
func rss(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			if err != nil {
				t.Fatalf("VmRSS %q: %v", v, err)
			}
			return kb << 10
		}
	}
	t.Fatalf("no VmRSS in /proc/%d/status", pid)
	return 0
}
