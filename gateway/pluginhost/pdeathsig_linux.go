package pluginhost

import (
	"os/exec"
	"syscall"
)

// setPdeathsig has the kernel send the plugin SIGTERM when the gateway dies.
func setPdeathsig(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
