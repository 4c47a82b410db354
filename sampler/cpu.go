package sampler

import (
	"context"
	"errors"
	"fmt"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/pprof/profile"
)

// DefaultCPUWindow is the nominal CPU window when CPUOptions.Window is zero.
const DefaultCPUWindow = time.Second

// DefaultTopFrames is the number of top frames kept per session when
// CPUOptions.TopFrames is zero.
const DefaultTopFrames = 3

// stolenProfileTimeout bounds the wait for a profile that someone else
// stopped to be written out in full. Writing takes milliseconds; the bound
// only matters if the writer goroutine is starved for very long.
const stolenProfileTimeout = 10 * time.Second

// ErrCPUSamplerRunning is returned by [CPUSampler.Run] when the sampler is
// already running.
var ErrCPUSamplerRunning = errors.New("sampler: CPUSampler is already running")

// CPUOptions configures a [CPUSampler]. The zero value is ready to use.
type CPUOptions struct {
	// Window is the nominal length of one profiling window. Zero or
	// negative means DefaultCPUWindow (1s). Shorter windows react faster
	// but hold fewer samples each (about 100 per busy core per second).
	Window time.Duration

	// TopFrames is the number of busiest frames kept per session in
	// CPUWindow.Top. Zero means DefaultTopFrames; negative means none (and
	// Top stays nil).
	TopFrames int

	// Owner, when set, declares that another profiler owns the process's
	// CPU profiler (for example "pyroscope-go"): the sampler never starts
	// it, and delivers a window per Window that is unavailable and names
	// Owner, so that a CPU column can say who has the profiler instead of
	// going blank. Empty means the sampler takes the profiler when it is
	// free and finds out who holds it when it is not.
	Owner string

	// Every, when longer than Window, duty-cycles the profiler: a window
	// starts once per Every and the profiler is off in between, so the
	// application may take its own CPU profiles in the gaps. Each window's
	// Span is then Every, the wall time its samples stand for. Zero means
	// back-to-back windows.
	Every time.Duration

	// HoldLabel, when set, is a pprof label key whose values' samples are
	// counted in CPUWindow.ByHold: the stall watchdog's hold label, so it
	// can tell a holder that ran from one that waited for a CPU.
	HoldLabel string

	// Last, when set, has Run deliver the window that cancellation cut
	// short, once more after ctx is done, so that the CPU up to the end is
	// accounted for (a worker that closes mid-window would otherwise lose up
	// to a whole window of its sessions' CPU time).
	Last bool
}

// A CPUSampler runs the Go CPU profiler in back-to-back windows and reports,
// for each window, how many samples each session received. See the package
// documentation for how it shares the process-global profiler with the
// application.
type CPUSampler struct {
	window  time.Duration
	length  atomic.Int64 // the window's length set by SetWindow, nanoseconds; 0: window
	every   time.Duration
	topN    int
	hold    string // CPUOptions.HoldLabel
	owner   string
	last    bool // CPUOptions.Last
	running atomic.Bool

	tmu   sync.Mutex
	taps  map[int]func(*profile.Profile, CPUWindow)
	tapID int

	// The other profiler found holding the CPU profiler, and when it was
	// looked for: finding it takes a goroutine dump, so it is cached.
	found     string
	foundAt   time.Time
	asideRuns int // consecutive failed starts, for the back-off
	// A push-mode profiler found holding the profiler, stood aside for
	// while its code runs, and when it was last seen.
	pushOwner string
	pushSeen  time.Time
}

// SetWindow changes the length of the windows that start from now on (the
// window under way keeps its length); zero or negative returns to
// CPUOptions.Window. It may be called while Run runs, from any goroutine:
// a worker samples in long windows, which cost less (each stop and start of
// the profiler allocates about 2 MB: the runtime's profile buffer and
// runtime/pprof's gzip writer), and in short ones while someone watches.
func (s *CPUSampler) SetWindow(d time.Duration) { s.length.Store(int64(max(d, 0))) }

// windowLen is the length of a window starting now.
func (s *CPUSampler) windowLen() time.Duration {
	if d := s.length.Load(); d > 0 {
		return time.Duration(d)
	}
	return s.window
}

// NewCPUSampler returns a sampler configured by opts. It does not start
// profiling; [CPUSampler.Run] does.
func NewCPUSampler(opts CPUOptions) *CPUSampler {
	s := &CPUSampler{window: opts.Window, topN: opts.TopFrames, hold: opts.HoldLabel, owner: opts.Owner, last: opts.Last}
	if s.window <= 0 {
		s.window = DefaultCPUWindow
	}
	if opts.Every > s.window {
		s.every = opts.Every
	}
	if s.topN == 0 {
		s.topN = DefaultTopFrames
	}
	return s
}

// Run profiles in windows until ctx is done, calling fn with each window as
// it completes, in order, from Run's goroutine. A window whose CPU could not
// be sampled is delivered too, with its Unavailable field set, so the only
// time the windows leave out is the stop and restart of the profiler between
// two of them (milliseconds, more under CPU saturation).
//
// The next window starts as soon as the previous one stops and fn is called
// while it runs, so fn's time is not lost to sampling; fn should still
// return promptly (hand the window to a channel or convert it to an event).
// fn is not called once ctx is done: the window cut short by cancellation is
// dropped, unless CPUOptions.Last is set, in which case fn is called once
// more with it (its Duration and CPUTime as far as it ran) before Run
// returns. When Run returns, its profile is stopped and it has left no
// goroutine behind. It returns nil after ctx is done, or
// ErrCPUSamplerRunning if the sampler is already running.
//
// Run it in its own goroutine:
//
//	ctx, cancel := context.WithCancel(ctx)
//	done := make(chan struct{})
//	go func() { defer close(done); s.Run(ctx, handle) }()
//	...
//	cancel()
//	<-done
func (s *CPUSampler) Run(ctx context.Context, fn func(CPUWindow)) error {
	if !s.running.CompareAndSwap(false, true) {
		return ErrCPUSamplerRunning
	}
	defer s.running.Store(false)

	deliver := func(w CPUWindow) {
		if ctx.Err() != nil {
			return
		}
		s.tapWindow(w)
		w.prof = nil
		fn(w)
	}
	if s.owner != "" {
		var led ledger
		led.open(time.Now())
		for ctx.Err() == nil {
			led.arm()
			s.standAside(ctx, time.Now(), "the CPU profiler is owned by "+s.owner+" (declared in the options)", s.owner, 1, &led, deliver)
		}
		return nil
	}
	timer := time.NewTimer(s.windowLen())
	defer timer.Stop()

	// pending is a window stopped by the sampler whose profile has not been
	// parsed yet: parsing waits until the next window runs.
	var pending *stoppedWindow
	// active is the buffer of the profile the sampler is running, if any.
	// Should fn panic while a window runs, the profile is stopped on the way
	// out rather than left running with nobody to stop it.
	var active *profileBuffer
	// led tiles the time into the windows' spans and measures the
	// process's CPU time over each.
	var led ledger
	led.open(time.Now())
	defer func() {
		if active != nil && !active.received() {
			pprof.StopCPUProfile()
		}
	}()
	for ctx.Err() == nil {
		if s.pushOwner != "" && s.stillThere() {
			// A push-mode profiler found holding the profiler profiles
			// in periods with gaps between them (Datadog's 15 s of each
			// minute): taking the profiler in a gap would fail its next
			// start. While its code is in the process, stand aside as if
			// it had been declared.
			if pending != nil {
				deliver(s.finish(pending))
				pending = nil
			}
			led.arm()
			s.standAside(ctx, time.Now(), "the CPU profiler is owned by "+s.pushOwner+" (found in the process)", s.pushOwner, 1, &led, deliver)
			continue
		}
		buf := newProfileBuffer()
		led.arm()
		armed := time.Now()
		err := pprof.StartCPUProfile(buf)
		if err == nil {
			// The window starts once the profiler is on: starting it
			// allocates and clears its buffers, CPU no sample sees.
			led.arm()
			armed = time.Now()
		}
		if err != nil {
			if pending != nil {
				deliver(s.finish(pending))
				pending = nil
			}
			reason, owner, windows := "pprof.StartCPUProfile: "+err.Error(), "", 1
			if strings.Contains(err.Error(), "already in use") {
				owner = s.otherOwner()
				reason = "the CPU profiler is owned by " + owner + ": " + err.Error()
				// Back off while it stays taken: a profiler that restarts
				// its profile back to back (pyroscope-go every 15s) leaves
				// gaps of milliseconds, and a start that lands in one would
				// cost it a whole profile. 1, 2, 4 … up to 60 windows.
				windows = 1 << min(s.asideRuns, 6)
				windows = min(windows, 60)
				s.asideRuns++
			}
			s.standAside(ctx, armed, reason, owner, windows, &led, deliver)
			continue
		}
		s.asideRuns = 0
		active = buf
		timer.Reset(s.windowLen())
		if pending != nil {
			deliver(s.finish(pending))
			pending = nil
		}

		select {
		case <-ctx.Done():
		case <-timer.C:
		case <-buf.written:
		}
		disarmed := time.Now()
		cpu, cpuOK := ProcessCPU()
		active = nil
		if buf.received() {
			// The application called StopCPUProfile during our window: our
			// profile is (being) written into buf. Calling StopCPUProfile
			// now would stop the next profile the application starts, so
			// take what we were given and stand aside for a window, letting
			// the application's StartCPUProfile in.
			w := s.collectStolen(ctx, buf, armed, disarmed)
			led.close(&w, disarmed, cpu, cpuOK)
			deliver(w)
			led.arm()
			s.standAside(ctx, time.Now(),
				"the CPU profile was stopped by another caller (pprof.StopCPUProfile); standing aside for one window", ownerLater, 1, &led, deliver)
			if pushMode(s.found) {
				s.pushOwner, s.pushSeen = s.found, time.Now()
			}
			continue
		}
		pprof.StopCPUProfile()
		pending = &stoppedWindow{buf: buf, armed: armed, disarmed: disarmed}
		led.close(&pending.acct, disarmed, cpu, cpuOK)
		if s.every > 0 && ctx.Err() == nil {
			// Duty-cycled: deliver now (no next window to overlap the
			// parse with) and leave the profiler off until the next start.
			w := s.finish(pending)
			pending = nil
			deliver(w)
			if gap := s.every - time.Since(armed); gap > 0 {
				timer.Reset(gap)
				select {
				case <-ctx.Done():
				case <-timer.C:
				}
			}
		}
	}
	if pending != nil && s.last {
		w := s.finish(pending)
		s.tapWindow(w)
		w.prof = nil
		fn(w)
	}
	return nil
}

// stoppedWindow is a profile the sampler started and stopped.
type stoppedWindow struct {
	buf             *profileBuffer
	armed, disarmed time.Time
	acct            CPUWindow // its Span and CPUTime, measured when it stopped
}

// finish parses a stopped window's profile.
func (s *CPUSampler) finish(sw *stoppedWindow) CPUWindow {
	w := s.toWindow(sw.buf.bytes(), sw.armed, sw.disarmed)
	w.Span, w.CPUTime = sw.acct.Span, sw.acct.CPUTime
	return w
}

// A ledger tiles time into the spans that consecutive windows account for,
// each from the end of the previous window to the end of its own, and
// measures the process's CPU time while each window's profiler ran: the
// exact total that the window's sample shares divide.
//
// It is the CPU of the window's own time, not of its whole span, because
// the gap between two windows holds CPU that no sample can see: stopping
// the profiler builds and compresses the profile and the garbage that
// makes is collected, work that runs while the profiler is off and would
// otherwise be billed to the sessions in proportion to their shares (8 %
// too much at 200 ms windows, 3 % at 1 s, measured against thread clocks).
// The sessions' CPU over the gap is their rate in the window times the gap.
type ledger struct {
	end    time.Time     // end of the previous span
	armCPU time.Duration // process CPU when the current window was armed
	ok     bool
}

func (l *ledger) open(t time.Time) { l.end = t }

// arm marks the start of a window (or of a stand-aside).
func (l *ledger) arm() { l.armCPU, l.ok = ProcessCPU() }

// close ends the current window and span at end, when the process's CPU
// time was cpu, setting w's Span and CPUTime.
func (l *ledger) close(w *CPUWindow, end time.Time, cpu time.Duration, ok bool) {
	w.Span = end.Sub(l.end)
	if ok && l.ok && cpu >= l.armCPU {
		w.CPUTime = cpu - l.armCPU
	}
	l.end = end
}

// toWindow turns a profile into a CPUWindow timed by the sampler's own
// clock, or into an unavailable window if the profile does not parse.
func (s *CPUSampler) toWindow(data []byte, armed, disarmed time.Time) CPUWindow {
	var w CPUWindow
	var err error
	if s.tapped() {
		w, w.prof, err = parseCPUProfile(data, s.topN, s.hold)
	} else {
		w, err = parseCPUWindowHolds(data, s.topN, s.hold)
	}
	if err != nil {
		w = CPUWindow{Unavailable: err.Error()}
	}
	w.profileDuration = w.Duration
	w.Start, w.Duration = armed, disarmed.Sub(armed)
	return w
}

// collectStolen waits for a profile that someone else stopped to be written
// out in full, then parses it. The profile writer gives no signal of its own
// but the end of its gzip stream, so the buffer is polled for that.
func (s *CPUSampler) collectStolen(ctx context.Context, buf *profileBuffer, armed, disarmed time.Time) CPUWindow {
	deadline := time.Now().Add(stolenProfileTimeout)
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for !buf.complete() {
		if time.Now().After(deadline) {
			return CPUWindow{
				Start:       armed,
				Duration:    disarmed.Sub(armed),
				Unavailable: fmt.Sprintf("the CPU profile was stopped by another caller and not written out within %v", stolenProfileTimeout),
			}
		}
		select {
		case <-ctx.Done():
			return CPUWindow{}
		case <-tick.C:
		}
	}
	return s.toWindow(buf.bytes(), armed, disarmed)
}

// standAside waits for n windows (or ctx) without profiling, delivering an
// unavailable window for each, which names owner when it is known. Their
// spans and CPU time are measured like any other's, so the process's CPU
// stays known while the sessions' shares are not.
func (s *CPUSampler) standAside(ctx context.Context, start time.Time, reason, owner string, n int, led *ledger, deliver func(CPUWindow)) {
	timer := time.NewTimer(s.windowLen())
	defer timer.Stop()
	later := owner == ownerLater
	if later {
		owner = ""
	}
	for range n {
		if later && owner == "" {
			// Whoever stopped the profile starts its own right after,
			// and may stop it again before the window ends (a profile of
			// a few seconds in a window of five): look for it early, at
			// most twice, while it runs.
			owner = s.lookEarly(ctx, timer.C)
		}
		if owner != ownerDone {
			select {
			case <-ctx.Done():
				return
			case <-timer.C:
			}
		}
		now := time.Now()
		cpu, ok := ProcessCPU()
		o := owner
		if later && (o == "" || o == ownerDone) {
			// Whoever stopped the profile has likely started its own by
			// now: name it if so.
			o = ""
			if s.found = CPUProfileOwner(); s.found != "" {
				s.foundAt, o = now, s.found
			}
		}
		owner = o
		w := CPUWindow{Start: start, Duration: now.Sub(start), Unavailable: reason, Owner: o}
		led.close(&w, now, cpu, ok)
		deliver(w)
		led.arm()
		start = now
		timer.Reset(s.windowLen())
	}
}

// ownerLater asks standAside to look for the owner of the profile running
// while it stands aside: early in its first window and when it ends.
const ownerLater = "\x00later"

// ownerDone is lookEarly's answer when the window's timer fired while it
// looked: the window is over.
const ownerDone = "\x00done"

// ownerLooks are when lookEarly looks for the owner, from the start of the
// stand-aside: a caller that stopped our profile to start its own has done
// so within milliseconds, and the second look covers a writer goroutine
// that waited for a CPU. Each look is a goroutine dump (see
// CPUProfileOwner), so there are two.
var ownerLooks = [...]time.Duration{20 * time.Millisecond, 250 * time.Millisecond}

// lookEarly looks for the owner of the running profile at ownerLooks,
// before the window's timer fires; it returns ownerDone if the timer fired
// first (it has been drained), "" if no owner was found or ctx ended.
func (s *CPUSampler) lookEarly(ctx context.Context, windowEnd <-chan time.Time) string {
	begin := time.Now()
	for _, at := range ownerLooks {
		t := time.NewTimer(max(at-time.Since(begin), 0))
		select {
		case <-ctx.Done():
			t.Stop()
			return ""
		case <-windowEnd:
			t.Stop()
			return ownerDone
		case <-t.C:
		}
		if o := CPUProfileOwner(); o != "" {
			s.found, s.foundAt = o, time.Now()
			return o
		}
	}
	return ""
}

// otherOwner names the profiler holding the CPU profiler, looked up at most
// once a minute (see CPUProfileOwner).
func (s *CPUSampler) otherOwner() string {
	if s.foundAt.IsZero() || time.Since(s.foundAt) > time.Minute {
		s.found, s.foundAt = CPUProfileOwner(), time.Now()
		if pushMode(s.found) {
			s.pushOwner, s.pushSeen = s.found, time.Now()
		}
	}
	if s.found == "" {
		return "another profiler in the process"
	}
	return s.found
}

// stillThere reports whether the push-mode profiler found earlier still has
// code running in the process, looked at once a minute (a goroutine dump).
func (s *CPUSampler) stillThere() bool {
	if time.Since(s.pushSeen) < time.Minute {
		return true
	}
	if profilerRunning(s.pushOwner) {
		s.pushSeen = time.Now()
		return true
	}
	s.pushOwner = ""
	return false
}

// Tap calls fn with every window the sampler delivers, before the callback
// of Run, with the window's parsed profile (nil for an unavailable window),
// until untap is called. fn runs on the sampler's goroutine and must return
// promptly; it must not modify the profile. It is how introspection serves
// the profiles it collects (net/http/pprof's /debug/pprof/profile) without
// a second CPU profile, which the runtime does not allow.
func (s *CPUSampler) Tap(fn func(p *profile.Profile, w CPUWindow)) (untap func()) {
	s.tmu.Lock()
	defer s.tmu.Unlock()
	if s.taps == nil {
		s.taps = make(map[int]func(*profile.Profile, CPUWindow))
	}
	s.tapID++
	id := s.tapID
	s.taps[id] = fn
	return func() {
		s.tmu.Lock()
		delete(s.taps, id)
		s.tmu.Unlock()
	}
}

func (s *CPUSampler) tapped() bool {
	s.tmu.Lock()
	defer s.tmu.Unlock()
	return len(s.taps) > 0
}

func (s *CPUSampler) tapWindow(w CPUWindow) {
	s.tmu.Lock()
	fns := make([]func(*profile.Profile, CPUWindow), 0, len(s.taps))
	for _, fn := range s.taps {
		fns = append(fns, fn)
	}
	s.tmu.Unlock()
	p := w.prof
	w.prof = nil
	for _, fn := range fns {
		fn(p, w)
	}
}
