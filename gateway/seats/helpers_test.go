package seats

import (
	"testing"
	"time"

	"github.com/licensegw/licensegw/gateway/events"
)

// t0 is the tests' epoch.
var t0 = time.Date(2026, 11, 26, 20, 0, 0, 0, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

func newEngine(t testing.TB, cfg Config) *Engine {
	t.Helper()
	e, err := New(cfg, Options{})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return e
}

func alice() Client {
	return Client{User: "alice", Host: "ws-01", Addr: "10.1.2.3:5000", Protocol: "concurrent-lm", Plugin: "clm"}
}

func who(user, host string) Client {
	return Client{User: user, Host: host, Addr: "10.1.2.3:5000"}
}

func req(feature string, c Client) CheckoutRequest {
	return CheckoutRequest{Feature: feature, Client: c}
}

// mustGrant checks out and fails the test unless it is granted.
func mustGrant(t testing.TB, e *Engine, now time.Time, r CheckoutRequest) Lease {
	t.Helper()
	res, evs := e.Checkout(now, r, nil)
	if res.Outcome != Granted {
		t.Fatalf("checkout %+v: outcome %v reason %s (%s), want granted", r, res.Outcome, res.Reason, res.Message)
	}
	if len(evs) != 1 || evs[0].Lease != res.Lease.ID {
		t.Fatalf("checkout events %+v", evs)
	}
	return res.Lease
}

func kinds(evs []events.Event) []events.Kind {
	out := make([]events.Kind, len(evs))
	for i, ev := range evs {
		out[i] = ev.Kind
	}
	return out
}
