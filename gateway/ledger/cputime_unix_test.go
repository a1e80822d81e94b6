//go:build unix

package ledger_test

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time the test process (the ledger, the journal and the
// embedded NATS server alike) has used so far. The pairs benchmark reports
// pairs per CPU second besides pairs per wall second, because on a shared
// machine the wall clock measures the neighbours as much as the code.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
