//go:build !unix

package sampler

import "time"

// ProcessCPU returns the CPU time the whole process has used since it
// started, and whether it could be read: never here, where getrusage is
// missing. CPU windows then carry no CPUTime and readers fall back to
// counting samples.
func ProcessCPU() (time.Duration, bool) { return 0, false }
