package relay

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/licensegw/licensegw/sdk/sdktest"
)

// TestConnectionLimit: beyond max_connections a new connection waits until
// one closes, and is then served.
func TestConnectionLimit(t *testing.T) {
	seats := sdktest.NewSeats(sdktest.Feature{Name: "cad", Seats: 1})
	r := serve(t, seats, map[string]any{"max_connections": 2}, nil)
	addr := r.h.Addr(ListenerName)
	// waitHealthy's keep-alive connection may hold a slot: drop it.
	http.DefaultClient.CloseIdleConnections()
	var held []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		held = append(held, c)
		if got := rawOn(t, c, "GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n"); !strings.HasPrefix(got, "HTTP/1.1 200") {
			t.Fatalf("a connection within the limit: %q", got)
		}
	}
	third, err := net.Dial("tcp", addr) // the kernel accepts it; the server does not yet
	if err != nil {
		t.Fatal(err)
	}
	defer third.Close()
	io.WriteString(third, "GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
	third.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if n, _ := third.Read(make([]byte, 1)); n != 0 {
		t.Fatal("a connection beyond the limit was served")
	}
	held[0].Close()
	third.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, err := bufio.NewReader(third).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "HTTP/1.1 200") {
		t.Fatalf("after a slot freed: %q %v", line, err)
	}
}

// TestSlowClientDropped: a client that does not finish its headers within
// read_timeout loses its connection; others are served meanwhile.
func TestSlowClientDropped(t *testing.T) {
	seats := sdktest.NewSeats(sdktest.Feature{Name: "cad", Seats: 1})
	r := serve(t, seats, map[string]any{"read_timeout": 200 * time.Millisecond}, nil)
	c, err := net.Dial("tcp", r.h.Addr(ListenerName))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "PUT /v1/nodes/slow HTTP/1.1\r\nHost: x\r\n")
	if a := do(t, "PUT", r.base+NodesPrefix+"fast", ""); a.status != http.StatusCreated {
		t.Fatalf("another client meanwhile: %d", a.status)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	start := time.Now()
	b, _ := io.ReadAll(c)
	if time.Since(start) > 4*time.Second {
		t.Fatal("the slow connection was not closed")
	}
	if strings.Contains(string(b), "201") {
		t.Fatalf("the slow request was served: %q", b)
	}
}

// rawOn writes request on c and reads one answer's status line and
// headers.
func rawOn(t *testing.T, c net.Conn, request string) string {
	t.Helper()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, request); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.Proto + " " + resp.Status
}
