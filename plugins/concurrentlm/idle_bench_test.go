package concurrentlm

import (
	"bufio"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/licensegw/licensegw/sdk/sdktest"
)

// BenchmarkIdleConnections measures the memory one idle client costs the
// plugin: 9,500 TCP clients connect (both ends live in this process, so
// 10,000 would need more than the 20,000 descriptors ulimit -n commonly
// allows), each once asks PING (so its
// connection is set up as a working one), then stay idle. The same number
// of clients held open by a bare listener that only accepts (no goroutine,
// no buffer) gives the baseline: the kernel-facing objects of both ends,
// which every server pays. The difference per client, in heap and stacks,
// is reported as plugin-B/conn. Needs 19,100 file descriptors (ulimit -n).
func BenchmarkIdleConnections(b *testing.B) {
	const n = 9_500
	for b.Loop() {
		addr, stop := bareListener(b)
		base, release := idleCost(b, n, addr, false)
		release()
		stop()
		h := start(b, sdktest.NewSeats(), map[string]any{"rate": 0, "max_connections": n + 10, "max_connections_per_ip": n + 10})
		plugin, release := idleCost(b, n, h.tcp, true)
		defer release()
		b.ReportMetric(float64(plugin.total()-base.total())/n, "plugin-B/conn")
		b.ReportMetric(float64(plugin.heap-base.heap)/n, "plugin-heap-B/conn")
		b.ReportMetric(float64(plugin.stack-base.stack)/n, "plugin-stack-B/conn")
		b.ReportMetric(float64(base.total())/n, "baseline-B/conn")
	}
}

// bareListener accepts and holds connections until stopped.
func bareListener(b *testing.B) (string, func()) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	var mu sync.Mutex
	var held []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
		}
	}()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			ln.Close()
			<-done
			mu.Lock()
			for _, c := range held {
				c.Close()
			}
			mu.Unlock()
		})
	}
	b.Cleanup(stop)
	return ln.Addr().String(), stop
}

// idleCost connects n clients to addr, each asks one PING when ping is
// set, and returns how much heap and stack memory grew, and what closes
// the clients.
func idleCost(b *testing.B, n int, addr string, ping bool) (mem, func()) {
	before := memInUse()
	conns := make([]net.Conn, 0, n)
	release := func() {
		for _, c := range conns {
			c.Close()
		}
		conns = conns[:0]
	}
	b.Cleanup(release)
	for range n {
		c, err := net.DialTimeout("tcp", addr, 10*time.Second)
		if err != nil {
			b.Fatalf("after %d connections: %v", len(conns), err)
		}
		conns = append(conns, c)
	}
	if ping {
		// Every connection answers a PING, so its serving side is set up.
		for _, c := range conns {
			_ = c.SetDeadline(time.Now().Add(30 * time.Second))
			if _, err := c.Write([]byte("PING\n")); err != nil {
				b.Fatal(err)
			}
		}
		for _, c := range conns {
			if _, err := bufio.NewReaderSize(c, 16).ReadSlice('\n'); err != nil {
				b.Fatal(err)
			}
		}
	}
	after := memInUse()
	return mem{heap: after.heap - before.heap, stack: after.stack - before.stack}, release
}

// mem is memory in use: heap and goroutine stacks.
type mem struct{ heap, stack int64 }

func (m mem) total() int64 { return m.heap + m.stack }

// memInUse is the heap and goroutine stacks in use, after a collection.
func memInUse() mem {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return mem{heap: int64(m.HeapInuse), stack: int64(m.StackInuse)}
}
