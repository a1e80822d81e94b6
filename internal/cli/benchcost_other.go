//go:build !unix

package cli

import "time"

// selfCPU is not measured where getrusage is missing.
func selfCPU() time.Duration { return 0 }
