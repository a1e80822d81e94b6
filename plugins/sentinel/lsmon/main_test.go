package lsmon

import (
	"bytes"
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/licensegw/licensegw/plugins/sentinel"
	"github.com/licensegw/licensegw/plugins/sentinel/client"
	"github.com/licensegw/licensegw/sdk/sdktest"
)

func TestMainAgainstPlugin(t *testing.T) {
	seats := sdktest.NewSeats(
		sdktest.Feature{Name: "cad_pro", Version: "2024.1", Seats: 10, TTL: 300 * time.Second, Borrow: true, MaxBorrow: 30 * 24 * time.Hour},
		sdktest.Feature{Name: "solver", Version: "1.0", Seats: 2},
	)
	h := sdktest.Run(t, sentinel.New(), seats, nil)
	addr := h.Addr(sentinel.ListenerName)
	c, err := client.Dial(addr, client.Options{User: "alice", Host: "ws-01", Display: "ws-01:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, _, err := c.Checkout(ctx, client.CheckoutRequest{Feature: "cad_pro"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Commute(ctx, "cad_pro", "", 1, 3); err != nil {
		t.Fatal(err)
	}

	var out, errOut bytes.Buffer
	if code := Main([]string{addr}, &out, &errOut); code != 0 {
		t.Fatalf("Main = %d, stderr %s", code, errOut.String())
	}
	for _, want := range []string{
		"  licensegw lsmon v1.0 Application Monitor\n",
		` [Contacting licensegw Sentinel server on host "` + addr + `"]` + "\n",
		`   |- Feature name                   : "cad_pro"` + "\n",
		`   |- Feature name                   : "solver"` + "\n",
		"   |- Commuter license allowed       : YES\n",
		"   |- Unreserved tokens in use       : 2\n",
		"   |- Available unreserved           : 8\n",
		"   |- Commuter tokens in use         : 1\n",
		"     |- Token lifetime (heartbeat)     : 300 secs (5 min(s))\n",
		"     |- User name                      : alice\n",
		"     |- X display name                 : ws-01:0\n",
		"     |- Is commuter token              : YES\n",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if n := strings.Count(out.String(), "|- Client Information"); n != 2 {
		t.Errorf("%d client blocks, want 2", n)
	}

	out.Reset()
	if code := Main([]string{"-f", "solver", addr}, &out, &errOut); code != 0 || strings.Contains(out.String(), "cad_pro") {
		t.Errorf("-f solver: code %d, output:\n%s", code, out.String())
	}
}

func TestMainErrors(t *testing.T) {
	tests := []struct {
		args []string
		code int
	}{
		{[]string{"a", "b"}, 2},
		{[]string{"-nope"}, 2},
		{[]string{"-timeout", "300ms", "127.0.0.1:9"}, 1}, // nobody answers
	}
	for _, tt := range tests {
		var out, errOut bytes.Buffer
		if code := Main(tt.args, &out, &errOut); code != tt.code || errOut.Len() == 0 {
			t.Errorf("Main(%q) = %d (stderr %q), want %d with a message", tt.args, code, errOut.String(), tt.code)
		}
	}
}

// TestMainServerList: lsmon given a list (or LSHOST, or LSFORCEHOST, which
// comes first) shows the first server that answers.
func TestMainServerList(t *testing.T) {
	seats := sdktest.NewSeats(sdktest.Feature{Name: "cad_pro", Version: "2024.1", Seats: 10})
	h := sdktest.Run(t, sentinel.New(), seats, nil)
	live := h.Addr(sentinel.ListenerName)
	dead := deadUDP(t)
	want := ` [Contacting licensegw Sentinel server on host "` + live + `"]`

	var out, errOut bytes.Buffer
	if code := Main([]string{"-timeout", "20s", dead + "," + live}, &out, &errOut); code != 0 || !strings.Contains(out.String(), want) {
		t.Fatalf("Main(dead,live) = %d, stderr %s, output:\n%s", code, errOut.String(), out.String())
	}

	t.Setenv(client.EnvHost, dead+"~"+live)
	t.Setenv(client.EnvForceHost, "")
	out.Reset()
	if code := Main([]string{"-timeout", "20s"}, &out, &errOut); code != 0 || !strings.Contains(out.String(), want) {
		t.Fatalf("Main with LSHOST = %d, stderr %s, output:\n%s", code, errOut.String(), out.String())
	}
	// LSFORCEHOST overrides LSHOST: only the dead server, so no answer.
	t.Setenv(client.EnvForceHost, dead)
	out.Reset()
	errOut.Reset()
	if code := Main([]string{"-timeout", "1s"}, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), dead) {
		t.Fatalf("Main with LSFORCEHOST dead = %d, stderr %q", code, errOut.String())
	}
}

// deadUDP is a loopback UDP address nobody listens on any more.
func deadUDP(t *testing.T) string {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := c.LocalAddr().String()
	c.Close()
	return addr
}
