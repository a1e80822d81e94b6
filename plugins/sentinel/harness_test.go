package sentinel

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/licensegw/licensegw/plugins/sentinel/client"
	"github.com/licensegw/licensegw/sdk"
	"github.com/licensegw/licensegw/sdk/sdktest"
)

// fakeClock is a settable clock for expiry tests.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *fakeClock) Add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

// running is a plugin serving a loopback UDP socket.
type running struct {
	plugin *Plugin
	addr   string
}

// serve runs the plugin on 127.0.0.1 with seats and config values until
// the test ends, and checks that Serve then returns ctx's error.
func serve(t testing.TB, seats sdk.Seats, config map[string]any, now func() time.Time) *running {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := New().(*Plugin)
	if now != nil {
		p.now = now
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- p.Serve(ctx, &sdk.Env{
			Name:        "sentinel-test",
			Config:      sdk.NewConfig(config),
			PacketConns: map[string]net.PacketConn{ListenerName: conn},
			Seats:       seats,
		})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("Serve returned %v, want context.Canceled", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("Serve did not return after cancellation")
		}
	})
	return &running{plugin: p, addr: conn.LocalAddr().String()}
}

// dial returns a client of r with fast retransmits.
func (r *running) dial(t testing.TB, user string) *client.Client {
	t.Helper()
	c, err := client.Dial(r.addr, client.Options{User: user, Host: user + "-host", Timeout: 50 * time.Millisecond, MaxTimeout: 400 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// inUse is the feature's seats in use according to the gateway.
func inUse(t *testing.T, s sdk.Seats, feature string) int {
	t.Helper()
	fss, err := s.Status(context.Background(), sdk.StatusQuery{Feature: feature})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, fs := range fss {
		n += fs.InUse
	}
	return n
}

// slowSeats delays checkouts and counts them.
// slowSeats answers checkouts after delay or, when gate is set, once gate
// is closed; entered, when set, receives a value as each checkout starts.
type slowSeats struct {
	*sdktest.Seats
	delay     time.Duration
	gate      chan struct{}
	entered   chan struct{}
	checkouts atomic.Int64
}

func (s *slowSeats) Checkout(ctx context.Context, req sdk.CheckoutRequest) (*sdk.Checkout, error) {
	s.checkouts.Add(1)
	if s.entered != nil {
		s.entered <- struct{}{}
	}
	ready := s.gate
	if ready == nil {
		ready = make(chan struct{})
		timer := time.AfterFunc(s.delay, func() { close(ready) })
		defer timer.Stop()
	}
	select {
	case <-ready:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return s.Seats.Checkout(ctx, req)
}
