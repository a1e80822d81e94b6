//go:build !linux

package sdnotify

// ReloadingNow is RELOADING=1; systemd runs on Linux only, where the
// message also carries MONOTONIC_USEC.
func ReloadingNow() []string { return []string{Reloading} }
