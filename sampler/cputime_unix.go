//go:build unix

package sampler

import (
	"syscall"
	"time"
)

// ProcessCPU returns the CPU time (user and system) the whole process has
// used since it started, as getrusage reports it, and whether it could be
// read. On Linux the figure is the scheduler's own accounting, to the
// microsecond, whatever the profiler sampled.
func ProcessCPU() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
