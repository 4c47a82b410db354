package introspect_test

import (
	"syscall"
	"time"
)

// holderThreadCPU returns the CPU time of the calling thread (lock the goroutine
// to it first), the ground truth of a holder's own CPU.
func holderThreadCPU() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(1, &ru); err != nil { // RUSAGE_THREAD
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
