package client

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/licensegw/licensegw/plugins/sentinel/wire"
)

// fakeServer answers each request datagram with what answer returns for
// it (nil: silence); copies counts how often each request id was seen.
type fakeServer struct {
	conn   net.PacketConn
	mu     sync.Mutex
	copies map[uint64]int
}

func newFakeServer(t *testing.T, answer func(req *wire.Request, copy int) [][]byte) *fakeServer {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &fakeServer{conn: conn, copies: map[uint64]int{}}
	t.Cleanup(func() { conn.Close() })
	go func() {
		buf := make([]byte, 2*wire.MaxDatagram)
		for {
			n, from, err := conn.ReadFrom(buf)
			if err != nil {
				return
			}
			req, err := wire.DecodeRequest(buf[:n])
			if err != nil {
				t.Errorf("client sent a malformed request: %v", err)
				continue
			}
			s.mu.Lock()
			s.copies[req.ID]++
			copy := s.copies[req.ID]
			s.mu.Unlock()
			for _, b := range answer(req, copy) {
				conn.WriteTo(b, from)
			}
		}
	}()
	return s
}

func (s *fakeServer) addr() string { return s.conn.LocalAddr().String() }

func (s *fakeServer) seen() map[uint64]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[uint64]int{}
	for k, v := range s.copies {
		out[k] = v
	}
	return out
}

func answer(t *testing.T, r *wire.Response) []byte {
	t.Helper()
	b, err := wire.EncodeResponse(r, 0, wire.MaxDatagram)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func dial(t *testing.T, addr string, o Options) *Client {
	t.Helper()
	o.User, o.Host = "u", "h"
	if o.Timeout == 0 {
		o.Timeout = 20 * time.Millisecond
	}
	c, err := Dial(addr, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestRetransmitSameID(t *testing.T) {
	s := newFakeServer(t, func(req *wire.Request, copy int) [][]byte {
		if copy < 3 {
			return nil // lose the first two
		}
		// A stray datagram and an answer to another id come first.
		return [][]byte{
			[]byte("junk"),
			answer(t, &wire.Response{ID: req.ID + 1, Type: req.Type, Status: wire.NoSeats}),
			answer(t, &wire.Response{ID: req.ID, Type: req.Type, Status: wire.OK, Grant: wire.Grant{Handle: "L1", Count: 1}}),
		}
	})
	c := dial(t, s.addr(), Options{})
	tok, q, err := c.Checkout(context.Background(), CheckoutRequest{Feature: "cad"})
	if err != nil || q != nil || tok.Handle != "L1" {
		t.Fatalf("Checkout = %+v %+v %v", tok, q, err)
	}
	seen := s.seen()
	if len(seen) != 1 {
		t.Fatalf("server saw ids %v, want one id retransmitted", seen)
	}
	for _, n := range seen {
		if n != 3 {
			t.Errorf("server saw %d copies, want 3", n)
		}
	}
}

func TestNoAnswer(t *testing.T) {
	s := newFakeServer(t, func(*wire.Request, int) [][]byte { return nil })
	c := dial(t, s.addr(), Options{Attempts: 3, MaxTimeout: 40 * time.Millisecond})
	start := time.Now()
	err := c.Release(context.Background(), "L1")
	if !errors.Is(err, ErrNoAnswer) {
		t.Fatalf("Release = %v, want ErrNoAnswer", err)
	}
	for _, n := range s.seen() {
		if n != 3 {
			t.Errorf("%d sends, want 3", n)
		}
	}
	// Three waits with full jitter, each between the floor (Timeout/2,
	// 10 ms) and its ceiling (20, 40, 40 ms): at least 30 ms in all.
	if d := time.Since(start); d < 30*time.Millisecond || d > 2*time.Second {
		t.Errorf("gave up after %v", d)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	c = dial(t, s.addr(), Options{Attempts: -1})
	if err := c.Release(ctx, "L1"); !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, ErrNoAnswer) {
		t.Errorf("Release with a deadline = %v", err)
	}
}

func TestStatusErrors(t *testing.T) {
	s := newFakeServer(t, func(req *wire.Request, _ int) [][]byte {
		switch req.Type {
		case wire.Checkout:
			return [][]byte{answer(t, &wire.Response{ID: req.ID, Type: req.Type, Status: wire.NoSeats, InUse: 3, Seats: 3})}
		case wire.Refresh:
			return [][]byte{answer(t, &wire.Response{ID: req.ID, Type: req.Type, Status: wire.Gone, Reason: "expired"})}
		}
		return [][]byte{answer(t, &wire.Response{ID: req.ID, Type: req.Type, Status: wire.Queued, Ticket: "T1", Position: 2})}
	})
	c := dial(t, s.addr(), Options{})
	ctx := context.Background()
	_, _, err := c.Checkout(ctx, CheckoutRequest{Feature: "cad"})
	var se *StatusError
	if !errors.As(err, &se) || se.Status != wire.NoSeats || se.InUse != 3 || err.Error() != "license server: no-seats (3 of 3 in use)" {
		t.Errorf("Checkout = %v", err)
	}
	if _, err := c.Refresh(ctx, "L1"); !IsStatus(err, wire.Gone) || err.Error() != "license server: gone (expired)" {
		t.Errorf("Refresh = %v", err)
	}
	if tok, q, err := c.Poll(ctx, "T1"); err != nil || tok != nil || q.Position != 2 {
		t.Errorf("Poll = %v %+v %v", tok, q, err)
	}
}

func TestPages(t *testing.T) {
	const total = 25
	s := newFakeServer(t, func(req *wire.Request, _ int) [][]byte {
		r := &wire.Response{ID: req.ID, Type: req.Type, Status: wire.OK, Total: total}
		for i := req.Cursor; i < total; i++ {
			r.Clients = append(r.Clients, wire.Client{User: string(rune('a' + i)), Count: 1})
		}
		// Ten records a page at most, as a small limit would cut them.
		r.Clients = r.Clients[:min(10, len(r.Clients))]
		b, err := wire.EncodeResponse(r, req.Cursor, wire.MaxDatagram)
		if err != nil {
			t.Error(err)
		}
		return [][]byte{b}
	})
	c := dial(t, s.addr(), Options{})
	clients, err := c.Clients(context.Background(), "cad", "")
	if err != nil || len(clients) != total {
		t.Fatalf("Clients = %d, %v", len(clients), err)
	}
	for i, cl := range clients {
		if cl.User != string(rune('a'+i)) {
			t.Errorf("client %d = %q", i, cl.User)
		}
	}
	if n := len(s.seen()); n != 3 {
		t.Errorf("%d page requests, want 3", n)
	}
}

func TestDiscoverFirstAnswer(t *testing.T) {
	silent := newFakeServer(t, func(*wire.Request, int) [][]byte { return nil })
	server := newFakeServer(t, func(req *wire.Request, _ int) [][]byte {
		if req.Feature != "cad" {
			return nil
		}
		return [][]byte{answer(t, &wire.Response{ID: req.ID, Type: req.Type, Status: wire.OK, Server: wire.Server{Name: "gw"}})}
	})
	ctx := context.Background()
	o := Options{Timeout: 20 * time.Millisecond, Attempts: 3}
	f, err := Discover(ctx, "cad", []string{silent.addr(), server.addr()}, o)
	if err != nil || f.Addr.String() != server.addr() || f.Server.Name != "gw" {
		t.Fatalf("Discover = %+v, %v", f, err)
	}
	if _, err := Discover(ctx, "other", []string{silent.addr(), server.addr()}, o); !errors.Is(err, ErrNoServer) {
		t.Errorf("Discover(other) = %v, want ErrNoServer", err)
	}
	if _, err := Discover(ctx, "cad", nil, o); !errors.Is(err, ErrNoServer) {
		t.Errorf("Discover without addresses = %v", err)
	}
}
