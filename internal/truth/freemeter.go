//go:build linux

package truth

import (
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

// A freeMeter measures the CPU of a goroutine that is NOT locked to its
// thread, as a worker's goroutines are not: the scheduler may move it to
// another thread, or run another goroutine on its thread, at any moment.
// The goroutine works in small steps of known cost and reads its thread's
// CPU clock between them, with the thread id on both sides. A step that
// stayed on one thread and cost no more than two steps' worth is counted as
// read; any other (it moved, or another goroutine ran on its thread in
// between) is counted at the calibrated cost of a step. Either way nothing
// of another goroutine's CPU enters the count. It lets the harness check a
// CPU figure on a goroutine the way workers run them, beside the locked
// ones whose clocks the monitor reads.
type freeMeter struct {
	step      time.Duration // calibrated CPU of one step
	tid       int
	clock     time.Duration
	used      time.Duration
	estimated int // steps counted at their calibrated cost
	read      int // steps counted as read
	// long is what the steps that stayed on one thread but cost more than
	// two steps' worth read: CPU of other goroutines run on the thread in
	// between, or this one's own slow steps; not counted, kept to judge the
	// meter by (see its test).
	long time.Duration
}

// freeStep is one step of work: a few tens of microseconds.
func freeStep() {
	for range 8 {
		crunch()
	}
}

// newFreeMeter calibrates a step's cost: the median of many, on a locked
// thread, where each reading is exact.
func newFreeMeter() *freeMeter {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	costs := make([]float64, 0, 400)
	for range cap(costs) {
		c0 := threadCPU()
		freeStep()
		costs = append(costs, float64(threadCPU()-c0))
	}
	return &freeMeter{step: time.Duration(quantile(costs, 0.5))}
}

// restart forgets the thread: call it after the goroutine blocked.
func (m *freeMeter) restart() { m.tid = 0 }

// work does one step and counts it.
func (m *freeMeter) work() {
	freeStep()
	t1 := unix.Gettid()
	c := threadCPU()
	t2 := unix.Gettid()
	switch d := c - m.clock; {
	case m.tid != 0 && t1 == m.tid && t2 == m.tid && d > 0 && d <= 2*m.step:
		m.used += d
		m.read++
	default:
		m.used += m.step
		m.estimated++
		if m.tid != 0 && t1 == m.tid && t2 == m.tid && d > 0 {
			m.long += d - m.step
		}
	}
	m.tid, m.clock = 0, c
	if t1 == t2 {
		m.tid = t1
	}
}

// freeDutyCycle is dutyCycle for an unlocked goroutine, measured by m.
func freeDutyCycle(m *freeMeter, duty float64, until time.Time) {
	const period = 50 * time.Millisecond
	for p := time.Now(); p.Before(until); p = p.Add(period) {
		target := m.used + time.Duration(duty*float64(period))
		m.restart()
		for m.used < target && time.Since(p) < period {
			m.work()
		}
		time.Sleep(time.Until(p.Add(period)))
	}
}
