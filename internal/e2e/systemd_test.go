package e2e

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/licensegw/licensegw/gateway/admin"
	"github.com/licensegw/licensegw/gateway/config"
	"github.com/licensegw/licensegw/gateway/token"
)

// TestSystemdNotify runs licensegw serve as systemd runs a Type=notify
// unit with WatchdogSec=: a notification socket in $NOTIFY_SOCKET and
// $WATCHDOG_USEC. The daemon must say READY=1 once it serves, feed the
// watchdog, bracket a reload with RELOADING=1 and READY=1, and say
// STOPPING=1 on SIGTERM.
func TestSystemdNotify(t *testing.T) {
	t.Parallel()
	path, adminAddr := writeWarningConfig(t, "")
	sock := filepath.Join(t.TempDir(), "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	next := func(want string) string {
		t.Helper()
		// Watchdog pings come between the others; skip them unless asked.
		deadline := time.Now().Add(time.Minute)
		buf := make([]byte, 4096)
		for {
			_ = conn.SetReadDeadline(deadline)
			n, err := conn.Read(buf)
			if err != nil {
				t.Fatalf("waiting for %q: %v", want, err)
			}
			msg := string(buf[:n])
			if strings.HasPrefix(msg, want) {
				return msg
			}
			if msg != "WATCHDOG=1" {
				t.Fatalf("got %q, want %q", msg, want)
			}
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bins.Path(licensegwBin), "serve", path)
	cmd.Dir = filepath.Dir(path)
	cmd.Env = append(os.Environ(), "NOTIFY_SOCKET="+sock, "WATCHDOG_USEC=400000") // a ping every 200 ms
	stderr, done := startBackground(t, cmd)

	if msg := next("READY=1"); !strings.Contains(msg, "STATUS=serving") {
		t.Errorf("ready message %q lacks STATUS", msg)
	}
	// The gateway answers once it said it was ready.
	// The admin token the gateway wrote at first start, as the CLI beside
	// it would find it.
	tok, err := token.ReadFile(filepath.Join(filepath.Dir(path), "data", config.DefaultTokenFile))
	if err != nil {
		t.Fatal(err)
	}
	if st, err := admin.NewClient(adminAddr, admin.WithToken(tok)).Status(ctx); err != nil || len(st.Features) != 2 {
		t.Errorf("after READY=1 the admin API says %v, %+v", err, st)
	}
	for range 2 {
		next("WATCHDOG=1")
	}
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	if msg := next("RELOADING=1"); !strings.Contains(msg, "MONOTONIC_USEC=") {
		t.Errorf("reloading message %q lacks MONOTONIC_USEC", msg)
	}
	next("READY=1")
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	next("STOPPING=1")
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve: %v\n%s", err, stderr.String())
		}
	case <-ctx.Done():
		t.Fatal("serve did not stop")
	}
}

// TestSystemdUnit checks examples/systemd/licensegw.service with systemd's
// own parser (systemd-analyze verify, where installed) and that it keeps
// what docs/operations.md promises: Type=notify with a watchdog, a
// dynamic user, a read-only system and no capabilities.
func TestSystemdUnit(t *testing.T) {
	t.Parallel()
	unit, err := os.ReadFile("../../examples/systemd/licensegw.service")
	if err != nil {
		t.Fatal(err)
	}
	settings := map[string][]string{}
	for _, l := range strings.Split(string(unit), "\n") {
		if k, v, ok := strings.Cut(l, "="); ok && !strings.HasPrefix(l, "#") {
			settings[k] = append(settings[k], v)
		}
	}
	for k, want := range map[string]string{
		"Type": "notify", "NotifyAccess": "main", "WatchdogSec": "30s", "DynamicUser": "yes",
		"ProtectSystem": "strict", "CapabilityBoundingSet": "", "AmbientCapabilities": "",
		"NoNewPrivileges": "yes", "StateDirectory": "licensegw", "KillMode": "mixed",
	} {
		if got := settings[k]; len(got) != 1 || got[0] != want {
			t.Errorf("%s=%q, want %q", k, got, want)
		}
	}
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Skip("systemd-analyze is not installed; the unit's syntax is not checked")
	}
	// verify wants ExecStart's binary to exist: the one the tests built.
	local := strings.ReplaceAll(string(unit), "/usr/local/bin/licensegw", bins.Path(licensegwBin))
	path := filepath.Join(t.TempDir(), "licensegw.service")
	if err := os.WriteFile(path, []byte(local), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "systemd-analyze", "verify", path).CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}
