package sdktest

import (
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/licensegw/licensegw/sdk"
)

// ConformanceOption adjusts Conformance.
type ConformanceOption func(*conformance)

type conformance struct {
	cfg map[string]any
}

// WithConfig gives Serve these config values (a plugin with required
// attributes needs them).
func WithConfig(cfg map[string]any) ConformanceOption {
	return func(c *conformance) { c.cfg = cfg }
}

// Conformance checks the contract every plugin keeps:
//
//   - Info is valid: a name, a version, APIVersion in sdk.APIVersions(),
//     listeners with unique names on "tcp" or "udp" at parseable addresses,
//     config attributes with unique names and known types;
//   - Serve returns within StopTimeout of its context's cancellation and
//     closes its listeners;
//   - Serve survives a gateway that answers every call with
//     sdk.ErrUnavailable while clients connect and send lines.
//
// The plugin calls its Seats over the Seats data plane, as under a real
// gateway (Session).
func Conformance(t *testing.T, p sdk.Protocol, opts ...ConformanceOption) {
	t.Helper()
	var c conformance
	for _, o := range opts {
		o(&c)
	}
	t.Run("Info", func(t *testing.T) {
		for _, err := range CheckInfo(p.Info()) {
			t.Error(err)
		}
	})
	t.Run("ServeStopsAndCloses", func(t *testing.T) {
		h, err := start(p, Session(t, NewSeats()), c.cfg, t.TempDir(), testLogger(t))
		if err != nil {
			t.Fatal(err)
		}
		select {
		case <-h.Done():
			t.Fatalf("Serve returned before cancellation: %v", h.Stop())
		case <-time.After(100 * time.Millisecond):
		}
		if err := h.Stop(); err != nil {
			t.Fatal(err)
		}
		for name, ln := range h.Env.Listeners {
			if !isClosed(ln.(*net.TCPListener)) {
				t.Errorf("listener %q still open after Serve returned", name)
			}
		}
		for name, pc := range h.Env.PacketConns {
			if !isClosed(pc.(*net.UDPConn)) {
				t.Errorf("packet conn %q still open after Serve returned", name)
			}
		}
	})
	t.Run("GatewayUnavailable", func(t *testing.T) {
		seats := NewSeats()
		seats.FailWith(sdk.ErrUnavailable)
		h, err := start(p, Session(t, seats), c.cfg, t.TempDir(), testLogger(t))
		if err != nil {
			t.Fatal(err)
		}
		poke(t, p.Info(), h)
		select {
		case <-h.Done():
			t.Fatalf("Serve returned while the gateway was unavailable: %v", h.Stop())
		default:
		}
		if err := h.Stop(); err != nil {
			t.Fatal(err)
		}
	})
}

// CheckInfo returns what is wrong with info, nothing when it is valid.
func CheckInfo(info sdk.Info) []error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if info.Name == "" {
		bad("Info.Name is empty")
	}
	if info.Version == "" {
		bad("Info.Version is empty")
	}
	if !slices.Contains(sdk.APIVersions(), info.APIVersion) {
		bad("Info.APIVersion is %d, not one of sdk.APIVersions() %v", info.APIVersion, sdk.APIVersions())
	}
	names := map[string]bool{}
	for _, l := range info.Listeners {
		switch {
		case l.Name == "":
			bad("a listener has no name")
		case names[l.Name]:
			bad("listener name %q used twice", l.Name)
		}
		names[l.Name] = true
		if l.Network != "tcp" && l.Network != "udp" {
			bad("listener %q: network %q is not tcp or udp", l.Name, l.Network)
		}
		if _, _, err := net.SplitHostPort(l.Address); err != nil {
			bad("listener %q: address %q: %v", l.Name, l.Address, err)
		}
	}
	types := map[sdk.AttrType]bool{sdk.String: true, sdk.Number: true, sdk.Bool: true, sdk.StringList: true, sdk.Duration: true}
	attrs := map[string]bool{}
	for _, a := range info.Config {
		switch {
		case a.Name == "":
			bad("a config attribute has no name")
		case attrs[a.Name]:
			bad("config attribute %q declared twice", a.Name)
		}
		attrs[a.Name] = true
		if !types[a.Type] {
			bad("config attribute %q: unknown type %q", a.Name, a.Type)
		}
	}
	return errs
}

// deadliner is a socket whose reads or accepts can time out.
type deadliner interface {
	SetDeadline(time.Time) error
}

// isClosed reports whether a socket was closed: setting a deadline on a
// closed socket fails with net.ErrClosed.
func isClosed(s deadliner) bool {
	err := s.SetDeadline(time.Now().Add(time.Millisecond))
	return errors.Is(err, net.ErrClosed) || errors.Is(err, os.ErrClosed)
}

// poke connects to every listener and sends a few lines a line protocol
// would take for requests, so that the plugin calls its Seats.
func poke(t *testing.T, info sdk.Info, h *Harness) {
	t.Helper()
	lines := []string{
		"HELLO", "CHECKOUT feature=f user=u host=h id=1", "OUT f u h", "STATUS id=2", "IN x",
	}
	for _, l := range info.Listeners {
		conn, err := net.DialTimeout(l.Network, h.Addr(l.Name), time.Second)
		if err != nil {
			t.Errorf("listener %q: %v", l.Name, err)
			continue
		}
		_ = conn.SetDeadline(time.Now().Add(500 * time.Millisecond))
		for _, line := range lines {
			if _, err := conn.Write([]byte(line + "\n")); err != nil {
				break // the plugin may hang up on what it does not understand
			}
		}
		buf := make([]byte, 4096)
		_, _ = conn.Read(buf) // any answer, or none, will do: it must not crash
		_ = conn.Close()
	}
}
