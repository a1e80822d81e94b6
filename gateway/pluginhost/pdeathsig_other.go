//go:build !linux

package pluginhost

import "os/exec"

// setPdeathsig does nothing where the kernel has no parent-death signal;
// the SDK's own watch on its parent process covers these systems.
func setPdeathsig(*exec.Cmd) {}
