package introspect

import (
	"context"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/openrtc-go/introspect/events"
	"github.com/openrtc-go/introspect/sampler"
	"github.com/openrtc-go/introspect/stall"
)

// sampleLoop owns the measuring side: it ticks every sample interval, reads
// RSS and the runtime's vitals, takes the CPU windows the CPU sampler
// delivered since the last tick, takes the goroutine profile when it is due,
// checks the scheduler, and emits one sample event.
type sampleLoop struct {
	in     *Introspector
	rss    *sampler.RSSReader
	vitals *sampler.VitalsReader
	probe  stall.SchedProbe
	cpu    *sampler.CPUSampler // nil when Options.DisableCPU

	mu      sync.Mutex
	pending []sampler.CPUWindow // delivered by the CPU sampler, not yet sampled

	// Another profiler's profiles (see ProfileUploads): the process's CPU
	// time by tick, and the latest such window's end, arrival and span.
	clock                 cpuClock
	foreignEnd, foreignAt time.Time
	foreignSpan           time.Duration

	lastGor   map[string]int // per-session goroutines at the last profile
	nextGorAt time.Time      // the next profile, while the counts hold still
	soonGorAt time.Time      // the next profile, once they moved
	gorTotal  int            // goroutines at the last profile
	gorEpoch  uint64         // the sessions' epoch at the last profile

	history cpuHistory       // the latest CPU windows, for judging holds and lags
	lags    []stall.SchedLag // ended lags waiting for their CPU windows
	closing bool             // set by run once Close stopped it: nothing more will come
}

func newSampleLoop(in *Introspector) (*sampleLoop, error) {
	rss, err := sampler.NewRSSReader()
	if err != nil {
		return nil, err
	}
	sl := &sampleLoop{in: in, rss: rss, vitals: sampler.NewVitalsReader(), lastGor: map[string]int{}}
	sl.probe.Threshold = in.opts.SlowThreshold
	if !in.opts.DisableCPU {
		sl.cpu = sampler.NewCPUSampler(sampler.CPUOptions{Window: in.opts.CPUWindow, Every: in.opts.CPUEvery, HoldLabel: stall.HoldLabel, Owner: in.opts.CPUOwner, Last: true})
	}
	return sl, nil
}

func (sl *sampleLoop) run(ctx context.Context) {
	defer sl.rss.Close()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); sl.probe.Run(ctx) }()
	if sl.cpu != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = sl.cpu.Run(ctx, func(w sampler.CPUWindow) {
				sl.history.add(w)
				sl.mu.Lock()
				sl.pending = append(sl.pending, w)
				sl.mu.Unlock()
			})
		}()
	}
	defer wg.Wait()

	t := time.NewTicker(sl.in.opts.SampleInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			// The CPU window cut short by Close is the last: its
			// sessions' CPU up to the end goes out in one more sample.
			wg.Wait()
			sl.closing = true
			sl.mu.Lock()
			last := len(sl.pending) > 0
			sl.mu.Unlock()
			if last {
				sl.tick(time.Now())
			} else {
				// Lags still waiting for windows, and the probe's last.
				sl.reportLags(time.Now(), sampler.CPUWindow{})
			}
			return
		case now := <-t.C:
			sl.tick(now)
		}
	}
}

func (sl *sampleLoop) tick(now time.Time) {
	sl.windowFor(now)
	v := sl.vitals.Read()
	rss, _ := sl.rss.Read()
	sl.clock.add(now)
	e := events.Sample{
		RSSBytes: rss, Sessions: sl.in.liveCount(), Goroutines: v.Goroutines,
		Runnable: v.Runnable, Running: v.Running, Waiting: v.Waiting,
		HeapBytes: v.HeapLive, GCCycles: int64(v.GCCycles),
		GCPause: v.GCPauseTotal, GCPauseMax: v.GCPauseMax,
		SchedP50: v.SchedLatencyP50, SchedP99: v.SchedLatencyP99, SchedMax: v.SchedLatencyMax,
		MutexWaitPerSec: v.MutexWaitRate,
	}
	win, unsampled, haveWin := sl.takeWindow()
	if haveWin {
		e.CPU = events.CPUWindow{
			Duration: win.Duration, Span: win.Span, CPUTime: win.CPUTime, Period: win.Period, Total: win.Total,
			Unlabelled: win.Unlabelled, Sessions: win.BySession, Unavailable: win.Unavailable, Owner: win.Owner,
			Unsampled: unsampled,
		}
	}
	if epoch := sl.in.sessionEpoch(); !now.Before(sl.nextGorAt) || (!now.Before(sl.soonGorAt) && sl.goroutinesMoved(v.Goroutines, epoch)) {
		e.GoroutinesBySession, e.GoroutineStacks = sl.goroutines()
		base := sl.in.opts.SampleInterval
		sl.soonGorAt = now.Add(sampler.GoroutineInterval(v.Goroutines, base))
		sl.nextGorAt = now.Add(sampler.SteadyGoroutineInterval(v.Goroutines, base))
		sl.gorTotal, sl.gorEpoch = v.Goroutines, epoch
	}
	sl.in.emit(e)

	sl.reportLags(now, win)
}

// reportLags reports the scheduler stalls: the lags the probe measured (the
// runtime's latency histogram gives the vitals' percentiles, not their
// length). A lag that ended waits for the CPU windows that cover it, and the
// one after, to be blamed on who ran while it lasted: all Ps held means the
// sampler's own window closes late too. win is the window this tick took,
// if any. Once the loop is closing nothing more will come, and every lag
// goes out with what there is.
func (sl *sampleLoop) reportLags(now time.Time, win sampler.CPUWindow) {
	fresh := sl.probe.Lags()
	for _, l := range fresh {
		sl.history.addLag(l)
	}
	sl.history.lagsTaken(time.Now())
	lags := append(sl.lags, fresh...)
	sl.lags = sl.lags[:0]
	// A session's usual rate reads every session of a minute of windows:
	// it is read once a lag is ready, and once for the lags that share
	// the windows before them (a saturated second has dozens).
	usuals := map[[2]time.Time]stall.CPUUsual{}
	for _, lag := range lags {
		seen := sl.history.seen(lag.Start, lag.End)
		var after map[string]float64
		if seen.Covered > 0 {
			after = sl.history.after(seen.Last)
		}
		// An ended lag waits for the window after its own too: a session
		// whose CPU rose while it lasted is named only if the rise did not
		// last (see stall.SchedStall).
		if !lag.Ongoing && !sl.closing && sl.cpu != nil && (seen.Covered < lag.Duration()*9/10 || after == nil) && now.Sub(lag.End) < sl.in.cpuWait() {
			sl.lags = append(sl.lags, lag)
			continue
		}
		key := sl.history.usualKey(lag.Start)
		usual, ok := usuals[key]
		if !ok {
			usual = sl.history.usual(lag.Start)
			usuals[key] = usual
		}
		usual.After = after
		if seen.Covered == 0 {
			// An ongoing lag's windows are not in yet: the latest
			// window stands in for them.
			seen = stall.CPUSeen{BySession: win.BySession, Total: win.Total, Period: win.Period, Windows: win.Duration}
		}
		s := stall.SchedStall(lag, seen, usual, runtime.GOMAXPROCS(0))
		// The busiest line of the session blamed. It is where its CPU
		// went, not a call stack, so no Stack.
		if s.Session != "" {
			if top := sl.history.top(s.Session, lag.Start, lag.End); top != "" {
				s.Frame, s.FrameFrom = top, stall.FrameCPU
			} else if top := win.Top[s.Session]; len(top) > 0 {
				s.Frame, s.FrameFrom = top[0].String(), stall.FrameCPU
			}
		}
		sl.in.reportStall(s)
	}
}

// takeWindow returns the CPU windows delivered since the last tick, merged
// into one: normally there is exactly one, but a slow stop under saturation
// can deliver none in one tick and two in the next, and a window cut short
// by another caller's StopCPUProfile comes with the one stood aside after
// it. unsampled is the process's CPU time in the unavailable windows among
// them (another caller held the profiler): the merge keeps the sampled
// window's shares, and that CPU, which no share divides, is stated rather
// than lost (events.CPUWindow.Unsampled).
func (sl *sampleLoop) takeWindow() (w sampler.CPUWindow, unsampled time.Duration, ok bool) {
	sl.mu.Lock()
	ws := sl.pending
	sl.pending = nil
	if sl.quietAside(time.Now()) {
		// Another profiler's profiles (ProfileUploads) cover this time.
		ws = slices.DeleteFunc(ws, func(w sampler.CPUWindow) bool { return w.Unavailable != "" })
	}
	sl.mu.Unlock()
	if len(ws) == 0 {
		return sampler.CPUWindow{}, 0, false
	}
	for _, x := range ws {
		if x.Unavailable != "" {
			unsampled += x.CPUTime
		}
	}
	w = ws[0]
	for _, x := range ws[1:] {
		w = mergeWindows(w, x)
	}
	return w, unsampled, true
}

func mergeWindows(a, b sampler.CPUWindow) sampler.CPUWindow {
	// An unavailable window's CPU time has no shares to divide it: it is
	// left out of the merge, as its samples are (takeWindow counts it as
	// unsampled).
	if a.Unavailable != "" {
		return b
	}
	if b.Unavailable != "" {
		return a
	}
	m := a
	m.Duration += b.Duration
	m.Span += b.Span
	m.CPUTime += b.CPUTime
	m.Total += b.Total
	m.Unlabelled += b.Unlabelled
	m.BySession = make(map[string]int64, len(a.BySession)+len(b.BySession))
	for k, n := range a.BySession {
		m.BySession[k] += n
	}
	for k, n := range b.BySession {
		m.BySession[k] += n
	}
	if len(b.Top) > 0 {
		m.Top = b.Top // the latest window's frames are the freshest
	}
	return m
}

// goroutinesMoved reports whether the per-session goroutine counts may have
// moved since the last profile: the process's goroutines changed by more
// than a few (0.5 %, at least 3: a profile's own helpers and a socket
// client come and go), or a session began or ended. A profile is costly (5µs
// a goroutine), so while neither happened it is taken at a fifth of the
// pace (see sampler.SteadyGoroutineInterval); a leak moves the total.
func (sl *sampleLoop) goroutinesMoved(total int, epoch uint64) bool {
	d := total - sl.gorTotal
	return max(d, -d) > max(2, sl.gorTotal/200) || epoch != sl.gorEpoch
}

// Where a leak is: a session whose goroutines grew since the previous
// profile, to at least leakStacksMin of them, gets its leakStacksTop largest
// groups of goroutines recorded, by the line they are parked at. They come
// from the profile the counts come from, so they cost only the resolving of
// those sessions' program counters.
const (
	leakStacksMin = 8
	leakStacksTop = 3
)

// goroutines takes the goroutine profile and returns the sessions whose count
// changed since the previous one (0 for those that have none left): derive,
// don't store; and where the goroutines of those that grew are parked.
func (sl *sampleLoop) goroutines() (map[string]int, map[string][]events.GoroutineGroup) {
	p, err := sampler.TakeGoroutineProfile()
	if err != nil {
		return nil, nil
	}
	by := p.BySession
	delete(by, "")
	changed := make(map[string]int)
	var stacks map[string][]events.GoroutineGroup
	for id, n := range by {
		last := sl.lastGor[id]
		if last != n {
			changed[id] = n
		}
		if n > last && n >= leakStacksMin {
			if stacks == nil {
				stacks = make(map[string][]events.GoroutineGroup)
			}
			for _, g := range p.Stacks(id, leakStacksTop) {
				stacks[id] = append(stacks[id], events.GoroutineGroup{Count: g.Count, Frame: g.Frame, Wait: g.Wait})
			}
		}
	}
	for id := range sl.lastGor {
		if _, ok := by[id]; !ok && sl.in.isLive(id) {
			changed[id] = 0
		}
	}
	sl.lastGor = by
	return changed, stacks
}

// windowFor sets the length of the next CPU windows: short while the live
// view is watched, long otherwise, when the options left it to us.
func (sl *sampleLoop) windowFor(now time.Time) {
	short := sl.in.opts.watchedCPUWindow
	if sl.cpu == nil || short <= 0 {
		return
	}
	d := sl.in.opts.CPUWindow
	if at := sl.in.watchedAt.Load(); at != 0 && now.Sub(time.Unix(0, at)) < watchedFor {
		d = short
	}
	sl.cpu.SetWindow(d)
}
