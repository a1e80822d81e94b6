package concurrentlm

import (
	"bufio"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/licensegw/licensegw/sdk/sdktest"
)

// FuzzLines sends arbitrary bytes as CLM/1 over TCP and as one UDP
// datagram to a plugin that reaches its seats through the real Seats
// session (protobuf encoding included), then checks that a new client is
// still served by the gateway: no input may end the session or the plugin.
func FuzzLines(f *testing.F) {
	for _, s := range []string{
		"CHECKOUT feature=cad user=u host=h id=1\n",
		"CHECKOUT feature=cad\xff user=u host=h id=1\n",
		"CHECKOUT feature=cad user=\xc3( host=h display=\"\x01\" id=2\n",
		"CHECKOUT feature=" + strings.Repeat("F", 4000) + " user=u host=h\n",
		"HEARTBEAT lease=\xed\xa0\x80\n",
		"STATUS vendor=a.*> id=3\n",
		"HELLO client=\xfe version=1\nPING\n",
	} {
		f.Add([]byte(s))
	}
	h := start(f, sdktest.Session(f, newSeats()), map[string]any{"rate": 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		nc, err := net.Dial("tcp", h.tcp)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		_, _ = nc.Write(b)
		_, _ = nc.Write([]byte("\nQUIT\n"))
		_ = nc.SetReadDeadline(time.Now().Add(5 * time.Second))
		r := bufio.NewReader(nc)
		for {
			if _, err := r.ReadString('\n'); err != nil {
				break
			}
		}
		if len(b) > 0 && len(b) < 1200 {
			u, err := net.Dial("udp", h.udp)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = u.Write(b)
			u.Close()
		}
		c := h.dial(t)
		if m := c.call("STATUS feature=cad id=alive"); m.Word != "FEATURE" {
			t.Fatalf("STATUS after the input: %+v", m)
		}
	})
}
