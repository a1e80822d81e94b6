//go:build !unix

package sdk

import "time"

// processCPU is not reported where getrusage is missing.
func processCPU() (time.Duration, bool) { return 0, false }
