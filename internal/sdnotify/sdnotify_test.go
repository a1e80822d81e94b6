package sdnotify

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// listen opens a notification socket as systemd does and returns its
// NOTIFY_SOCKET value and a function that reads the next datagram, or
// reports none within timeout.
func listen(t *testing.T, name string) (string, func(timeout time.Duration) (string, bool)) {
	t.Helper()
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return name, func(timeout time.Duration) (string, bool) {
		_ = c.SetReadDeadline(time.Now().Add(timeout))
		buf := make([]byte, 4096)
		n, err := c.Read(buf)
		if err != nil {
			return "", false
		}
		return string(buf[:n]), true
	}
}

func envOf(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestNotify(t *testing.T) {
	for _, tt := range []struct{ name, sock string }{
		{"path", filepath.Join(t.TempDir(), "notify")},
		{"abstract", fmt.Sprintf("@licensegw-test-%d", time.Now().UnixNano())},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sock, next := listen(t, tt.sock)
			n, err := New(envOf(map[string]string{"NOTIFY_SOCKET": sock}))
			if err != nil {
				t.Fatal(err)
			}
			if err := n.Notify(Ready, "STATUS=serving 3 features"); err != nil {
				t.Fatal(err)
			}
			if got, _ := next(10 * time.Second); got != "READY=1\nSTATUS=serving 3 features" {
				t.Errorf("datagram %q", got)
			}
		})
	}
}

func TestNoSystemd(t *testing.T) {
	n, err := New(envOf(nil))
	if !errors.Is(err, ErrNoSocket) {
		t.Fatalf("New without NOTIFY_SOCKET: %v, want ErrNoSocket", err)
	}
	if err := n.Notify(Ready); err != nil { // a nil Notifier sends nothing
		t.Errorf("nil Notifier: %v", err)
	}
	if _, err := New(envOf(map[string]string{"NOTIFY_SOCKET": "relative/path"})); err == nil {
		t.Error("a relative NOTIFY_SOCKET was accepted")
	}
	gone := filepath.Join(t.TempDir(), "gone")
	n, err = New(envOf(map[string]string{"NOTIFY_SOCKET": gone}))
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Notify(Ready); err == nil {
		t.Error("notifying a socket nobody listens on succeeded")
	}
}

func TestWatchdogInterval(t *testing.T) {
	tests := []struct {
		vars map[string]string
		want time.Duration
		ok   bool
	}{
		{nil, 0, false},
		{map[string]string{"WATCHDOG_USEC": "30000000"}, 15 * time.Second, true},
		{map[string]string{"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "42"}, 15 * time.Second, true},
		{map[string]string{"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "43"}, 0, false}, // another process's
		{map[string]string{"WATCHDOG_USEC": "0"}, 0, false},
		{map[string]string{"WATCHDOG_USEC": "soon"}, 0, false},
	}
	for _, tt := range tests {
		got, ok := WatchdogInterval(envOf(tt.vars), 42)
		if got != tt.want || ok != tt.ok {
			t.Errorf("WatchdogInterval(%v) = %v, %v; want %v, %v", tt.vars, got, ok, tt.want, tt.ok)
		}
	}
}

// TestRunWatchdog: pings while alive succeeds, none while it fails, and
// stops with its context.
func TestRunWatchdog(t *testing.T) {
	sock, next := listen(t, filepath.Join(t.TempDir(), "notify"))
	n, err := New(envOf(map[string]string{"NOTIFY_SOCKET": sock}))
	if err != nil {
		t.Fatal(err)
	}
	var healthy atomic.Bool
	healthy.Store(true)
	var failed atomic.Int32
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- n.RunWatchdog(ctx, 20*time.Millisecond, func(context.Context) error {
			if !healthy.Load() {
				failed.Add(1)
				return errors.New("sick")
			}
			return nil
		})
	}()
	for range 3 {
		if got, ok := next(10 * time.Second); got != Watchdog {
			t.Fatalf("datagram %q (%v), want %q", got, ok, Watchdog)
		}
	}
	healthy.Store(false)
	// Pings already queued may still arrive; after the first failed check
	// there must be none.
	deadline := time.Now().Add(10 * time.Second)
	for failed.Load() == 0 && time.Now().Before(deadline) {
		next(10 * time.Millisecond)
	}
	for { // drain
		if _, ok := next(50 * time.Millisecond); !ok {
			break
		}
	}
	if got, ok := next(300 * time.Millisecond); ok {
		t.Errorf("got %q while alive fails", got)
	}
	if failed.Load() < 2 {
		t.Errorf("alive checked %d times while failing, want it to keep checking", failed.Load())
	}
	healthy.Store(true)
	if got, _ := next(10 * time.Second); got != Watchdog {
		t.Errorf("no ping after recovery (got %q)", got)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("RunWatchdog did not stop with its context")
	}
}
