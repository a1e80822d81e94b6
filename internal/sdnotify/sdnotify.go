package sdnotify

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// Messages the gateway sends (sd_notify(3) lists the rest).
const (
	Ready     = "READY=1"
	Reloading = "RELOADING=1"
	Stopping  = "STOPPING=1"
	Watchdog  = "WATCHDOG=1"
)

// ErrNoSocket is returned by New when $NOTIFY_SOCKET is unset: the process
// does not run under systemd (or the unit is not Type=notify).
var ErrNoSocket = errors.New("NOTIFY_SOCKET is not set")

// Notifier sends notifications to one socket. The zero value and a nil
// *Notifier send nothing, so callers need not check whether they run
// under systemd.
type Notifier struct {
	addr *net.UnixAddr
}

// New is the notifier of $NOTIFY_SOCKET (read with getenv): a path, or an
// abstract socket name starting with "@".
func New(getenv func(string) string) (*Notifier, error) {
	name := getenv("NOTIFY_SOCKET")
	if name == "" {
		return nil, ErrNoSocket
	}
	if !strings.HasPrefix(name, "/") && !strings.HasPrefix(name, "@") {
		return nil, fmt.Errorf("NOTIFY_SOCKET=%q is neither a path nor an abstract socket", name)
	}
	// Go's net package maps a leading "@" to Linux's abstract namespace.
	return &Notifier{addr: &net.UnixAddr{Name: name, Net: "unixgram"}}, nil
}

// Notify sends one datagram of newline-separated assignments, such as
// Notify(Ready, "STATUS=serving").
func (n *Notifier) Notify(states ...string) error {
	if n == nil || n.addr == nil {
		return nil
	}
	c, err := net.DialUnix("unixgram", nil, n.addr)
	if err != nil {
		return fmt.Errorf("sd_notify: %w", err)
	}
	defer c.Close()
	if _, err := c.Write([]byte(strings.Join(states, "\n"))); err != nil {
		return fmt.Errorf("sd_notify: %w", err)
	}
	return nil
}

// WatchdogInterval is how often systemd expects WATCHDOG=1: half of
// $WATCHDOG_USEC, as sd_watchdog_enabled(3) advises, when the watchdog is
// on and meant for this process ($WATCHDOG_PID unset or pid). ok is false
// when there is no watchdog.
func WatchdogInterval(getenv func(string) string, pid int) (interval time.Duration, ok bool) {
	usec, err := strconv.ParseInt(getenv("WATCHDOG_USEC"), 10, 64)
	if err != nil || usec <= 0 {
		return 0, false
	}
	if p := getenv("WATCHDOG_PID"); p != "" && p != strconv.Itoa(pid) {
		return 0, false
	}
	return time.Duration(usec) * time.Microsecond / 2, true
}

// RunWatchdog sends WATCHDOG=1 every interval for as long as ctx lasts and
// alive returns nil; when alive fails or hangs the pings stop, and systemd
// restarts the service once WatchdogSec passes. alive gets a context that
// ends after interval.
func (n *Notifier) RunWatchdog(ctx context.Context, interval time.Duration, alive func(context.Context) error) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		actx, cancel := context.WithTimeout(ctx, interval)
		err := alive(actx)
		cancel()
		if err != nil {
			continue // no ping: let systemd judge
		}
		if err := n.Notify(Watchdog); err != nil {
			return err
		}
	}
}
