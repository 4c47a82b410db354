//go:build linux && !amd64 && !arm64

package truth

import "time"

// asmSpin is false where the harness has no assembly loop: spin is then
// preemptible Go, the scheduler is not stalled, and the scheduler-stall
// figures are not judged.
const asmSpin = false

type spinClock struct{}

func calibrate() spinClock { return spinClock{} }

type spinGroup struct{}

func (spinClock) group(int) *spinGroup { return &spinGroup{} }

func (*spinGroup) spin(_ int, d time.Duration) (arrived, start, end time.Time, cpu time.Duration) {
	start = time.Now()
	for time.Since(start) < d {
		crunch()
	}
	return start, start, time.Now(), 0
}
