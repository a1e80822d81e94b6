package loadgen

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/licensegw/licensegw/plugins/concurrentlm"
	"github.com/licensegw/licensegw/sdk"
	"github.com/licensegw/licensegw/sdk/sdktest"
)

func TestCompare(t *testing.T) {
	seats := sdktest.NewSeats(sdktest.Feature{Name: "bench", Seats: 64})
	h := sdktest.Run(t, concurrentlm.New(), seats, map[string]any{"rate": 0})
	// A known amount of work, with a deadline only a hung server meets:
	// the test does not depend on how busy the machine is.
	c, err := Compare(context.Background(), Options{Addr: h.Addr(concurrentlm.ListenerTCP), Clients: 4, Cycles: 20, Duration: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%v", c)
	for _, r := range []Report{c.Gateway, c.Echo} {
		if r.Ops != 4*20*3 || r.Errors != 0 || r.Denied != 0 || r.P50 <= 0 || r.P99 < r.P50 || r.Max < r.P99 {
			t.Errorf("bad report %v", r)
		}
	}
	if c.Ratio <= 0 || !strings.Contains(c.String(), "ratio") {
		t.Errorf("ratio %v", c.Ratio)
	}
	// Every lease was given back (bind=conn covers cycles cut short).
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		fs, err := seats.Status(context.Background(), sdk.StatusQuery{Feature: "bench"})
		if err == nil && fs[0].InUse == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("seats still in use after the run: %+v %v", fs, err)
		}
	}
}

func TestRunNeedsAServer(t *testing.T) {
	if _, err := Run(context.Background(), Options{Addr: "127.0.0.1:1", Clients: 1, Duration: 100 * time.Millisecond}); err == nil {
		t.Fatal("Run against a closed port succeeded")
	}
}

// With Nonce every grant is signed; without, none is (the signing rule of
// the CLM/1 revision of 2026-11-29).
func TestNonceSignsEveryGrant(t *testing.T) {
	seats := sdktest.NewSeats(sdktest.Feature{Name: "bench", Seats: 8})
	h := sdktest.Run(t, concurrentlm.New(), seats, map[string]any{"rate": 0})
	for _, nonce := range []bool{false, true} {
		// Ten cycles per client, with a deadline only a hung gateway meets.
		r, err := Run(context.Background(), Options{Addr: h.Addr(concurrentlm.ListenerTCP), Clients: 2, Cycles: 10, Duration: time.Minute, Nonce: nonce})
		if err != nil {
			t.Fatal(err)
		}
		switch want := int64(2 * 10); {
		case r.Errors != 0 || r.Denied != 0 || r.Ops != 3*want:
			t.Errorf("nonce=%v: bad run %v, want %d requests", nonce, r, 3*want)
		case !nonce && r.Signed != 0:
			t.Errorf("without nonce=, %d grants were signed", r.Signed)
		case nonce && r.Signed != want:
			t.Errorf("with nonce=, %d of %d grants were signed", r.Signed, want)
		}
	}
}

func TestMeasureLatency(t *testing.T) {
	seats := sdktest.NewSeats(sdktest.Feature{Name: "bench", Seats: 1})
	h := sdktest.Run(t, concurrentlm.New(), seats, map[string]any{"rate": 0})
	l, err := MeasureLatency(context.Background(), Options{Addr: h.Addr(concurrentlm.ListenerTCP), Duration: 400 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(l)
	if l.Pings == 0 || l.Heartbeats == 0 || l.PingP50 <= 0 || l.HeartbeatP50 <= 0 || l.PingP99 < l.PingP50 || l.HBP99 < l.HeartbeatP50 || l.Ratio <= 0 {
		t.Errorf("bad latency report %+v", l)
	}
	// The lease was checked in: the one seat is free again.
	fs, err := seats.Status(context.Background(), sdk.StatusQuery{Feature: "bench"})
	if err != nil || fs[0].InUse != 0 {
		t.Errorf("after the run: %+v %v", fs, err)
	}
}

// TestPing: every PING of the run is answered PONG by the plugin, and
// none of them reaches the gateway's accounting.
func TestPing(t *testing.T) {
	seats := sdktest.NewSeats(sdktest.Feature{Name: "bench", Seats: 1})
	h := sdktest.Run(t, concurrentlm.New(), seats, map[string]any{"rate": 0})
	r, err := Ping(context.Background(), Options{Addr: h.Addr(concurrentlm.ListenerTCP), Clients: 4, Cycles: 50, Duration: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if r.Name != "ping" || r.Ops != 4*50 || r.Errors != 0 || r.P50 <= 0 || r.P99 < r.P50 {
		t.Errorf("bad report %v", r)
	}
	fs, err := seats.Status(context.Background(), sdk.StatusQuery{Feature: "bench"})
	if err != nil || fs[0].InUse != 0 {
		t.Errorf("a PING run touched the seats: %+v %v", fs, err)
	}
}
