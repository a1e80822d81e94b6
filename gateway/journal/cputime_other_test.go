//go:build !unix

package journal_test

import "time"

// processCPU is not measured here: the benchmark reports no pairs/cpu-s.
func processCPU() time.Duration { return 0 }
