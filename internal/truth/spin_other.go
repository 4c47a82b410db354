//go:build !amd64 && !arm64

package truth

import "time"

// asmSpin is false where the harness has no assembly loop: spin is then
// preemptible Go, the scheduler is not stalled, and the scheduler-stall
// figures are not judged.
const asmSpin = false

type spinClock struct{}

func calibrate() spinClock { return spinClock{} }

func (spinClock) spin(d time.Duration) {
	for t := time.Now(); time.Since(t) < d; {
		crunch()
	}
}
