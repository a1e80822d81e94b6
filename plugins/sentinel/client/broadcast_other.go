//go:build !unix

package client

// setBroadcast is a no-op where the socket option is not reachable through
// syscall; discovery then works with unicast address lists only.
func setBroadcast(uintptr) error { return nil }
