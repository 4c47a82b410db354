package stall

import (
	"context"
	"runtime"
	"sync/atomic"
	"time"
)

// A SchedProbe measures run-queue delay: how long a goroutine that is ready
// to run waits for a processor. When every P is busy (CPU saturation, a GC
// assist storm, a flood of goroutines), that wait is what every session's
// next step pays.
//
// Each Interval the probe wakes and yields with runtime.Gosched, which puts
// it at the back of the global run queue, and times how long it takes to run
// again. It does not time how late its own timer fired: a goroutine woken by
// a timer jumps the run queue, so sleep lateness misses the wait the others
// see (14ms at the 99th percentile, in a measurement where the real delay was
// 2s).
//
// Run it in its own goroutine and read [SchedProbe.Worst] once per window.
// The zero value is ready to use; a SchedProbe must not be copied after Run.
type SchedProbe struct {
	// Interval is how often the probe measures. Zero means 20ms.
	Interval time.Duration

	worst   atomic.Int64 // nanoseconds, since the last Worst
	started atomic.Int64 // monotonic start of the measurement in progress, 0 if none
}

const defaultProbeInterval = 20 * time.Millisecond

// Run measures until ctx is done.
func (p *SchedProbe) Run(ctx context.Context) {
	iv := p.Interval
	if iv <= 0 {
		iv = defaultProbeInterval
	}
	t := time.NewTicker(iv)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			p.measure()
		}
	}
}

// measure times one trip through the run queue.
func (p *SchedProbe) measure() {
	start := monoNow()
	p.started.Store(start)
	runtime.Gosched()
	d := monoNow() - start
	p.started.Store(0)
	p.observe(d)
}

// observe raises the worst delay to d if it is larger.
func (p *SchedProbe) observe(d int64) {
	for {
		w := p.worst.Load()
		if d <= w || p.worst.CompareAndSwap(w, d) {
			return
		}
	}
}

// Worst returns the longest delay seen since the previous call to Worst (or
// since Run began) and starts a new window. A measurement still waiting to
// be scheduled counts with the time it has waited so far, so a scheduler that
// stays saturated is seen while it lasts, not after.
func (p *SchedProbe) Worst() time.Duration {
	w := p.worst.Swap(0)
	if s := p.started.Load(); s != 0 {
		w = max(w, monoNow()-s)
	}
	return time.Duration(w)
}
