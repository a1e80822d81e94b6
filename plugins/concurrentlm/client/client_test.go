package client

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/licensegw/licensegw/plugins/concurrentlm"
	"github.com/licensegw/licensegw/sdk"
	"github.com/licensegw/licensegw/sdk/sdktest"
)

// gateway serves the real plugin over loopback with an in-memory Seats.
func gateway(t *testing.T, fs ...sdktest.Feature) (*sdktest.Seats, string) {
	t.Helper()
	seats := sdktest.NewSeats(fs...)
	h := sdktest.Run(t, concurrentlm.New(), seats, nil)
	return seats, h.Addr(concurrentlm.ListenerTCP)
}

func pinnedKey(t *testing.T, s sdk.Seats) ed25519.PublicKey {
	t.Helper()
	k, err := s.PublicKey(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func dial(t *testing.T, addr string, opts Options) *Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := Dial(ctx, addr, opts)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func leases(t *testing.T, s sdk.Seats, feature string) (inUse, queued int) {
	t.Helper()
	fs, err := s.Status(context.Background(), sdk.StatusQuery{Feature: feature})
	if err != nil || len(fs) != 1 {
		t.Fatalf("Status: %v %v", fs, err)
	}
	return fs[0].InUse, fs[0].Queued
}

func TestCheckoutSignedAndCheckin(t *testing.T) {
	seats, addr := gateway(t, sdktest.Feature{Name: "cad", Seats: 1})
	c := dial(t, addr, Options{PublicKey: pinnedKey(t, seats), Name: "test"})
	if c.TTL() != 120*time.Second || !c.ServerKey().Equal(pinnedKey(t, seats)) {
		t.Fatalf("HELLO: ttl %v key %x", c.TTL(), c.ServerKey())
	}
	ctx := context.Background()
	l, err := c.Checkout(ctx, CheckoutOptions{Feature: "cad", User: "alice", Host: "ws-01"})
	if err != nil {
		t.Fatalf("Checkout: %v", err)
	}
	if l.Feature != "cad" || l.Count != 1 || l.TTL != 2*time.Minute || time.Until(l.Expires()) < time.Minute {
		t.Fatalf("lease %+v", l)
	}
	_, err = c.Checkout(ctx, CheckoutOptions{Feature: "cad", User: "bob", Host: "ws-02"})
	var d *DeniedError
	if !errors.As(err, &d) || d.Reason != "no-seats" || d.InUse != 1 || d.Seats != 1 {
		t.Fatalf("second checkout: %v", err)
	}
	if err := l.Checkin(ctx); err != nil {
		t.Fatalf("Checkin: %v", err)
	}
	if l.Err() != nil {
		t.Errorf("Err after Checkin: %v", l.Err())
	}
	if n, _ := leases(t, seats, "cad"); n != 0 {
		t.Fatalf("in use %d after Checkin", n)
	}
	st, err := c.Status(ctx, "cad", "")
	if err != nil || len(st) != 1 || st[0].Seats != 1 || !st[0].Expires.IsZero() {
		t.Fatalf("Status: %+v %v", st, err)
	}
	if err := c.Ping(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestPinnedKeyMismatch(t *testing.T) {
	_, addr := gateway(t, sdktest.Feature{Name: "cad", Seats: 1})
	other, _, _ := ed25519.GenerateKey(rand.Reader)
	_, err := Dial(context.Background(), addr, Options{PublicKey: other})
	if !errors.Is(err, ErrKeyMismatch) {
		t.Fatalf("Dial with the wrong pinned key: %v", err)
	}
}

// impostor is a line server that announces key and answers every
// CHECKOUT with grant(nonce).
func impostor(t *testing.T, key ed25519.PublicKey, grant func(id string) string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer nc.Close()
				br := bufio.NewReader(nc)
				for {
					line, err := br.ReadString('\n')
					if err != nil {
						return
					}
					id := ""
					if i := strings.Index(line, " id="); i >= 0 {
						id = strings.Fields(line[i+4:])[0]
					}
					var out string
					switch strings.Fields(line)[0] {
					case "HELLO":
						out = "OK server=x version=1 proto=1 ttl=120 key=" + base64.RawURLEncoding.EncodeToString(key)
					case "CHECKOUT":
						out = grant(id)
					default:
						out = "ERR code=internal"
					}
					if _, err := io.WriteString(nc, out+" id="+id+"\n"); err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

func TestSignaturePinning(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	_, otherPriv, _ := ed25519.GenerateKey(rand.Reader)
	base := "GRANTED lease=L1 feature=cad count=1 ttl=120 expires=2099-01-01T00:00:00Z"
	tests := []struct {
		name  string
		grant func(id string) string
	}{
		{"missing sig", func(string) string { return base }},
		{"garbage sig", func(string) string { return base + " sig=AAAA" }},
		{"signed by another key", func(string) string {
			sig := ed25519.Sign(otherPriv, []byte("CLM1 lease=L1 feature=cad count=1 user=u host=h expires=2099-01-01T00:00:00Z nonce="))
			return base + " sig=" + base64.RawURLEncoding.EncodeToString(sig)
		}},
		{"replayed without our nonce", func(string) string {
			sig := ed25519.Sign(priv, []byte("CLM1 lease=L1 feature=cad count=1 user=u host=h expires=2099-01-01T00:00:00Z nonce="))
			return base + " sig=" + base64.RawURLEncoding.EncodeToString(sig)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dial(t, impostor(t, pub, tt.grant), Options{PublicKey: pub})
			_, err := c.Checkout(context.Background(), CheckoutOptions{Feature: "cad", User: "u", Host: "h"})
			if !errors.Is(err, ErrBadSignature) {
				t.Fatalf("Checkout: %v, want ErrBadSignature", err)
			}
		})
	}
	// Without a pinned key the same unsigned grant is accepted.
	c := dial(t, impostor(t, pub, tests[0].grant), Options{})
	l, err := c.Checkout(context.Background(), CheckoutOptions{Feature: "cad", User: "u", Host: "h"})
	if err != nil || l.ID != "L1" {
		t.Fatalf("unpinned: %v %v", l, err)
	}
}

// proxy forwards TCP to target and can cut every connection it carries.
type proxy struct {
	ln       net.Listener
	frozen   atomic.Bool // answers are swallowed: the server seems silent
	mu       sync.Mutex
	conns    []net.Conn
	cuts     int
	accepted []time.Time // when each client connection came
}

func newProxy(t *testing.T, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln}
	t.Cleanup(func() { ln.Close(); p.cut() })
	go func() {
		for {
			a, err := ln.Accept()
			if err != nil {
				return
			}
			b, err := net.Dial("tcp", target)
			if err != nil {
				a.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, a, b)
			p.accepted = append(p.accepted, time.Now())
			p.mu.Unlock()
			go func() { p.answers(a, b); a.Close() }()
			go func() { io.Copy(b, a); b.Close() }()
		}
	}()
	return p
}

// answers copies the server's bytes to the client until the proxy is
// frozen, and then drops them.
func (p *proxy) answers(client, server net.Conn) {
	buf := make([]byte, 4096)
	for {
		n, err := server.Read(buf)
		if n > 0 && !p.frozen.Load() {
			if _, err := client.Write(buf[:n]); err != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// freeze makes the server behind p silent; its connections stay open.
func (p *proxy) freeze() { p.frozen.Store(true) }

func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
	p.cuts++
}

// TestReconnectStormSpreads: 20 clients lose the gateway at the same
// instant and all want it back at once. With full jitter they return over
// the reconnect window (here a 1 s ceiling), not in the same few
// milliseconds as with a fixed backoff.
func TestReconnectStormSpreads(t *testing.T) {
	_, addr := gateway(t)
	p := newProxy(t, addr)
	const clients = 20
	cs := make([]*Client, clients)
	for i := range cs {
		cs[i] = dial(t, p.ln.Addr().String(), Options{ReconnectMin: time.Second, ReconnectMax: time.Second})
		if err := cs[i].Ping(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	p.mu.Lock()
	p.accepted = nil
	p.mu.Unlock()
	p.cut()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	for _, c := range cs {
		wg.Go(func() {
			for ctx.Err() == nil && c.Ping(ctx) != nil {
			}
		})
	}
	wg.Wait()
	p.mu.Lock()
	times := p.accepted
	p.mu.Unlock()
	if len(times) < clients {
		t.Fatalf("%d reconnections, want %d", len(times), clients)
	}
	first, last := times[0], times[0]
	for _, at := range times {
		if at.Before(first) {
			first = at
		}
		if at.After(last) {
			last = at
		}
	}
	t.Logf("%d clients reconnected over %v", clients, last.Sub(first))
	// Uniform over 1 s, 20 clients: the span is under 500 ms with
	// probability below 1e-4.
	if span := last.Sub(first); span < 500*time.Millisecond {
		t.Errorf("%d clients reconnected within %v: no jitter", clients, span)
	}
}

func TestHeartbeatSurvivesReconnect(t *testing.T) {
	seats, addr := gateway(t, sdktest.Feature{Name: "cad", Seats: 1, TTL: 3 * time.Second})
	p := newProxy(t, addr)
	c := dial(t, p.ln.Addr().String(), Options{ReconnectMin: 20 * time.Millisecond})
	l, err := c.Checkout(context.Background(), CheckoutOptions{Feature: "cad", User: "u", Host: "h"})
	if err != nil {
		t.Fatal(err)
	}
	first := l.Expires()
	// Cut the connection twice over more than a TTL: only heartbeats sent
	// over new connections can keep the lease.
	for range 2 {
		p.cut()
		time.Sleep(2 * time.Second)
	}
	select {
	case <-l.Done():
		t.Fatalf("lease ended: %v", l.Err())
	default:
	}
	if !l.Expires().After(first) {
		t.Fatalf("expiry did not move: %v then %v", first, l.Expires())
	}
	seats.Expire()
	if n, _ := leases(t, seats, "cad"); n != 1 {
		t.Fatalf("in use %d, want the one lease still held", n)
	}
	if err := l.Checkin(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestLeaseGone(t *testing.T) {
	seats, addr := gateway(t, sdktest.Feature{Name: "cad", Seats: 1, TTL: time.Second})
	c := dial(t, addr, Options{})
	l, err := c.Checkout(context.Background(), CheckoutOptions{Feature: "cad", User: "u", Host: "h"})
	if err != nil {
		t.Fatal(err)
	}
	if err := seats.Remove(context.Background(), l.ID, sdk.Client{Addr: "test"}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-l.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("lease not ended after removal")
	}
	var g *GoneError
	if !errors.As(l.Err(), &g) || g.Reason != "removed" || g.Lease != l.ID {
		t.Fatalf("Err = %v", l.Err())
	}
}

func TestQueueWaitAndCancel(t *testing.T) {
	seats, addr := gateway(t, sdktest.Feature{Name: "solo", Seats: 1, Queue: true})
	holder := dial(t, addr, Options{})
	waiter := dial(t, addr, Options{PublicKey: pinnedKey(t, seats)})
	ctx := context.Background()
	held, err := holder.Checkout(ctx, CheckoutOptions{Feature: "solo", User: "a", Host: "h"})
	if err != nil {
		t.Fatal(err)
	}

	// A wait cut short by the context cancels the ticket.
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	_, err = waiter.Checkout(short, CheckoutOptions{Feature: "solo", User: "b", Host: "h", Wait: time.Minute})
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("short wait: %v", err)
	}
	if _, q := leases(t, seats, "solo"); q != 0 {
		t.Fatalf("queued %d after cancel, want 0", q)
	}

	// A wait that the holder's checkin ends with a signed grant.
	got := make(chan error, 1)
	var l *Lease
	go func() {
		var err error
		l, err = waiter.Checkout(ctx, CheckoutOptions{Feature: "solo", User: "b", Host: "h", Wait: time.Minute})
		got <- err
	}()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, q := leases(t, seats, "solo"); q == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("waiter never queued")
		}
	}
	if err := held.Checkin(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-got; err != nil {
		t.Fatalf("queued checkout: %v", err)
	}
	if l.Feature != "solo" {
		t.Fatalf("lease %+v", l)
	}
}

func TestUDPRequest(t *testing.T) {
	seats := sdktest.NewSeats(sdktest.Feature{Name: "cad", Seats: 1})
	h := sdktest.Run(t, concurrentlm.New(), seats, nil)
	addr := h.Addr(concurrentlm.ListenerUDP)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	m, err := UDPRequest(ctx, addr, "CHECKOUT feature=cad user=u host=h nonce=abc")
	if err != nil || m.Word != "GRANTED" || m.Get("sig") == "" {
		t.Fatalf("UDP CHECKOUT: %+v %v", m, err)
	}
	if _, err := UDPRequest(ctx, addr, "HEARTBEAT lease="+m.Get("lease")); err != nil {
		t.Fatal(err)
	}
	_, err = UDPRequest(ctx, addr, "CHECKOUT feature=cad user=u host=h")
	var d *DeniedError
	if !errors.As(err, &d) || d.Reason != "no-seats" {
		t.Fatalf("second UDP CHECKOUT: %v", err)
	}
	st, err := UDPRequest(ctx, addr, "STATUS feature=cad")
	if err != nil || st.Word != "FEATURE" || st.Get("in_use") != "1" {
		t.Fatalf("UDP STATUS: %+v %v", st, err)
	}
}
