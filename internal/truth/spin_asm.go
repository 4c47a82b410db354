//go:build amd64 || arm64

package truth

import "time"

// asmSpin says that spin holds its P: Go cannot preempt a goroutine inside an
// assembly loop, so while every P runs one, nothing else in the process is
// scheduled. That is how a codec's SIMD loop stalls a Go scheduler.
const asmSpin = true

// ticks reads the CPU's constant-rate counter (TSC, CNTVCT_EL0).
func ticks() uint64

// spinUntil loops in assembly, without a preemption point, until the counter
// reaches deadline.
func spinUntil(deadline uint64) uint64

// A spinClock converts durations to counter ticks.
type spinClock struct{ perNs float64 }

// calibrate measures the counter's rate against the wall clock.
func calibrate() spinClock {
	t0, c0 := time.Now(), ticks()
	time.Sleep(50 * time.Millisecond)
	t1, c1 := time.Now(), ticks()
	return spinClock{perNs: float64(c1-c0) / float64(t1.Sub(t0))}
}

// spin holds the calling goroutine's P for d of wall time.
func (c spinClock) spin(d time.Duration) {
	spinUntil(ticks() + uint64(c.perNs*float64(d)))
}
