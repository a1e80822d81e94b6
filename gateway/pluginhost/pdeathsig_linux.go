package pluginhost

import (
	"os/exec"
	"syscall"
)

// setPdeathsig has the kernel send the plugin SIGTERM when the gateway dies.
// Linux ties the signal to the thread that forked, not the process; the Go
// runtime keeps its threads for the life of the process (unless a goroutine
// exits while locked to its thread), and the SDK's own watch on its parent
// and on its Seats stream covers that case.
func setPdeathsig(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
