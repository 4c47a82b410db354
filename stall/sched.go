package stall

import (
	"context"
	"runtime"
	"runtime/metrics"
	"sync"
	"time"
)

// A SchedProbe measures scheduler stalls: stretches of time in which
// goroutines that were ready to run could not get a processor. Real Go
// programs starve the scheduler in three ways, and the probe sees each:
//
//   - Every P is busy and more goroutines are runnable than there are Ps
//     (CPU saturation): goroutines are preempted every 10ms, so everybody
//     runs now and then, but everybody waits. The runtime's counts of
//     running and runnable goroutines show it at every tick, and the
//     probe's own trip through the global run queue (runtime.Gosched)
//     takes milliseconds instead of microseconds.
//   - Work that cannot be preempted holds every P (a long non-preemptible
//     loop, a stop-the-world pause, a GC phase): nothing runs, not even
//     timers, so the probe's own tick fires late by the length of the
//     stall.
//   - The garbage collector's mark workers and assists take Ps from the
//     application: seen as saturation.
//
// The probe ticks every Interval. At each tick it measures how late its
// timer fired and how long a trip through the run queue takes, and reads
// how many goroutines are running and runnable. A tick is saturated when
// the probe itself waited a millisecond or more, or when every P was
// running with goroutines still queued. Consecutive saturated ticks make one
// lag. It starts halfway between the last quiet observation and the first
// saturated one (for a late timer, the moment it was due), and ends halfway
// between the last saturated observation and the next quiet one, or exactly
// when a late timer finally fired if the run queue was quick by then. So a
// lag's length is a measurement, good to about Interval/2 at each end:
// within 4% of a 300ms stall at the default 10ms.
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
	// Threshold is the shortest lag kept. Zero means 50ms.
	Threshold time.Duration

	mu      sync.Mutex
	worst   int64      // longest single wait since the last Worst, nanoseconds
	done    []SchedLag // lags ended and not yet taken
	run     lagRun     // the lag in progress, if run.active
	quietAt int64      // monotonic time of the last quiet observation
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
	start      int64 // monotonic
	lastSat    int64 // the last moment a tick saw saturation
	worst      int64
	id         uint64 // 0 until the lag is first reported
	nextReport int64  // the length due the next ongoing report
}

const (
	defaultProbeInterval = 10 * time.Millisecond
	// saturatedWait is the wait of the probe that marks a tick saturated:
	// an idle scheduler serves a timer or a Gosched in microseconds.
	saturatedWait = int64(time.Millisecond)
)

// The runtime metrics a tick reads.
var probeMetrics = []string{"/sched/goroutines/runnable:goroutines", "/sched/goroutines/running:goroutines"}

// Run measures until ctx is done.
func (p *SchedProbe) Run(ctx context.Context) {
	iv := p.Interval
	if iv <= 0 {
		iv = defaultProbeInterval
	}
	samples := make([]metrics.Sample, len(probeMetrics))
	for i, name := range probeMetrics {
		samples[i].Name = name
	}
	p.mu.Lock()
	p.quietAt = monoNow()
	p.mu.Unlock()
	t := time.NewTicker(iv)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			p.mu.Lock()
			if p.run.active {
				p.end(p.run.lastSat)
			}
			p.mu.Unlock()
			return
		case due := <-t.C:
			// The ticker sends the time the tick was due, not the time it
			// fired, so the difference is the timer's lateness.
			p.tick(monoOf(due), samples)
		}
	}
}

// tick makes one observation for the tick due at due (monotonic).
func (p *SchedProbe) tick(due int64, samples []metrics.Sample) {
	woke := monoNow()
	late := woke - due
	metrics.Read(samples)
	runnable, running := gauge(samples[0]), gauge(samples[1])
	busy := runnable >= 1 && running >= int64(runtime.GOMAXPROCS(0))
	g0 := monoNow()
	runtime.Gosched()
	g1 := monoNow()
	queued := g1 - g0
	wait := max(late, queued)

	p.mu.Lock()
	defer p.mu.Unlock()
	p.worst = max(p.worst, wait)
	lateSat := late >= saturatedWait          // nothing ran for a while before woke
	nowSat := queued >= saturatedWait || busy // still saturated at g1
	if !lateSat && !nowSat {
		if p.run.active {
			p.end(p.run.lastSat + (woke-p.run.lastSat)/2)
		}
		p.quietAt = g1
		return
	}
	if !p.run.active {
		first := woke // the first moment seen saturated
		if lateSat {
			first = due
		}
		p.run = lagRun{active: true, start: p.quietAt + (first-p.quietAt)/2}
	}
	p.run.worst = max(p.run.worst, wait)
	if nowSat {
		p.run.lastSat = g1
		return
	}
	// Late, and quick through the run queue: the stall ended when the
	// timer could fire, which is when the probe woke.
	p.run.lastSat = woke
	p.end(woke)
	p.quietAt = g1
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

// end ends the lag in progress at end (monotonic). p.mu must be held.
func (p *SchedProbe) end(end int64) {
	r := p.run
	p.run = lagRun{}
	if end-r.start < p.threshold() && r.id == 0 {
		return
	}
	if r.id == 0 {
		r.id = newID()
	}
	if len(p.done) < 64 { // a reader that stopped taking must not grow this
		p.done = append(p.done, SchedLag{ID: r.id, Start: wallOf(r.start), End: wallOf(end), Worst: time.Duration(r.worst)})
	}
}

// Lags returns the lags that ended since the previous call, at least
// Threshold long, and the lag going on now if it is that long and due a
// report: the first time it is, then each time its length doubles, so a
// long stall is seen while it lasts without a report every call.
func (p *SchedProbe) Lags() []SchedLag {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := p.done
	p.done = nil
	if r := &p.run; r.active {
		n := r.lastSat - r.start
		if n >= p.threshold() && n >= r.nextReport {
			if r.id == 0 {
				r.id = newID()
			}
			r.nextReport = 2 * n
			out = append(out, SchedLag{ID: r.id, Start: wallOf(r.start), End: wallOf(r.lastSat), Worst: time.Duration(r.worst), Ongoing: true})
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

// gauge reads an integer gauge, or -1 when the runtime lacks the metric.
func gauge(s metrics.Sample) int64 {
	if s.Value.Kind() != metrics.KindUint64 {
		return -1
	}
	return int64(s.Value.Uint64())
}
