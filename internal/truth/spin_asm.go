//go:build linux && (amd64 || arm64)

package truth

import (
	"runtime"
	"sync/atomic"
	"time"
)

// asmSpin says that spin holds its P: Go cannot preempt a goroutine inside an
// assembly loop, so while every P runs one, nothing else in the process is
// scheduled. That is how a codec's SIMD loop stalls a Go scheduler.
const asmSpin = true

// ticks reads the CPU's constant-rate counter (TSC, CNTVCT_EL0).
func ticks() uint64

// spinTogether adds one to *arrived, waits in assembly until n spinners
// have arrived (or the counter reaches giveUp), then loops for dur ticks. It
// returns the counter when the loop began and ended. No instruction of it is
// a preemption point.
func spinTogether(arrived *uint32, n, dur, giveUp uint64) (start, end uint64)

// A spinClock converts durations to counter ticks.
type spinClock struct{ perNs float64 }

// calibrate measures the counter's rate against the wall clock.
func calibrate() spinClock {
	t0, c0 := time.Now(), ticks()
	time.Sleep(100 * time.Millisecond)
	t1, c1 := time.Now(), ticks()
	return spinClock{perNs: float64(c1-c0) / float64(t1.Sub(t0))}
}

// A spinGroup is n goroutines that spin together. Getting every P held at
// once is the hard part: a goroutine that entered the loop alone would keep
// the others queued behind it, and one that waits inside the assembly for the
// others deadlocks any stop-the-world (a GC, a goroutine profile) until it
// gives up. So the members first meet in Go, preemptibly, until all of them
// run at the same moment, and only then enter the assembly, where each waits
// at most 100 ms for the rest (a loaded machine's threads are descheduled on
// the way in; a stop-the-world meanwhile waits as long). Spin.FirstHeld
// records how long some P was held before every P was.
type spinGroup struct {
	clk     spinClock
	n       int
	beats   []atomic.Int64
	goNow   atomic.Bool
	arrived uint32 // written by the assembly only
}

func (c spinClock) group(n int) *spinGroup {
	return &spinGroup{clk: c, n: n, beats: make([]atomic.Int64, n)}
}

// spin is member p's part: it holds the calling goroutine's P until the group
// has arrived, then for d, and returns when, by the wall clock, it entered
// the assembly and its loop began and ended, and the CPU it used in the
// assembly. The times come from the counter read inside the assembly,
// anchored to the wall clock just after: a goroutine can be preempted on its
// way in or out, which must not count.
//
// Nothing between meeting and the assembly may give the P up: not a system
// call (a P left in one is taken by the runtime for the goroutines queued
// behind it, and the member came back through the global run queue while the
// others held their Ps in the assembly, 125 ms in a saturated worker), and
// not a locked thread's hand-offs while meeting (preempted, a locked
// goroutine waits for its own thread, and the members held the Ps so long
// that nothing ran for 70 ms before the spin began). So the CPU is read
// from the thread's clock with a raw system call, which keeps the P. It
// can be well short of the loop's length: the P is held all along, but the
// OS may run other threads, of this process or others, on the CPU meanwhile.
func (g *spinGroup) spin(p int, d time.Duration) (arrived, start, end time.Time, cpu time.Duration) {
	g.meet(p)
	c := g.clk
	runtime.LockOSThread()
	arrived, c0 := time.Now(), rawThreadCPU()
	s, e := spinTogether(&g.arrived, uint64(g.n), uint64(c.perNs*float64(d)), ticks()+uint64(c.perNs*float64(100*time.Millisecond)))
	c1, now, at := rawThreadCPU(), time.Now(), ticks()
	runtime.UnlockOSThread()
	back := func(tick uint64) time.Time {
		return now.Add(-time.Duration(float64(at-tick) / c.perNs))
	}
	return arrived, back(s), back(e), c1 - c0
}

// meet returns when every member is running at once. Each beats while it
// runs, without yielding, and the first to see every beat fresh says go; the
// others, running at that moment, see it within microseconds and all enter
// the assembly together, where none holds its P waiting for the rest. A
// member that yielded between beats would be in the global run queue when
// the go came, behind a saturated worker's runnable goroutines (77 to
// 200 ms), while the others held their Ps in the assembly: some Ps held,
// not all, which is no clean scheduler stall. Beating without yielding, a
// member is preempted only by the scheduler's 10 ms slice, and meeting
// takes a few slices at most.
func (g *spinGroup) meet(p int) {
	const fresh = int64(100 * time.Microsecond)
	for !g.goNow.Load() {
		now := time.Now().UnixNano()
		g.beats[p].Store(now)
		all := true
		for q := range g.beats {
			if now-g.beats[q].Load() > fresh {
				all = false
				break
			}
		}
		if all {
			g.goNow.Store(true)
			return
		}
	}
}
