package client

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/licensegw/licensegw/sdk/sdktest"
)

// TestServerListFailsOver: a client given several gateways connects to
// the first that answers, and when that one goes away, to the next.
func TestServerListFailsOver(t *testing.T) {
	seatsA, addrA := gateway(t, sdktest.Feature{Name: "cad", Seats: 5})
	seatsB, addrB := gateway(t, sdktest.Feature{Name: "cad", Seats: 5})
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadAddr := dead.Addr().String()
	dead.Close() // nobody listens there now
	pA := newProxy(t, addrA)

	c := dial(t, deadAddr+", "+pA.ln.Addr().String()+","+addrB, Options{ReconnectMin: time.Millisecond, ReconnectMax: 10 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := c.Checkout(ctx, CheckoutOptions{Feature: "cad", User: "u", Host: "h"}); err != nil {
		t.Fatal(err)
	}
	if a, _ := leases(t, seatsA, "cad"); a != 1 {
		t.Fatalf("gateway A holds %d leases, want 1 (the first that answers)", a)
	}

	// A goes away: a request on the lost connection fails, and the next
	// one reconnects, to B.
	pA.ln.Close()
	pA.cut()
	for {
		_, err := c.Checkout(ctx, CheckoutOptions{Feature: "cad", User: "u", Host: "h"})
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			t.Fatal(err)
		}
	}
	if b, _ := leases(t, seatsB, "cad"); b != 1 {
		t.Fatalf("gateway B holds %d leases after A went away, want 1", b)
	}
}

func TestServerListErrors(t *testing.T) {
	for _, list := range []string{"", " , ", "a:1648,nohostport"} {
		if _, err := Dial(context.Background(), list, Options{}); err == nil {
			t.Errorf("Dial(%q) succeeded", list)
		}
	}
}
