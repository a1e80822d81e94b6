package loadgen

import (
	"net"
	"sync"
)

// ServeEcho accepts connections on ln until it is closed, running handle
// on each in a goroutine of its own, and returns once every handler has
// returned. Closing ln also closes the connections still open, so that
// handlers blocked reading them return. Each connection is closed when its
// handler returns. The echo servers of the load generators (a line echo
// here, a raw TCP echo for the FlexLM-style protocol) differ only in
// handle.
func ServeEcho(ln net.Listener, handle func(net.Conn)) {
	var wg sync.WaitGroup
	defer wg.Wait()
	var mu sync.Mutex
	conns := map[net.Conn]struct{}{}
	defer func() {
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
	}()
	for {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		mu.Lock()
		conns[nc] = struct{}{}
		mu.Unlock()
		wg.Go(func() {
			defer func() { mu.Lock(); delete(conns, nc); mu.Unlock(); nc.Close() }()
			handle(nc)
		})
	}
}
