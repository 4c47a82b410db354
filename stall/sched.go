package stall

import (
	"context"
	"runtime"
	"sync"
	"time"
)

// A SchedProbe measures scheduler stalls: stretches of time in which a
// goroutine that was ready to run could not get a processor. Real Go
// programs starve the scheduler in three ways, and the probe sees each:
//
//   - Work that cannot be preempted holds every P (a loop in assembly or
//     cgo-free code the runtime cannot stop, a stop-the-world pause, a GC
//     phase): nothing runs, not even timers, so the probe's own tick fires
//     late by the length of the stall.
//   - Every P is busy and more goroutines are runnable than there are Ps
//     (CPU saturation): goroutines are preempted every 10ms and queue, and
//     the probe's own trip through the global run queue (runtime.Gosched)
//     takes as long as a queued goroutine waits.
//   - The machine itself is oversubscribed (other processes, a CPU quota):
//     the process's threads wait for the OS, and the probe with them.
//
// The probe ticks every Interval and measures how late its timer fired and
// how long a trip through the run queue takes. A wait of at least Threshold
// is a lag: from when the tick was due (placed halfway since the probe last
// ran, since the stall began somewhere in between) to when the probe ran,
// or from when it entered the run queue to when it left it. Ticks that wait
// that long one after the other, the same way, with no quick tick between,
// make one lag; a late timer and a long queue are never merged, so a spin
// that holds every P in the middle of a saturated minute is measured on
// its own.
// So a lag's length is a measurement, good to about Interval/2 (within 3%
// of a 300ms stall at the default 10ms), and a machine that is merely busy
// (every wait a few milliseconds) has no lag at all, however long it stays
// busy: what counts is how long a runnable goroutine waited, not how long
// the run queue was never empty.
//
// The runtime's own scheduling-latency histogram (/sched/latencies:seconds)
// is not used for a stall's length: it gives bucket bounds (67, 101, 336ms
// for stalls of 300 to 540ms), good for percentiles, not for a duration.
//
// Run it in its own goroutine and take its lags with [SchedProbe.Lags]. The
// zero value is ready to use; a SchedProbe must not be copied after Run.
type SchedProbe struct {
	// Interval is how often the probe measures. Zero means 10ms: a
	// hundred wake-ups a second of a few microseconds each.
	Interval time.Duration
	// Threshold is the shortest wait that makes a lag. Zero means 50ms.
	Threshold time.Duration

	mu    sync.Mutex
	worst int64      // longest single wait since the last Worst, nanoseconds
	done  []SchedLag // lags ended and not yet taken
	run   lagRun     // the lag in progress, if run.active
	ranAt int64      // monotonic time the probe last got through a tick
}

// A SchedLag is one scheduler stall the probe measured.
type SchedLag struct {
	// ID identifies the lag; an ongoing report and the final one share it.
	ID uint64
	// Start is when the lag began, End when it ended or, for one still
	// going on, the latest tick that saw it.
	Start, End time.Time
	// Worst is the longest wait the probe itself had in the lag: how late
	// its timer fired or how long it queued for a processor.
	Worst time.Duration
	// Ongoing is set for a lag still going on.
	Ongoing bool
}

// Duration returns the lag's length.
func (l SchedLag) Duration() time.Duration { return l.End.Sub(l.Start) }

// lagRun is the lag in progress.
type lagRun struct {
	active     bool
	kind       int   // lagStopped or lagQueued
	start, end int64 // monotonic
	worst      int64
	id         uint64 // 0 until the lag is first reported
	nextReport int64  // the length due the next ongoing report
}

const defaultProbeInterval = 10 * time.Millisecond

// Run measures until ctx is done.
func (p *SchedProbe) Run(ctx context.Context) {
	iv := p.interval()
	p.mu.Lock()
	p.ranAt = monoNow()
	p.mu.Unlock()
	t := time.NewTicker(iv)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			p.mu.Lock()
			p.finish()
			p.mu.Unlock()
			return
		case due := <-t.C:
			// The ticker sends the time the tick was due, not the time it
			// fired, so the difference is the timer's lateness.
			p.tick(monoOf(due))
		}
	}
}

// tick makes one observation for the tick due at due (monotonic).
func (p *SchedProbe) tick(due int64) {
	woke := monoNow()
	p.mu.Lock()
	// A tick that fell due while the probe was still queued in the
	// previous one is late by the queue, not by the timer.
	due = max(due, p.ranAt)
	p.mu.Unlock()
	late := woke - due
	g0 := monoNow()
	runtime.Gosched()
	g1 := monoNow()
	queued := g1 - g0

	p.mu.Lock()
	defer p.mu.Unlock()
	p.worst = max(p.worst, late, queued)
	thr := p.threshold()
	if late < thr && queued < thr {
		p.finish() // a quick tick: whatever lag there was is over
		p.ranAt = g1
		return
	}
	if late >= thr {
		// Nothing ran timers from somewhere after the probe last ran
		// until it woke; halfway is the unbiased guess.
		p.extend(lagStopped, p.ranAt+(due-p.ranAt)/2, woke, late)
	}
	if queued >= thr {
		p.extend(lagQueued, g0, g1, queued)
	}
	p.ranAt = g1
}

// The two kinds of lag. A stretch in which nothing ran (not even timers) and
// a stretch in which runnable goroutines queued are told apart and never
// merged: a spin that holds every P for 300ms in the middle of a saturated
// minute is a 300ms stall of its own.
const (
	lagStopped = 1 + iota // the probe's timer fired late: no P ran the scheduler
	lagQueued             // the probe queued behind other runnable goroutines
)

// extend adds a wait of the given kind from start to end (monotonic) to the
// lag in progress if it is of that kind, else ends that one and begins a
// new lag. p.mu must be held.
func (p *SchedProbe) extend(kind int, start, end, wait int64) {
	if p.run.active && p.run.kind != kind {
		p.finish()
	}
	if !p.run.active {
		p.run = lagRun{active: true, kind: kind, start: start}
	}
	p.run.end = max(p.run.end, end)
	p.run.worst = max(p.run.worst, wait)
}

func (p *SchedProbe) interval() time.Duration {
	if p.Interval <= 0 {
		return defaultProbeInterval
	}
	return p.Interval
}

func (p *SchedProbe) threshold() int64 {
	if p.Threshold <= 0 {
		return int64(defaultThreshold)
	}
	return int64(p.Threshold)
}

// finish ends the lag in progress, if any. p.mu must be held.
func (p *SchedProbe) finish() {
	r := p.run
	if !r.active {
		return
	}
	p.run = lagRun{}
	if r.id == 0 {
		r.id = newID()
	}
	if len(p.done) < 64 { // a reader that stopped taking must not grow this
		p.done = append(p.done, SchedLag{ID: r.id, Start: wallOf(r.start), End: wallOf(r.end), Worst: time.Duration(r.worst)})
	}
}

// Lags returns the lags that ended since the previous call, and the lag
// going on now (a run of long waits not yet ended by a quick tick) if it is
// due a report: the first time it is seen, then each time its length
// doubles, so a long stall is seen while it lasts without a report every
// call.
func (p *SchedProbe) Lags() []SchedLag {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := p.done
	p.done = nil
	if r := &p.run; r.active {
		if n := r.end - r.start; n >= r.nextReport {
			if r.id == 0 {
				r.id = newID()
			}
			r.nextReport = 2 * n
			out = append(out, SchedLag{ID: r.id, Start: wallOf(r.start), End: wallOf(r.end), Worst: time.Duration(r.worst), Ongoing: true})
		}
	}
	return out
}

// Worst returns the longest single wait the probe had since the previous
// call to Worst: how late its timer fired or how long it queued.
func (p *SchedProbe) Worst() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	w := p.worst
	p.worst = 0
	return time.Duration(w)
}
