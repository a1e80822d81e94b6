package client

import (
	"context"
	"errors"
	"net"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/licensegw/licensegw/plugins/sentinel/wire"
)

func TestParseServers(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"gw-01", []string{"gw-01:5093"}},
		{"gw-01:6000", []string{"gw-01:6000"}},
		{"gw-01,gw-02:6000, gw-03 ", []string{"gw-01:5093", "gw-02:6000", "gw-03:5093"}},
		{"gw-01~gw-02~gw-03", []string{"gw-01:5093", "gw-02:5093", "gw-03:5093"}},
		{"a,,b,", []string{"a:5093", "b:5093"}},
		{"::1", []string{"[::1]:5093"}},
		{"[::1]", []string{"[::1]:5093"}},
		{"[::1]:7,10.0.0.1", []string{"[::1]:7", "10.0.0.1:5093"}},
		{"", nil},
		{" , ~ ", nil},
		{"gw-01:0", nil},
		{"gw-01:65536", nil},
		{"gw-01:x", nil},
		{"gw-01:5093:1", nil},
		{"a b", nil},
		{"27000@gw", nil},
		{"[gw]x", nil},
		{strings.Repeat("h,", maxServers+1), nil},
	}
	for _, tt := range tests {
		got, err := ParseServers(tt.in)
		if tt.want == nil {
			if err == nil || !errors.Is(err, ErrBadServerList) {
				t.Errorf("ParseServers(%q) = %q, %v; want an error wrapping ErrBadServerList", tt.in, got, err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseServers(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestServersFromEnv(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	if got := ServersFromEnv(env(map[string]string{EnvHost: "a~b", EnvForceHost: " c "})); got != "c" {
		t.Errorf("with both set = %q, want LSFORCEHOST's", got)
	}
	if got := ServersFromEnv(env(map[string]string{EnvHost: "a~b"})); got != "a~b" {
		t.Errorf("with LSHOST = %q", got)
	}
	if got := ServersFromEnv(env(nil)); got != "" {
		t.Errorf("with neither = %q", got)
	}
}

// FuzzParseServers: any input parses to a list of addresses that
// net.SplitHostPort accepts and that parse again to themselves, or fails
// with ErrBadServerList.
func FuzzParseServers(f *testing.F) {
	for _, s := range []string{"gw-01", "a:1,b~c", "[::1]:7", "::1", "a,,b", "x:0", "[", "]:", "~"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, list string) {
		addrs, err := ParseServers(list)
		if err != nil {
			if !errors.Is(err, ErrBadServerList) {
				t.Fatalf("error %v does not wrap ErrBadServerList", err)
			}
			return
		}
		if len(addrs) == 0 || len(addrs) > maxServers {
			t.Fatalf("%d addresses", len(addrs))
		}
		for _, a := range addrs {
			if _, _, err := net.SplitHostPort(a); err != nil {
				t.Fatalf("address %q: %v", a, err)
			}
			again, err := ParseServers(a)
			if err != nil || len(again) != 1 || again[0] != a {
				t.Fatalf("address %q parses again to %q, %v", a, again, err)
			}
		}
	})
}

// TestListFailsOverOnSilence: a request the first server does not answer
// is retransmitted, with the same id, to the next; the next call starts
// with the server that answered.
func TestListFailsOverOnSilence(t *testing.T) {
	silent := newFakeServer(t, func(*wire.Request, int) [][]byte { return nil })
	live := newFakeServer(t, func(req *wire.Request, _ int) [][]byte {
		return [][]byte{answer(t, &wire.Response{ID: req.ID, Type: req.Type, Status: wire.OK, Grant: wire.Grant{Handle: "L1", Count: 1}})}
	})
	c := dial(t, silent.addr()+","+live.addr(), Options{})
	tok, _, err := c.Checkout(context.Background(), CheckoutRequest{Feature: "cad"})
	if err != nil || tok.Handle != "L1" {
		t.Fatalf("Checkout = %+v, %v", tok, err)
	}
	if c.ServerName() != live.addr() {
		t.Errorf("ServerName = %s, want the live %s", c.ServerName(), live.addr())
	}
	s, l := silent.seen(), live.seen()
	if len(s) != 1 || len(l) != 1 {
		t.Fatalf("ids seen: silent %v, live %v; want one each", s, l)
	}
	for id := range s {
		if l[id] != 1 {
			t.Errorf("the live server saw ids %v, want the silent one's %x", l, id)
		}
	}
	if err := c.Release(context.Background(), "L1"); err != nil {
		t.Fatal(err)
	}
	if n := len(silent.seen()); n != 1 {
		t.Errorf("the silent server saw %d ids, want the first call's only", n)
	}
}

// TestListPassesOverUnavailable: an "unavailable" answer sends the
// request to the next server at once; when every server says so, the
// call returns unavailable without waiting out the retransmissions.
func TestListPassesOverUnavailable(t *testing.T) {
	unavail := func(req *wire.Request, _ int) [][]byte {
		return [][]byte{answer(t, &wire.Response{ID: req.ID, Type: req.Type, Status: wire.Unavailable})}
	}
	a := newFakeServer(t, unavail)
	b := newFakeServer(t, func(req *wire.Request, _ int) [][]byte {
		return [][]byte{answer(t, &wire.Response{ID: req.ID, Type: req.Type, Status: wire.OK})}
	})
	// A long first wait: passing over must not wait for it.
	c := dial(t, a.addr()+","+b.addr(), Options{Timeout: time.Minute, MaxTimeout: time.Minute})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.Release(ctx, "L1"); err != nil {
		t.Fatalf("Release = %v", err)
	}
	if c.ServerName() != b.addr() {
		t.Errorf("ServerName = %s, want %s", c.ServerName(), b.addr())
	}

	a2, b2 := newFakeServer(t, unavail), newFakeServer(t, unavail)
	c = dial(t, a2.addr()+","+b2.addr(), Options{Timeout: time.Minute, MaxTimeout: time.Minute})
	if err := c.Release(ctx, "L1"); !IsStatus(err, wire.Unavailable) {
		t.Fatalf("Release with every server unavailable = %v", err)
	}
	if len(a2.seen()) != 1 || len(b2.seen()) != 1 {
		t.Errorf("seen %v and %v, want one request each", a2.seen(), b2.seen())
	}
}

// TestDeadListBounded: a list of which no server answers ends with
// ErrNoAnswer after Attempts sends in all, spread over the list.
func TestDeadListBounded(t *testing.T) {
	a := newFakeServer(t, func(*wire.Request, int) [][]byte { return nil })
	b := newFakeServer(t, func(*wire.Request, int) [][]byte { return nil })
	c := dial(t, a.addr()+"~"+b.addr(), Options{Attempts: 4, MaxTimeout: 40 * time.Millisecond})
	start := time.Now()
	err := c.Release(context.Background(), "L1")
	if !errors.Is(err, ErrNoAnswer) {
		t.Fatalf("Release = %v, want ErrNoAnswer", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("gave up after %v", d)
	}
	for _, s := range []*fakeServer{a, b} {
		for _, n := range s.seen() {
			if n != 2 {
				t.Errorf("a server got %d sends, want 2 of the 4", n)
			}
		}
	}
}
