package e2etest

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/licensegw/licensegw/gateway/admin"
	"github.com/licensegw/licensegw/gateway/config"
)

// fakeDaemonEnv makes this test binary a stand-in for `licensegw serve`
// (see TestFakeDaemon).
const fakeDaemonEnv = "E2ETEST_FAKE_DAEMON"

// TestStartOnNewPortsWhenOneWasTaken: a port the harness picked is taken
// by someone else before the daemon binds it; the daemon fails to start
// with "address already in use", and Start starts it again on new ports.
func TestStartOnNewPortsWhenOneWasTaken(t *testing.T) {
	g := New(t, Options{Bins: fakeBins(t), StartTimeout: 30 * time.Second})
	stolen := g.AdminAddr
	g.mu.Lock()
	g.held[adminAddrName].release()
	delete(g.held, adminAddrName)
	g.mu.Unlock()
	thief, err := net.Listen("tcp", stolen)
	if err != nil {
		t.Fatal(err)
	}
	defer thief.Close()

	g.Start()
	if g.AdminAddr == stolen {
		t.Fatalf("started on the taken port %s", stolen)
	}
	if log := g.Log(); strings.Count(log, startMark) != 2 || !strings.Contains(log, "address already in use") {
		t.Fatalf("want a failed start on the taken port, then one that serves; log:\n%s", log)
	}
	b, err := os.ReadFile(g.ConfigPath)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), g.AdminAddr) || strings.Contains(string(b), stolen) {
		t.Fatalf("configuration not rendered again with the new port %s:\n%s", g.AdminAddr, b)
	}
}

// TestPortsHeldUntilStart: the ports a gateway's configuration names stay
// bound by the harness until the daemon starts, so that no other socket
// can be given them meanwhile.
func TestPortsHeldUntilStart(t *testing.T) {
	g := New(t, Options{Bins: fakeBins(t), StartTimeout: 30 * time.Second, Config: `
# a listener of a plugin: {{.TCP "t"}}, and another: {{.UDP "u"}}
`})
	for _, a := range []string{g.AdminAddr, g.NATSAddr, g.Addr("t")} {
		if l, err := net.Listen("tcp", a); err == nil {
			l.Close()
			t.Errorf("TCP %s could be bound before the start", a)
		}
	}
	if c, err := net.ListenPacket("udp", g.Addr("u")); err == nil {
		c.Close()
		t.Errorf("UDP %s could be bound before the start", g.Addr("u"))
	}
	g.Start() // the fake daemon binds the admin and NATS addresses
	if strings.Count(g.Log(), startMark) != 1 {
		t.Fatalf("want one start; log:\n%s", g.Log())
	}
	if l, err := net.Listen("tcp", g.Addr("t")); err != nil {
		t.Errorf("TCP %s still held after the start: %v", g.Addr("t"), err)
	} else {
		l.Close()
	}
}

// fakeBins is a directory whose licensegw runs TestFakeDaemon.
func fakeBins(t *testing.T) Binaries {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bins := Binaries{Dir: t.TempDir()}
	script := fmt.Sprintf("#!/bin/sh\n%s=1 exec %q -test.run='^TestFakeDaemon$' -- \"$@\"\n", fakeDaemonEnv, exe)
	if err := os.WriteFile(bins.Path("licensegw"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return bins
}

// TestFakeDaemon is `licensegw serve -config FILE` reduced to what the
// harness looks at, when run by fakeBins: it binds the admin API's and the
// embedded NATS server's addresses (failing as the daemon does when one is
// taken) and answers /readyz and /v1/status. Otherwise it does nothing.
func TestFakeDaemon(t *testing.T) {
	if os.Getenv(fakeDaemonEnv) == "" {
		return
	}
	args := flagArgs()
	if len(args) != 3 || args[0] != "serve" || args[1] != "-config" {
		fmt.Fprintf(os.Stderr, "fake licensegw: unexpected arguments %q\n", args)
		os.Exit(2)
	}
	cfg, diags := config.Load(args[2])
	if diags.HasErrors() {
		fmt.Fprintln(os.Stderr, "fake licensegw:", diags)
		os.Exit(1)
	}
	nats, err := net.Listen("tcp", cfg.NATS.Listen)
	if err != nil {
		fmt.Fprintln(os.Stderr, "licensegw: embedded NATS:", err)
		os.Exit(1)
	}
	defer nats.Close()
	ln, err := net.Listen("tcp", cfg.Admin.Listen)
	if err != nil {
		fmt.Fprintln(os.Stderr, "licensegw: admin API:", err)
		os.Exit(1)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ready") })
	mux.HandleFunc("/v1/status", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(admin.Status{})
	})
	_ = http.Serve(ln, mux) // until the harness kills it
	os.Exit(0)
}

// flagArgs are the arguments after "--".
func flagArgs() []string {
	for i, a := range os.Args {
		if a == "--" {
			return os.Args[i+1:]
		}
	}
	return nil
}
