package sdnotify

import (
	"strconv"

	"golang.org/x/sys/unix"
)

// ReloadingNow is RELOADING=1 with the MONOTONIC_USEC systemd wants beside
// it (sd_notify(3)), to be followed by READY=1 when the reload is done.
func ReloadingNow() []string {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		return []string{Reloading}
	}
	return []string{Reloading, "MONOTONIC_USEC=" + strconv.FormatInt(ts.Nano()/1000, 10)}
}
