package loadgen_test

import (
	"bufio"
	"io"
	"net"
	"testing"
	"time"

	"github.com/licensegw/licensegw/plugins/concurrentlm/loadgen"
)

// TestServeEchoClosesOpenConnections: every accepted connection gets the
// handler; closing the listener closes the connections still open, so
// their handlers return, and ServeEcho returns after them.
func TestServeEchoClosesOpenConnections(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan struct{})
	go func() {
		defer close(served)
		loadgen.ServeEcho(ln, func(c net.Conn) { _, _ = io.Copy(c, c) })
	}()

	var clients []net.Conn
	for range 3 {
		c, err := net.DialTimeout("tcp", ln.Addr().String(), 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(30 * time.Second))
		if _, err := c.Write([]byte("ping\n")); err != nil {
			t.Fatal(err)
		}
		if line, err := bufio.NewReader(c).ReadString('\n'); err != nil || line != "ping\n" {
			t.Fatalf("echo = %q, %v", line, err)
		}
		clients = append(clients, c)
	}

	ln.Close()
	select {
	case <-served:
	case <-time.After(30 * time.Second):
		t.Fatal("ServeEcho still running 30 s after its listener closed")
	}
	for i, c := range clients {
		if n, err := c.Read(make([]byte, 1)); err != io.EOF {
			t.Errorf("client %d: read after ServeEcho returned = %d, %v; want EOF", i, n, err)
		}
	}
}
