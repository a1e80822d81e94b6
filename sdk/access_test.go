package sdk

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"
)

func TestParseAllowEntry(t *testing.T) {
	tests := []struct {
		in   string
		want string // the prefix, or "" for an error
	}{
		{"10.0.0.0/8", "10.0.0.0/8"},
		{"192.0.2.7", "192.0.2.7/32"},
		{"0.0.0.0/0", "0.0.0.0/0"},
		{"::1", "::1/128"},
		{"fd00::/8", "fd00::/8"},
		{"::ffff:10.0.0.0/104", "10.0.0.0/8"},
		{"::ffff:192.0.2.7", "192.0.2.7/32"},
		{"", ""},
		{"10.1.2.3/8", ""},     // host bits set
		{"192.168.0.0/33", ""}, // prefix too long
		{"ws-01", ""},
		{"10.0.0.0/8 ", ""},
		{"fe80::1%eth0", ""},
		{"fe80::/10%eth0", ""},
		{"::ffff:0.0.0.0/95", ""},
		{"10.0.0.0/-1", ""},
		{"010.0.0.1", ""},
	}
	for _, tt := range tests {
		p, err := ParseAllowEntry(tt.in)
		switch {
		case tt.want == "" && err == nil:
			t.Errorf("ParseAllowEntry(%q) = %v, want an error", tt.in, p)
		case tt.want != "" && err != nil:
			t.Errorf("ParseAllowEntry(%q): %v", tt.in, err)
		case tt.want != "" && p.String() != tt.want:
			t.Errorf("ParseAllowEntry(%q) = %v, want %s", tt.in, p, tt.want)
		}
	}
}

func TestAccessAdmits(t *testing.T) {
	a, err := NewAccess([]string{"127.0.0.1/32", "10.0.0.0/8", "fd00::/8"}, []string{"10.1.0.0/16"}, NewMetrics())
	if err != nil {
		t.Fatal(err)
	}
	tcp := func(s string) net.Addr { return net.TCPAddrFromAddrPort(netip.MustParseAddrPort(s)) }
	udp := func(s string) net.Addr { return net.UDPAddrFromAddrPort(netip.MustParseAddrPort(s)) }
	tests := []struct {
		addr           net.Addr
		client, status bool
	}{
		{tcp("127.0.0.1:5000"), true, false},
		{tcp("127.0.0.2:5000"), false, false},
		{udp("10.9.9.9:5000"), true, false},
		{udp("10.1.2.3:5000"), true, true},
		{tcp("[::ffff:10.1.2.3]:5000"), true, true}, // from a dual-stack socket
		{tcp("[fd00::7]:1"), true, false},
		{tcp("[fe80::7%eth0]:1"), false, false},
		{tcp("192.0.2.1:1"), false, false},
		{&net.UnixAddr{Name: "/tmp/x", Net: "unix"}, false, false},
		{nil, false, false},
	}
	for _, tt := range tests {
		if got := a.Allows(tt.addr); got != tt.client {
			t.Errorf("Allows(%v) = %v, want %v", tt.addr, got, tt.client)
		}
		if got := a.AllowsStatus(tt.addr); got != tt.status {
			t.Errorf("AllowsStatus(%v) = %v, want %v", tt.addr, got, tt.status)
		}
	}

	err = a.CheckStatus(tcp("127.0.0.1:5000"))
	var na *NotAuthorizedError
	if !errors.Is(err, ErrNotAuthorized) || !errors.As(err, &na) || na.Addr != "127.0.0.1:5000" || na.List != "status_allow" {
		t.Errorf("CheckStatus of a client outside status_allow: %v", err)
	}
	if err := a.CheckStatus(tcp("10.1.0.1:1")); err != nil {
		t.Errorf("CheckStatus of a monitoring host: %v", err)
	}
	if got := a.refused.Value(); got != 1 {
		t.Errorf("status_denied_total = %v, want 1", got)
	}

	// No lists, or no Access at all, admit everyone.
	for _, open := range []*Access{nil, mustAccess(t, nil, nil)} {
		if !open.Allows(tcp("192.0.2.1:1")) || !open.AllowsStatus(nil) || open.CheckStatus(nil) != nil || open.Restricted() {
			t.Errorf("%v does not admit everyone", open)
		}
	}
	if _, err := NewAccess([]string{"10.0.0.0/8", "nope"}, nil, nil); err == nil {
		t.Error("NewAccess accepted a bad allow entry")
	}
	if _, err := NewAccess(nil, []string{"1.2.3.4/40"}, nil); err == nil {
		t.Error("NewAccess accepted a bad status_allow entry")
	}
}

func mustAccess(t *testing.T, allow, status []string) *Access {
	t.Helper()
	a, err := NewAccess(allow, status, NewMetrics())
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestGuard: on real loopback sockets, a client from 127.0.0.2 is closed
// (TCP) or dropped (UDP) when only 127.0.0.1/32 is allowed, while one
// from 127.0.0.1 is served; refusals are counted per listener.
func TestGuard(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		ln.Close()
		t.Fatal(err)
	}
	m := NewMetrics()
	env := &Env{Listeners: map[string]net.Listener{"tcp": ln}, PacketConns: map[string]net.PacketConn{"udp": pc}}
	t.Cleanup(func() { closeEnv(env) })
	a, err := NewAccess([]string{"127.0.0.1/32"}, nil, m)
	if err != nil {
		t.Fatal(err)
	}
	a.Guard(env, nil)
	if env.Listeners["tcp"] == ln || env.PacketConns["udp"] == pc {
		t.Fatal("Guard left a socket unguarded")
	}

	// An echo server on each.
	go func() {
		for {
			c, err := env.Listeners["tcp"].Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				line, _ := bufio.NewReader(c).ReadString('\n')
				_, _ = c.Write([]byte(line))
			}()
		}
	}()
	go func() {
		buf := make([]byte, 64)
		for {
			n, from, err := env.PacketConns["udp"].ReadFrom(buf)
			if err != nil {
				return
			}
			_, _ = env.PacketConns["udp"].WriteTo(buf[:n], from)
		}
	}()

	deadline := time.Now().Add(20 * time.Second)
	tcpFrom := func(src string) error {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Deadline: deadline}
		c, err := d.Dial("tcp", ln.Addr().String())
		if err != nil {
			return err
		}
		defer c.Close()
		_ = c.SetDeadline(deadline)
		if _, err := c.Write([]byte("hi\n")); err != nil {
			return err
		}
		line, err := bufio.NewReader(c).ReadString('\n')
		if err == nil && line != "hi\n" {
			return errors.New("wrong echo " + line)
		}
		return err
	}
	if err := tcpFrom("127.0.0.1"); err != nil {
		t.Fatalf("TCP from 127.0.0.1: %v", err)
	}
	if err := tcpFrom("127.0.0.2"); err == nil {
		t.Fatal("TCP from 127.0.0.2 was served")
	}

	udpFrom := func(src string, wait time.Duration) error {
		c, err := net.ListenPacket("udp", src+":0")
		if err != nil {
			return err
		}
		defer c.Close()
		if _, err := c.WriteTo([]byte("ping"), pc.LocalAddr()); err != nil {
			return err
		}
		_ = c.SetReadDeadline(time.Now().Add(wait))
		buf := make([]byte, 64)
		_, _, err = c.ReadFrom(buf)
		return err
	}
	// The refused datagram is sent first: the allowed one's echo, read
	// by the same single reader after it, proves the refused one was
	// read and dropped rather than still queued.
	if err := udpFrom("127.0.0.2", 200*time.Millisecond); err == nil {
		t.Fatal("UDP from 127.0.0.2 was answered")
	}
	if err := udpFrom("127.0.0.1", 20*time.Second); err != nil {
		t.Fatalf("UDP from 127.0.0.1: %v", err)
	}

	want := map[string]float64{"tcp": 1, "udp": 1}
	for _, s := range m.Snapshot() {
		if s.Name == "access_denied_total" {
			if s.Value != want[s.Labels["listener"]] {
				t.Errorf("access_denied_total%v = %v, want %v", s.Labels, s.Value, want[s.Labels["listener"]])
			}
			delete(want, s.Labels["listener"])
		}
	}
	if len(want) > 0 {
		t.Errorf("no access_denied_total for %v", want)
	}
}

// BenchmarkAllows is the cost the allow list adds to every accepted
// connection and every datagram, for lists of 1 and 16 networks (the
// address admitted by the last one), beside no list at all.
func BenchmarkAllows(b *testing.B) {
	addr := net.UDPAddrFromAddrPort(netip.MustParseAddrPort("10.15.2.3:5093"))
	for _, n := range []int{0, 1, 16} {
		var list []string
		for i := range n {
			list = append(list, netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(16 - n + i), 0, 0}), 16).String())
		}
		a, err := NewAccess(list, nil, nil)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("networks=%d", n), func(b *testing.B) {
			for b.Loop() {
				if !a.Allows(addr) {
					b.Fatal("refused")
				}
			}
		})
	}
}
