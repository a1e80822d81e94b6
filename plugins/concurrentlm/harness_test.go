package concurrentlm

import (
	"bufio"
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/licensegw/licensegw/plugins/concurrentlm/wire"
	"github.com/licensegw/licensegw/sdk"
	"github.com/licensegw/licensegw/sdk/sdktest"
)

// harness runs the plugin on real loopback sockets via sdktest.Run.
type harness struct {
	tcp, udp string
	seats    sdk.Seats
}

// start serves the plugin with seats and config values until the test ends.
func start(t testing.TB, seats sdk.Seats, cfg map[string]any) *harness {
	t.Helper()
	h := sdktest.Run(t, New(), seats, cfg)
	return &harness{tcp: h.Addr(ListenerTCP), udp: h.Addr(ListenerUDP), seats: seats}
}

// feature is the default pool of the tests: 2 seats, queueing.
func newSeats(fs ...sdktest.Feature) *sdktest.Seats {
	if len(fs) == 0 {
		fs = []sdktest.Feature{{Vendor: "acme", Name: "cad", Version: "2.0", Seats: 2, Queue: true}}
	}
	return sdktest.NewSeats(fs...)
}

// client is a raw line client for tests.
type client struct {
	t  testing.TB
	nc net.Conn
	br *bufio.Reader
}

func (h *harness) dial(t testing.TB) *client {
	t.Helper()
	nc, err := net.Dial("tcp", h.tcp)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return &client{t: t, nc: nc, br: bufio.NewReader(nc)}
}

// dialFrom connects from another loopback address (Linux routes all of
// 127.0.0.0/8 to the loopback interface), for per-address limits.
func (h *harness) dialFrom(t testing.TB, ip string) *client {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	nc, err := d.Dial("tcp", h.tcp)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return &client{t: t, nc: nc, br: bufio.NewReader(nc)}
}

func (c *client) send(lines ...string) {
	c.t.Helper()
	if _, err := c.nc.Write([]byte(strings.Join(lines, "\n") + "\n")); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// recv reads one line (without LF), failing the test after 5 s.
func (c *client) recv() string {
	c.t.Helper()
	line, err := c.recvErr(5 * time.Second)
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return line
}

func (c *client) recvErr(d time.Duration) (string, error) {
	_ = c.nc.SetReadDeadline(time.Now().Add(d))
	line, err := c.br.ReadString('\n')
	if err != nil {
		return line, err
	}
	return strings.TrimSuffix(line, "\n"), nil
}

// msg reads one line and parses it.
func (c *client) msg() wire.Message {
	c.t.Helper()
	line := c.recv()
	m, err := wire.ParseMessage(line)
	if err != nil {
		c.t.Fatalf("bad line %q: %v", line, err)
	}
	return m
}

// call sends one line and parses the answer.
func (c *client) call(line string) wire.Message {
	c.t.Helper()
	c.send(line)
	return c.msg()
}

// expectClosed waits for the server to close the connection.
func (c *client) expectClosed() {
	c.t.Helper()
	for {
		line, err := c.recvErr(5 * time.Second)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				c.t.Fatalf("connection still open")
			}
			return
		}
		c.t.Logf("(draining %q)", line)
	}
}

func want(t testing.TB, m wire.Message, word string, kv ...string) {
	t.Helper()
	if m.Word != word {
		t.Fatalf("got %s %+v, want %s", m.Word, m.Pairs, word)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if got, ok := m.Lookup(kv[i]); !ok || got != kv[i+1] {
			t.Fatalf("%s: %s=%q (present %v), want %q; line %+v", word, kv[i], got, ok, kv[i+1], m.Pairs)
		}
	}
}

// udpClient sends datagrams.
type udpClient struct {
	t  testing.TB
	pc net.Conn
}

func (h *harness) udpDial(t testing.TB) *udpClient {
	t.Helper()
	pc, err := net.Dial("udp", h.udp)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	return &udpClient{t: t, pc: pc}
}

// exchange sends d and returns the answer, or "" when none comes.
func (u *udpClient) exchange(d string, wait time.Duration) string {
	u.t.Helper()
	if _, err := u.pc.Write([]byte(d)); err != nil {
		u.t.Fatal(err)
	}
	buf := make([]byte, 65536)
	_ = u.pc.SetReadDeadline(time.Now().Add(wait))
	n, err := u.pc.Read(buf)
	if err != nil {
		return ""
	}
	return string(buf[:n])
}

// scripted wraps a Seats to answer Checkout with a fixed denial, or to
// slow calls down.
type scripted struct {
	sdk.Seats
	mu     sync.Mutex
	denial *sdk.Denial
	delay  func(feature string) time.Duration
}

func (s *scripted) Checkout(ctx context.Context, req sdk.CheckoutRequest) (*sdk.Checkout, error) {
	s.mu.Lock()
	d, delay := s.denial, s.delay
	s.mu.Unlock()
	if delay != nil {
		time.Sleep(delay(req.Feature))
	}
	if d != nil {
		return &sdk.Checkout{Outcome: sdk.Denied, Denial: d}, nil
	}
	return s.Seats.Checkout(ctx, req)
}

func (s *scripted) deny(d *sdk.Denial) {
	s.mu.Lock()
	s.denial = d
	s.mu.Unlock()
}

func inUse(t testing.TB, s sdk.Seats, feature string) (inUse, queued int) {
	t.Helper()
	fs, err := s.Status(context.Background(), sdk.StatusQuery{Feature: feature})
	if err != nil || len(fs) == 0 {
		t.Fatalf("Status: %v %v", fs, err)
	}
	return fs[0].InUse, fs[0].Queued
}

// eventually polls cond for up to 5 s.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}
