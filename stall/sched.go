package stall

import (
	"cmp"
	"context"
	"runtime"
	"slices"
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
// The probe is two goroutines, so that neither measurement hides the other.
// A witness waits on a ticker every Interval and measures how late it fires:
// a tick that fires late means the scheduler did not run the timer (its P
// was held, or every P). After each tick it wakes a queuer, which takes a
// trip through the global run queue (runtime.Gosched) and measures how long
// the trip took; the queuer also trips on a timer of its own when the
// witness has not woken it for two intervals. A wait of at least Threshold
// is a lag. For the queuer, from when it entered the run queue to when it
// left it. For the witness, a stop: the longest stretch in its wait in which
// the queuer finished no trip either, nor a session entered a loop or mutex
// of [SchedProbe.Watchdog], if that is at least Threshold (else only the
// witness's own P was held or busy, and the scheduler kept running); a
// stop that begins when the witness last ran is placed halfway to when the
// tick would have fired (when it was due, plus the lateness every tick has
// anyway), since it began somewhere in between.
//
// The witness's lags are single waits: once it runs, the scheduler ran, so
// the stop is over. The queuer's waits that follow each other, with no quick
// one between, make one lag: saturation lasts while runnable goroutines keep
// waiting. The two kinds are never merged: a spin that holds every P in the
// middle of a saturated minute is measured by the witness on its own, and
// cut out of the queuer's lag around it, which would otherwise run from the
// start of the saturation, through the spin, to a queued trip after it.
// So a lag's length is a measurement, good to about Interval/2 (within 3%
// of a 300ms stall at the default 10ms) while the probe's goroutines run
// as soon as they are due; in a saturated worker they queue for tens of
// milliseconds before and after a stop, and the sessions' enters, which
// come every millisecond or so, place its ends. A machine that is merely busy
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
	// Watchdog, if not nil, lends the probe the enters of its loops and
	// mutexes as further proof that the scheduler ran: a stop is the
	// longest stretch in which neither the probe nor any session ran. In
	// a busy worker the probe's own goroutines queue behind everyone else
	// for tens of milliseconds before and after a stop, while sessions
	// enter their loops every millisecond or so; the stop then begins at
	// the last enter before it and ends at the first after it. It is
	// ignored with a Threshold under 10ms, the shortest lull a loop
	// records.
	Watchdog *Watchdog

	mu       sync.Mutex
	worst    int64      // longest single wait since the last Worst, nanoseconds
	done     []SchedLag // lags ended and not yet taken
	queued   lagRun     // the queuer's lag in progress, if queued.active
	stops    []span     // the witness's latest lags, to cut out of the queuer's
	ranAt    int64      // monotonic time the witness last ran
	usual    [16]int64  // the lateness of the witness's latest quick ticks
	nusual   int
	tripped  [8]int64 // when the queuer's latest trips were done, latest first
	lastLate int64    // how late the witness's latest tick was
	cpuAt    int64    // the process's CPU time when the witness last ran; -1: unknown
}

// span is a stretch of monotonic time.
type span struct{ start, end int64 }

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
	// CPU is the CPU time the whole process used while the witness waited
	// through the lag, zero where it was not measured (a lag of the
	// queuer's). A lag in which every P was held by goroutines the OS
	// then kept off the CPUs (other processes, a CPU quota) used less
	// than its length on every P.
	CPU time.Duration
	// Ongoing is set for a lag still going on.
	Ongoing bool
}

// Duration returns the lag's length.
func (l SchedLag) Duration() time.Duration { return l.End.Sub(l.Start) }

// lagRun is a lag in progress.
type lagRun struct {
	active     bool
	start, end int64 // monotonic
	worst      int64
	cpu        int64  // the process's CPU time over the lag; 0: not measured
	id         uint64 // 0 until the lag is first reported
	nextReport int64  // the length due the next ongoing report
}

const defaultProbeInterval = 10 * time.Millisecond

// maxStops is how many of the witness's lags are kept to cut out of a
// queued lag: a queued lag that ends has seen at most a few.
const maxStops = 8

// Run measures until ctx is done.
func (p *SchedProbe) Run(ctx context.Context) {
	iv := p.interval()
	cpu, ok := processCPU()
	if !ok {
		cpu = -1
	}
	p.mu.Lock()
	p.ranAt, p.cpuAt = monoNow(), cpu
	p.mu.Unlock()
	// The witness wakes the queuer after each tick rather than the queuer
	// keeping a ticker of its own: one timer wake-up per tick, and a
	// queuer still stuck in the run queue misses ticks instead of
	// stacking them.
	//
	// The queuer also trips when the witness has not woken it for two
	// intervals, on a timer of its own: when the witness is late because
	// the P its timer sits on is held or busy, and other Ps are not, the
	// queuer's trips show the scheduler running, so that a stop is only
	// what no trip could get through. That timer is armed only while the
	// witness runs late (by half an interval or more): resetting a timer
	// can wake a thread sleeping in the network poller, which cost an idle
	// process 0.2 % of a core, and a witness that keeps time needs no help
	// to place a stop.
	wake := make(chan struct{}, 1)
	var wg sync.WaitGroup
	wg.Go(func() {
		fallback := time.NewTimer(2 * iv)
		defer fallback.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-wake:
			case <-fallback.C:
			}
			if p.trip() >= int64(iv)/2 {
				fallback.Reset(2 * iv)
			} else {
				fallback.Stop()
			}
		}
	})
	t := time.NewTicker(iv)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			wg.Wait()
			p.mu.Lock()
			p.finishQueued()
			p.mu.Unlock()
			return
		case due := <-t.C:
			// The ticker sends the time the tick was due, not the time it
			// fired, so the difference is the timer's lateness.
			p.witness(monoOf(due))
			select {
			case wake <- struct{}{}:
			default:
			}
		}
	}
}

// witness makes the witness's observation for the tick due at due
// (monotonic): how late it fired.
func (p *SchedProbe) witness(due int64) {
	woke := monoNow()
	cpu, ok := processCPU()
	if !ok {
		cpu = -1
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	due = max(due, p.ranAt)
	late := woke - due
	p.worst = max(p.worst, late)
	p.lastLate = late
	if late < p.threshold() {
		p.usual[p.nusual%len(p.usual)] = late
		p.nusual++
	} else if start, end, ok := p.stop(due, woke); ok {
		// The witness ran, so the scheduler did: the stop is over, and
		// the next late tick is a stop of its own. (In a saturated
		// worker ticks 60 ms late follow each other; chained, they ran
		// into a spin's stop and made it 150 ms longer.)
		r := lagRun{start: start, end: end, worst: min(late, end-start)}
		if cpu >= 0 && p.cpuAt >= 0 {
			// Over the whole wait, of which the stop is the most.
			r.cpu = max(cpu-p.cpuAt, 1)
		}
		p.stopped(r)
	}
	p.ranAt, p.cpuAt = woke, cpu
}

// stop returns the stop that held up the witness's tick due at due until
// it woke, if there was one. The witness last ran at p.ranAt, and each trip
// the queuer finished meanwhile proves the scheduler ran then, as does each
// enter of the watchdog's loops: the stop is the longest stretch free of
// those proofs, if it is at least the threshold; shorter, the scheduler
// kept running and only the witness's own P was held or busy, which is no
// stop of the process. A stop whose stretch begins at a proof of the
// probe's own before the tick was due (when the witness last ran, or when
// the queuer finished its trip after it) began somewhere before the tick
// would have fired (when it was due, plus the lateness every tick has
// anyway: in a saturated worker tens of milliseconds); halfway is the
// unbiased guess.
// p.mu must be held.
func (p *SchedProbe) stop(due, woke int64) (start, end int64, ok bool) {
	proofs := make([]proof, 0, len(p.tripped)+1)
	for _, t := range p.tripped {
		if t > p.ranAt && t < woke {
			proofs = append(proofs, proof{span{t, t}, true})
		}
	}
	if p.Watchdog != nil && p.threshold() >= gapMin {
		for _, b := range p.Watchdog.ran(p.ranAt, woke) {
			proofs = append(proofs, proof{b, false})
		}
	}
	start, end, atProbe := longestFree(p.ranAt, woke, proofs)
	if end-start < p.threshold() {
		return 0, 0, false
	}
	// Whether the stretch begins when the witness last ran or when the
	// queuer finished the trip it woke it for, the stop began before the
	// next proof would have come: the tick, due plus its usual lateness.
	// A stretch that begins at a session's enter began about then: the
	// next enter would have come within milliseconds.
	if by := due + p.usualLate(); atProbe && by > start {
		start += (min(by, end) - start) / 2
	}
	return start, end, true
}

// usualLate returns the median lateness of the witness's latest quick
// ticks. p.mu must be held.
func (p *SchedProbe) usualLate() int64 {
	n := min(p.nusual, len(p.usual))
	if n == 0 {
		return 0
	}
	l := p.usual
	slices.Sort(l[:n])
	return l[n/2]
}

// trip makes the queuer's observation: how long a trip through the global
// run queue takes. It returns how late the witness's latest tick was.
func (p *SchedProbe) trip() (witnessLate int64) {
	g0 := monoNow()
	runtime.Gosched()
	g1 := monoNow()
	queued := g1 - g0
	p.mu.Lock()
	defer p.mu.Unlock()
	copy(p.tripped[1:], p.tripped[:])
	p.tripped[0] = g1
	p.worst = max(p.worst, queued)
	if queued < p.threshold() {
		p.finishQueued()
	} else {
		p.extend(&p.queued, g0, g1, queued)
	}
	return p.lastLate
}

// extend adds a wait from start to end (monotonic) to the lag in progress
// in r, or begins one. p.mu must be held.
func (p *SchedProbe) extend(r *lagRun, start, end, wait int64) {
	if !r.active {
		*r = lagRun{active: true, start: start}
	}
	r.end = max(r.end, end)
	r.worst = max(r.worst, wait)
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

// stopped keeps a stop the witness measured, and ends the queued lag
// around it where it began: what the queuer measured after it is a lag of
// its own, so the queued lag's ongoing reports never run through a stop.
// p.mu must be held.
func (p *SchedProbe) stopped(l lagRun) {
	p.stops = append(p.stops, span{l.start, l.end})
	if len(p.stops) > maxStops {
		p.stops = p.stops[len(p.stops)-maxStops:]
	}
	p.keep(l)
	if q := p.queued; q.active && q.start < l.end && q.end > l.start {
		p.queued = lagRun{}
		if q.end > l.end {
			p.queued = lagRun{active: true, start: l.end, end: q.end, worst: min(q.worst, q.end-l.end)}
		}
		q.end = min(q.end, l.start)
		q.worst = min(q.worst, max(q.end-q.start, 0))
		if q.end-q.start >= p.threshold() || q.id != 0 {
			p.keep(q)
		}
	}
}

// finishQueued ends the queued lag in progress, if any. It loses the
// stretches the witness measured as stopped (a trip that spanned a stop
// may have begun the lag before it): those are lags of their own, and what
// is left on either side is a lag if it is still long enough. p.mu must be
// held.
func (p *SchedProbe) finishQueued() {
	l := p.queued
	if !l.active {
		return
	}
	p.queued = lagRun{}
	pieces := []span{{l.start, l.end}}
	for _, c := range p.stops {
		var next []span
		for _, q := range pieces {
			if c.end <= q.start || c.start >= q.end {
				next = append(next, q)
				continue
			}
			if c.start > q.start {
				next = append(next, span{q.start, c.start})
			}
			if c.end < q.end {
				next = append(next, span{c.end, q.end})
			}
		}
		pieces = next
	}
	if l.id != 0 && len(pieces) > 0 {
		// An ongoing report went out: its lag must end, however short.
		longest := slices.MaxFunc(pieces, func(a, b span) int { return cmp.Compare(a.end-a.start, b.end-b.start) })
		pieces = slices.DeleteFunc(pieces, func(q span) bool { return q.end-q.start < p.threshold() && q != longest })
	}
	first := true
	for _, q := range pieces {
		if q.end-q.start < p.threshold() && (l.id == 0 || !first) {
			continue
		}
		piece := l
		piece.start, piece.end = q.start, q.end
		piece.worst = min(l.worst, q.end-q.start)
		if !first {
			piece.id = 0 // an ongoing report went out under the first piece's ID
		}
		first = false
		p.keep(piece)
	}
}

// keep queues an ended lag for Lags. p.mu must be held.
func (p *SchedProbe) keep(r lagRun) {
	if r.id == 0 {
		r.id = newID()
	}
	if len(p.done) < 64 { // a reader that stopped taking must not grow this
		p.done = append(p.done, SchedLag{ID: r.id, Start: wallOf(r.start), End: wallOf(r.end), Worst: time.Duration(r.worst), CPU: time.Duration(r.cpu)})
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
	if r := &p.queued; r.active {
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
