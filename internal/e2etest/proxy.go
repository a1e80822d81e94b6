package e2etest

import (
	"errors"
	"io"
	"net"
	"sync"
	"testing"
)

// Proxy forwards the TCP connections made to its address to a target
// address, until it is cut: then it carries nothing either way, as a
// network partition does (the bytes are read and dropped, nothing is
// closed), and the connections made meanwhile are held without being
// forwarded. Heal closes the connections that lived through the cut (their
// streams lost bytes) and forwards new ones again. A cluster's routes run
// through proxies so that a test can cut a node off (Cluster.Partition).
type Proxy struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	cut   bool
	conns map[*proxied]struct{}
	wg    sync.WaitGroup
}

// proxied is one client connection and, once dialled, its target's.
type proxied struct {
	client, server net.Conn
	cut            bool // lived through a cut: closed at Heal
}

// NewProxy listens on a free loopback port and forwards to target; it
// stops when the test ends.
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("proxy to %s: %v", target, err)
	}
	p := &Proxy{ln: ln, target: target, conns: map[*proxied]struct{}{}}
	p.wg.Go(p.serve)
	t.Cleanup(p.close)
	return p
}

// Addr is the proxy's address, host:port.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Cut stops carrying data, in both directions, on every connection.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = true
	for c := range p.conns {
		c.cut = true
	}
}

// Heal closes the connections that lived through the cut and forwards
// the connections made from now on.
func (p *Proxy) Heal() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = false
	for c := range p.conns {
		if c.cut {
			c.close()
			delete(p.conns, c)
		}
	}
}

func (p *Proxy) serve() {
	for {
		conn, err := p.ln.Accept()
		if err != nil {
			return
		}
		c := &proxied{client: conn}
		p.mu.Lock()
		c.cut = p.cut
		p.conns[c] = struct{}{}
		p.mu.Unlock()
		p.wg.Go(func() { p.forward(c) })
	}
}

// forward dials the target (unless the proxy is cut: then the client is
// held, its bytes dropped, until Heal closes it) and copies both ways.
func (p *Proxy) forward(c *proxied) {
	if p.isCut(c) {
		p.drain(c.client, c)
		return
	}
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		p.drop(c)
		return
	}
	p.mu.Lock()
	if _, ok := p.conns[c]; !ok { // closed meanwhile
		p.mu.Unlock()
		server.Close()
		return
	}
	c.server = server
	p.mu.Unlock()
	done := make(chan struct{}, 2)
	go func() { p.copy(server, c.client, c); done <- struct{}{} }()
	go func() { p.copy(c.client, server, c); done <- struct{}{} }()
	<-done
	p.drop(c)
	<-done
}

// copy forwards src to dst while the connection is not cut, and reads
// and drops what comes while it is.
func (p *Proxy) copy(dst, src net.Conn, c *proxied) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && !p.isCut(c) {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// drain reads and drops from conn until it is closed.
func (p *Proxy) drain(conn net.Conn, c *proxied) {
	_, _ = io.Copy(io.Discard, conn)
	p.drop(c)
}

func (p *Proxy) isCut(c *proxied) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return c.cut
}

// drop closes c and forgets it.
func (p *Proxy) drop(c *proxied) {
	p.mu.Lock()
	defer p.mu.Unlock()
	c.close()
	delete(p.conns, c)
}

func (c *proxied) close() {
	c.client.Close()
	if c.server != nil {
		c.server.Close()
	}
}

func (p *Proxy) close() {
	err := p.ln.Close()
	p.mu.Lock()
	for c := range p.conns {
		c.close()
		delete(p.conns, c)
	}
	p.mu.Unlock()
	if err == nil || errors.Is(err, net.ErrClosed) {
		p.wg.Wait()
	}
}
