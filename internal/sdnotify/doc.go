// Package sdnotify speaks systemd's service notification protocol
// (sd_notify(3)): datagrams such as "READY=1" and "WATCHDOG=1" to the
// socket named by $NOTIFY_SOCKET, so that a unit with Type=notify knows
// when the gateway serves and WatchdogSec= knows it is alive. It is a few
// dozen lines of the protocol rather than a dependency on libsystemd or
// go-systemd; outside systemd ($NOTIFY_SOCKET unset) every call does
// nothing.
package sdnotify
