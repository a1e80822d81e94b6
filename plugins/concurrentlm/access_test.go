package concurrentlm

import (
	"bufio"
	"maps"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/licensegw/licensegw/sdk/sdktest"
)

// TestAccess serves the plugin with allow and status_allow as a gateway
// would hand them over: 127.0.0.2 is not admitted (TCP reset, UDP
// dropped), 127.0.0.1 checks out but is refused STATUS over TCP and UDP,
// 127.0.0.3 may ask STATUS.
func TestAccess(t *testing.T) {
	h := sdktest.Run(t, New(), newSeats(), nil,
		sdktest.WithAccess([]string{"127.0.0.1/32", "127.0.0.3"}, []string{"127.0.0.3/32"}))
	tcp, udp := h.Addr(ListenerTCP), h.Addr(ListenerUDP)
	deadline := time.Now().Add(20 * time.Second)

	ask := func(src string, lines ...string) ([]string, error) {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Deadline: deadline}
		c, err := d.Dial("tcp", tcp)
		if err != nil {
			return nil, err
		}
		defer c.Close()
		_ = c.SetDeadline(deadline)
		br := bufio.NewReader(c)
		var out []string
		for _, l := range lines {
			if _, err := c.Write([]byte(l + "\n")); err != nil {
				return out, err
			}
			got, err := br.ReadString('\n')
			if err != nil {
				return out, err
			}
			out = append(out, strings.TrimSpace(got))
			for strings.HasPrefix(got, "FEATURE ") { // the rest of a STATUS
				if got, err = br.ReadString('\n'); err != nil {
					return out, err
				}
			}
		}
		return out, nil
	}
	if got, err := ask("127.0.0.2", "PING"); err == nil {
		t.Errorf("127.0.0.2 was served: %q", got)
	}
	got, err := ask("127.0.0.1", "CHECKOUT feature=cad user=ann host=h1", "STATUS")
	if err != nil || !strings.HasPrefix(got[0], "GRANTED ") || !strings.HasPrefix(got[1], "ERR code=not-authorized ") {
		t.Errorf("from 127.0.0.1: %q %v, want GRANTED then ERR code=not-authorized", got, err)
	}
	if got, err := ask("127.0.0.3", "STATUS"); err != nil || !strings.HasPrefix(got[0], "FEATURE name=cad ") {
		t.Errorf("STATUS from 127.0.0.3: %q %v", got, err)
	}

	// UDP: .2's datagram goes first and is dropped; .1's STATUS is refused.
	datagram := func(src, msg string, wait time.Duration) (string, error) {
		c, err := net.ListenPacket("udp", src+":0")
		if err != nil {
			return "", err
		}
		defer c.Close()
		ua, _ := net.ResolveUDPAddr("udp", udp)
		if _, err := c.WriteTo([]byte(msg), ua); err != nil {
			return "", err
		}
		_ = c.SetReadDeadline(time.Now().Add(wait))
		buf := make([]byte, 1500)
		n, _, err := c.ReadFrom(buf)
		return string(buf[:n]), err
	}
	if got, err := datagram("127.0.0.2", "PING id=1", 100*time.Millisecond); err == nil {
		t.Errorf("127.0.0.2 got a UDP answer %q", got)
	}
	status := "STATUS feature=cad id=2 pad=" + strings.Repeat("x", 40)
	if got, err := datagram("127.0.0.1", status, 20*time.Second); err != nil || !strings.HasPrefix(got, "ERR code=not-authorized ") {
		t.Errorf("UDP STATUS from 127.0.0.1: %q %v", got, err)
	}

	// Every refusal counted (a reader goroutine may count a drop a moment
	// after another answered a later datagram: wait for it).
	want := map[string]float64{"access_denied_total/tcp": 1, "access_denied_total/udp": 1, "status_denied_total/": 2}
	for {
		got := map[string]float64{}
		for _, m := range h.Env.Metrics.Snapshot() {
			if _, ok := want[m.Name+"/"+m.Labels["listener"]]; ok {
				got[m.Name+"/"+m.Labels["listener"]] = m.Value
			}
		}
		if maps.Equal(got, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("refusals counted %v, want %v", got, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
