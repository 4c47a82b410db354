//go:build linux

package truth

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	introspect "github.com/openrtc-go/introspect"
)

var burnSink atomic.Uint64

// crunch is a few microseconds of CPU work.
func crunch() {
	var acc uint64
	for i := range 2000 {
		acc = acc*2654435761 + uint64(i)
	}
	burnSink.Add(acc)
}

// burn uses d of the calling thread's CPU. The caller is locked to its thread.
func burn(d time.Duration) {
	target := threadCPU() + d
	for threadCPU() < target {
		crunch()
	}
}

// dutyCycle runs at duty (0..1) of one core in 50 ms periods until until:
// each period burns duty×50ms of thread CPU, or as much as the period
// allows, then sleeps out the rest.
func dutyCycle(duty float64, until time.Time) {
	const period = 50 * time.Millisecond
	for p := time.Now(); p.Before(until); p = p.Add(period) {
		target := threadCPU() + time.Duration(duty*float64(period))
		for threadCPU() < target && time.Since(p) < period {
			crunch()
		}
		time.Sleep(time.Until(p.Add(period)))
	}
}

// hogs runs the CPU hogs from 10 % to 85 % of the run: each a session whose
// goroutine and its children run at the hog's duty cycle.
func (w *world) hogs(start time.Time) {
	if w.sleepUntil(w.cfg.at(start, 0.10)) != nil {
		return
	}
	until := w.cfg.at(start, 0.85)
	var wg sync.WaitGroup
	for _, duty := range w.cfg.Hogs {
		id := fmt.Sprintf("hog-%02.0f", duty*100)
		w.addJudged(id, fmt.Sprintf("burns %.0f%% of a core in each of %d goroutines", duty*100, 1+w.cfg.HogChildren), true)
		wg.Go(func() {
			_, end := w.in.Begin(w.base, id, introspect.Agent("transcriber"))
			defer end(nil)
			var kids sync.WaitGroup
			for range w.cfg.HogChildren {
				kids.Go(func() {
					defer w.mon.lockThread(id)()
					dutyCycle(duty, until)
				})
			}
			func() {
				defer w.mon.lockThread(id)()
				dutyCycle(duty, until)
			}()
			kids.Wait()
		})
	}
	// One hog as workers run them: goroutines not locked to a thread,
	// measured step by step (freeMeter).
	if w.cfg.FreeHog > 0 {
		id := fmt.Sprintf("hog-free-%02.0f", w.cfg.FreeHog*100) // see FreeHogSession
		w.addJudged(id, fmt.Sprintf("burns %.0f%% of a core in each of %d goroutines, unlocked", w.cfg.FreeHog*100, 1+w.cfg.HogChildren), true)
		wg.Go(func() {
			_, end := w.in.Begin(w.base, id, introspect.Agent("transcriber"))
			defer end(nil)
			meters := make([]*freeMeter, 1+w.cfg.HogChildren)
			var kids sync.WaitGroup
			for k := range meters {
				meters[k] = newFreeMeter()
				kids.Go(func() { freeDutyCycle(meters[k], w.cfg.FreeHog, until) })
			}
			kids.Wait()
			var used time.Duration
			var est, read int
			for _, m := range meters {
				used += m.used
				est += m.estimated
				read += m.read
			}
			w.mon.add(id, used)
			w.logf("truth: %s used %v: %d steps read, %d estimated at %v each", id, used.Round(time.Millisecond), read, est, meters[0].step)
		})
	}
	wg.Wait()
}

func (w *world) addJudged(id, why string, heavy bool) {
	w.culprit(id, why)
	w.tmu.Lock()
	defer w.tmu.Unlock()
	w.truth.Judged = append(w.truth.Judged, id)
	if heavy {
		w.truth.CPUHeavy = append(w.truth.CPUHeavy, id)
	}
}

// load spins a goroutine per P from 45 % to 60 % of the run: a CPU-loaded
// worker, while stalls are injected and ordinary sessions hold the mixer.
func (w *world) load(start time.Time) {
	if w.sleepUntil(w.cfg.at(start, 0.45)) != nil {
		return
	}
	const id = "cpu-load"
	w.addJudged(id, "spins on every core", true)
	until := w.cfg.at(start, 0.60)
	w.tmu.Lock()
	w.truth.LoadStart, w.truth.LoadEnd = time.Now(), until
	w.tmu.Unlock()
	_, end := w.in.Begin(w.base, id, introspect.Agent("batch"))
	defer end(nil)
	var wg sync.WaitGroup
	for range procs() {
		wg.Go(func() {
			defer w.mon.lockThread(id)()
			for time.Now().Before(until) {
				crunch()
			}
		})
	}
	wg.Wait()
}

// pooled is a session that hands two thirds of its work to a worker pool:
// each job burns 2 ms of a pool worker's CPU after 1 ms of its own.
func (w *world) pooled(start time.Time) {
	if w.sleepUntil(w.cfg.at(start, 0.10)) != nil {
		return
	}
	const id = "pooled"
	w.addJudged(id, "hands work to a pool", false)
	until := w.cfg.at(start, 0.80)
	p := newPool(w, id, 2)
	defer p.close()
	ctx, end := w.in.Begin(w.base, id, introspect.Agent("summarizer"))
	defer end(nil)
	done := w.mon.lockThread(id)
	t0 := threadCPU()
	for time.Now().Before(until) {
		burn(time.Millisecond)
		p.do(ctx, func() { burn(2 * time.Millisecond) })
		time.Sleep(4 * time.Millisecond)
	}
	own := threadCPU() - t0
	done()
	w.tmu.Lock()
	w.truth.Pool = PoolTruth{Session: id, Own: own, Job: time.Duration(p.jobCPU.Load())}
	w.tmu.Unlock()
}

// A pool is a fixed set of workers, started by no session, that run jobs
// for whoever sends them: the work crosses goroutines without a go
// statement, so it carries none of the sender's labels.
type pool struct {
	jobs chan poolJob
	wg   sync.WaitGroup
	// jobCPU is the CPU the jobs used, read on the worker's thread
	// around each: the work handed to the pool. A worker's thread uses
	// more than that, waiting for jobs (the runtime parking and waking
	// it), which is nobody's work and no profile labels.
	jobCPU atomic.Int64
}

type poolJob struct {
	ctx  context.Context
	fn   func()
	done chan struct{}
}

func newPool(w *world, owner string, n int) *pool {
	p := &pool{jobs: make(chan poolJob)}
	for range n {
		p.wg.Go(func() {
			defer w.mon.lockThread(owner)()
			for j := range p.jobs {
				// The job's CPU is the session's that sent it (the
				// package's documented way for pool workers).
				introspect.Do(context.Background(), j.ctx, func(context.Context) {
					c0 := threadCPU()
					j.fn()
					p.jobCPU.Add(int64(threadCPU() - c0))
				})
				close(j.done)
			}
		})
	}
	return p
}

func (p *pool) do(ctx context.Context, fn func()) {
	done := make(chan struct{})
	p.jobs <- poolJob{ctx: ctx, fn: fn, done: done}
	<-done
}

func (p *pool) close() {
	close(p.jobs)
	p.wg.Wait()
}

// dispatcher is a goroutine of no session that accepts calls and begins a
// session for each, then hands it to a goroutine of its own. Between calls it
// burns CPU of its own (parsing, routing), which no session used.
func (w *world) dispatcher(start time.Time) {
	if w.sleepUntil(w.cfg.at(start, 0.10)) != nil {
		return
	}
	until := w.cfg.at(start, 0.60)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer w.mon.lockThread(DispatcherOwner)()
	for k := range w.cfg.Dispatched {
		burn(w.cfg.DispatcherCPU)
		id := fmt.Sprintf("dispatched-%d", k)
		// Dispatched and Go: the documented way for a goroutine that begins
		// sessions for goroutines it starts.
		ctx, end := w.in.Begin(w.base, id, introspect.Agent("dispatched"), introspect.Dispatched())
		w.tmu.Lock()
		w.truth.Dispatcher.Sessions = append(w.truth.Dispatcher.Sessions, id)
		w.truth.Judged = append(w.truth.Judged, id)
		w.tmu.Unlock()
		stop := make(chan struct{})
		wg.Add(1)
		introspect.Go(ctx, func(ctx context.Context) {
			defer wg.Done()
			defer w.mon.lockThread(id)()
			defer end(nil)
			w.sessionLoop(ctx, nil, stop)
		})
		time.AfterFunc(time.Until(until), func() { close(stop) })
	}
	burn(w.cfg.DispatcherCPU)
}

// CodecSession is the session whose goroutines spin in assembly.
const CodecSession = "codec"

// codec is a session whose goroutines, one per P, run an assembly loop the
// scheduler cannot preempt: while they spin, nothing else runs.
func (w *world) codec(start time.Time, clk spinClock) {
	const id = CodecSession
	_, end := w.in.Begin(w.base, id, introspect.Agent("codec"))
	defer end(nil)
	// Not judged for CPU: meeting before each spin burns CPU no clock of
	// the harness reads. It may take the scheduler's blame.
	w.culprit(id, "spins every P in assembly (scheduler stalls)")
	w.tmu.Lock()
	w.truth.CPUHeavy = append(w.truth.CPUHeavy, id)
	w.tmu.Unlock()
	for i, at := range w.spinTimes(start) {
		if w.sleepUntil(at) != nil {
			return
		}
		d := w.cfg.SchedStalls[i]
		// A try fails when a member was caught on its way into the loop
		// (a stop-the-world, its thread descheduled): then every P did
		// not spin together for d, or some P was held well before every P
		// was (or after), which is a stall of another length for whoever
		// was queued on that P. The last try counts whatever it was.
		const tries = 4
		for try := range tries {
			s := w.spinEpisode(clk, id, d)
			if !asmSpin {
				break
			}
			ramp := s.Start.Sub(s.FirstHeld) + s.LastHeld.Sub(s.End)
			if s.Dur() >= d*9/10 && ramp <= d/20 || try == tries-1 {
				w.tmu.Lock()
				w.truth.Spins = append(w.truth.Spins, s)
				w.tmu.Unlock()
				break
			}
			w.logf("truth: scheduler stall of %v, try %d: every P spun together for %v, some P for %v more", d, try+1, s.Dur().Round(time.Millisecond), ramp.Round(time.Millisecond))
			time.Sleep(time.Second)
		}
	}
}

// spinEpisode has one goroutine per P spin together for d.
func (w *world) spinEpisode(clk spinClock, id string, d time.Duration) Spin {
	arrivals, starts, ends := make([]time.Time, procs()), make([]time.Time, procs()), make([]time.Time, procs())
	cpus := make([]time.Duration, procs())
	var wg sync.WaitGroup
	g := clk.group(procs())
	t0 := time.Now()
	for p := range procs() {
		wg.Go(func() {
			arrivals[p], starts[p], ends[p], cpus[p] = g.spin(p, d)
			w.mon.add(id, cpus[p])
		})
	}
	wg.Wait()
	s := Spin{Session: id, Planned: d, Start: starts[0], End: ends[0], FirstHeld: arrivals[0], LastHeld: ends[0]}
	for _, c := range cpus {
		s.ThreadCPU += c
	}
	defer func() {
		w.logf("truth: spin of %v: gathered in %v, spun %v (some P held %v before and %v after), the threads ran %v of %v",
			d, s.Start.Sub(t0).Round(time.Millisecond), s.Dur().Round(time.Millisecond),
			s.Start.Sub(s.FirstHeld).Round(time.Millisecond), s.LastHeld.Sub(s.End).Round(time.Millisecond),
			s.ThreadCPU.Round(time.Millisecond), (s.LastHeld.Sub(s.FirstHeld) * time.Duration(procs())).Round(time.Millisecond))
	}()
	for p := range procs() {
		if starts[p].After(s.Start) {
			s.Start = starts[p]
		}
		if ends[p].Before(s.End) {
			s.End = ends[p]
		}
		if arrivals[p].Before(s.FirstHeld) {
			s.FirstHeld = arrivals[p]
		}
		if ends[p].After(s.LastHeld) {
			s.LastHeld = ends[p]
		}
	}
	return s
}

// leaker is a session that leaks a goroutine every cfg.LeakEvery, parked on a
// channel nobody sends to, from 15 % of the run to its end.
func (w *world) leaker(start time.Time) {
	if w.sleepUntil(w.cfg.at(start, 0.15)) != nil {
		return
	}
	const id = "leaker"
	w.culprit(id, "leaks goroutines")
	_, end := w.in.Begin(w.base, id, introspect.Agent("recorder"))
	defer end(nil)
	var site atomic.Value
	tk := time.NewTicker(w.cfg.LeakEvery)
	defer tk.Stop()
	stopLeaking := w.cfg.at(start, 0.85)
	for {
		select {
		case <-w.stop:
			s, _ := site.Load().(string)
			w.tmu.Lock()
			w.truth.Leak.Session, w.truth.Leak.Site = id, s
			w.tmu.Unlock()
			return
		case <-tk.C:
		}
		if time.Now().After(stopLeaking) {
			continue // what leaked stays parked; the count can catch up
		}
		w.leaked.Add(1)
		go func() {
			<-parkHere(w.never, &site)
		}()
	}
}
