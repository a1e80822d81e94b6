//go:build unix

package journal_test

import (
	"syscall"
	"time"
)

// processCPU is the CPU time the test process (the journal and the NATS
// servers it runs) has used so far: pairs per CPU second is steadier than
// pairs per wall second on a shared machine.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
