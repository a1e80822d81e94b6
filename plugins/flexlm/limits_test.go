package flexlm

import (
	"bufio"
	"net"
	"testing"
	"time"

	"github.com/licensegw/licensegw/plugins/flexlm/wire"
	"github.com/licensegw/licensegw/sdk/sdktest"
)

func TestConnectionLimits(t *testing.T) {
	seats := sdktest.NewSeats(sdktest.Feature{Vendor: "acme", Name: "cad", Version: "1.0", Seats: 1})
	h := sdktest.Run(t, New(), seats, map[string]any{"max_connections_per_ip": 2, "idle_timeout": 300 * time.Millisecond})
	addr := h.Addr(ListenerVendor)
	var open []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		open = append(open, c)
	}
	// The third connection from this IP is refused with an ERROR frame.
	third, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer third.Close()
	_ = third.SetReadDeadline(time.Now().Add(5 * time.Second))
	f, err := wire.Read(bufio.NewReader(third))
	if err != nil {
		t.Fatalf("refused connection: %v", err)
	}
	if f.Type != wire.Error || f.GetInt(wire.TCode) != wire.CodeBusy {
		t.Fatalf("refusal frame %+v", f)
	}
	// Idle connections are closed after idle_timeout.
	_ = open[0].SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := open[0].Read(make([]byte, 1)); err == nil {
		t.Fatal("an idle connection was not closed")
	}
}
