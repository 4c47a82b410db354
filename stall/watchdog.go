package stall

import (
	"bytes"
	"cmp"
	"context"
	"log/slog"
	"math"
	"runtime"
	"runtime/pprof"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// A Watchdog watches named loops and sections ([Loop], [Mutex]) and reports
// every hold longer than its threshold, while the hold is still going on and
// again when it ends. Create one with [New] and stop it with
// [Watchdog.Close]. Its methods are safe for concurrent use.
type Watchdog struct {
	opts Options

	mu    sync.Mutex
	loops map[string]*Loop
	order []*Loop // loops in creation order, for the checks

	finMu  sync.Mutex
	fin    []ended       // holds that ended as stalls, awaiting their final report
	closed bool          // the watchdog goroutine has stopped: fin is not drained
	wake   chan struct{} // nudges the watchdog goroutine when fin grows or a hold begins
	// idle is set while the watchdog sleeps with nothing held and no hold
	// begun since its last check: the next Enter wakes it (see nudge).
	idle atomic.Bool

	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once

	// Owned by the watchdog goroutine.
	captures    *limiter
	lastCapture time.Duration // how long the last goroutine profile took
	buf         bytes.Buffer
	loopsBuf    []*Loop
	due         []*hold
	judging     []judging // ended stalls waiting for their CPU samples
	// What the last check found: the earliest moment (monotonic) a hold it
	// saw needs looking at again, math.MaxInt64 for none, and whether any
	// loop was entered since the check before.
	next int64
	busy bool

	checks atomic.Int64 // checks made, for tests
}

// New starts a watchdog with the given options.
func New(opts Options) *Watchdog {
	opts = opts.withDefaults()
	w := &Watchdog{
		opts:     opts,
		loops:    make(map[string]*Loop),
		wake:     make(chan struct{}, 1),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
		captures: newLimiter(opts.MaxStackCaptures),
	}
	if w.opts.Report == nil {
		w.opts.Report = logStall
	}
	go w.run()
	return w
}

// Threshold returns the duration beyond which a hold is a stall.
func (w *Watchdog) Threshold() time.Duration { return w.opts.Threshold }

// Loop returns the loop with the given name, creating it on first use. The
// name is the Source of the loop's stalls.
func (w *Watchdog) Loop(name string) *Loop {
	w.mu.Lock()
	defer w.mu.Unlock()
	if l, ok := w.loops[name]; ok {
		return l
	}
	l := newLoop(w, name)
	w.loops[name] = l
	w.order = append(w.order, l)
	return l
}

// Close stops the watchdog goroutine after making the final reports of
// stalls that have already ended. Holds still going on are not reported
// again. Loops and mutexes keep working after Close, unwatched. Close may be
// called more than once, but not from Report. It returns nil; the error is
// there so a Watchdog is an io.Closer.
func (w *Watchdog) Close() error {
	w.closeOnce.Do(func() { close(w.stop) })
	<-w.done
	return nil
}

// finished queues a hold that ended as a stall for its final report.
func (w *Watchdog) finished(e ended) {
	w.finMu.Lock()
	if w.closed {
		w.finMu.Unlock()
		return
	}
	w.fin = append(w.fin, e)
	w.finMu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// nudge wakes the watchdog goroutine if it sleeps idle. Enter calls it
// when it finds the watchdog idle, and at most one Enter per sleep pays
// for the wake-up.
func (w *Watchdog) nudge() {
	if w.idle.CompareAndSwap(true, false) {
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
}

// The watchdog does not tick. A hold can only become a stall Threshold
// after it began, so after each check it sleeps until the earliest moment
// anything it saw needs looking at: the first open hold to cross the
// threshold, the next ongoing report of a stall (its duration doubled), a
// stack still to capture, a final report waiting for CPU samples. A loop
// entered since the previous check may have new holds the check did not
// see, which cross no sooner than Threshold from now. A loop nobody entered
// needs nothing: the watchdog then sleeps until the next Enter wakes it.
// Checks stay at least Interval apart, which bounds the wake-ups however
// many holds cross at different moments. So an idle worker wakes the
// watchdog never, a busy loop of short holds once per Threshold (where a
// ticker woke it every Interval, each tick waking an idle thread), and a
// hold is reported as it crosses the threshold, Interval late at worst.
func (w *Watchdog) run() {
	defer close(w.done)
	// Started from a session, this goroutine would inherit its labels and
	// bill the session for the watchdog's CPU.
	pprof.SetGoroutineLabels(context.Background())
	t := time.NewTimer(w.opts.Interval)
	defer t.Stop()
	for {
		select {
		case <-w.stop:
			w.finMu.Lock()
			w.closed = true
			w.finMu.Unlock()
			w.reportFinished()
			w.judge(monoNow(), true)
			return
		case <-w.wake:
		case <-t.C:
		}
		w.check(time.Now())
		// Drain after the ongoing reports, so a hold that ended during
		// the check is reported ongoing before it is reported final.
		w.reportFinished()
		now := monoNow()
		if len(w.judging) > 0 {
			w.judge(now, false)
		}
		next := w.plan(now)
		if next == math.MaxInt64 {
			// Idle: publish it, then look once more, so that a hold
			// begun before an Enter could see the flag is not missed.
			w.idle.Store(true)
			w.check(time.Now())
			if next = w.plan(monoNow()); next != math.MaxInt64 {
				w.idle.Store(false)
			}
		}
		if next == math.MaxInt64 {
			t.Stop()
			continue
		}
		// Every check is at least Interval after the previous one; a
		// crossing found after a check at c is at e > c, so it is seen
		// by max(e, c+Interval): Interval late at worst.
		next = max(next, now+int64(w.opts.Interval))
		t.Reset(time.Duration(next - monoNow()))
	}
}

// plan returns when, after the check just made, the watchdog next needs to
// look (monotonic), or math.MaxInt64 for when a hold begins.
func (w *Watchdog) plan(now int64) int64 {
	next := w.next
	if w.busy {
		next = min(next, now+int64(w.opts.Threshold))
	}
	if len(w.judging) > 0 {
		next = min(next, now+int64(w.opts.Interval))
	}
	return next
}

// check reports the holds that are past the threshold and due a report.
func (w *Watchdog) check(now time.Time) {
	w.checks.Add(1)
	w.mu.Lock()
	w.loopsBuf = append(w.loopsBuf[:0], w.order...)
	w.mu.Unlock()

	mono := monoOf(now)
	thr := int64(w.opts.Threshold)
	w.due = w.due[:0]
	w.next, w.busy = math.MaxInt64, false
	for _, l := range w.loopsBuf {
		for i := range l.shards {
			w.checkShard(l, i, mono, thr)
		}
	}
	if len(w.due) == 0 {
		return
	}
	slices.SortFunc(w.due, func(a, b *hold) int { return cmp.Compare(a.start, b.start) })
	// A goroutine profile is cheap in a small process and costs hundreds
	// of milliseconds with 10,000 goroutines. While it is cheap, take it
	// first so the first report carries the stack; once it is not, report
	// first so detection does not wait for it, and follow up with the stack.
	if w.captureCost() <= w.opts.Interval/2 {
		w.capture(now)
		w.reportDue(mono)
	} else {
		w.reportDue(mono)
		if w.capture(now) {
			for _, h := range w.due {
				if h.watch.bare && h.watch.frame != "" && h.ending.Load() == 0 {
					w.report(h, monoNow()-h.start)
				}
			}
		}
	}
	w.planDue(mono)
	clear(w.due) // let ended holds be collected
}

// checkShard adds to w.due the holds of shard i of l that are past the
// threshold thr at mono and due a report or a stack, and notes when the
// others need looking at again, and whether the shard was entered since
// the last check.
func (w *Watchdog) checkShard(l *Loop, i int, mono, thr int64) {
	sh := &l.shards[i]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.last != l.seen[i] {
		l.seen[i], w.busy = sh.last, true
	}
	for h := sh.head; h != nil; h = h.next {
		held := mono - h.start
		if held < thr {
			w.next = min(w.next, h.start+thr)
			continue
		}
		if h.watch == nil {
			h.watch = &watch{id: newID()} // and h is never reused
		}
		if h.watch.dueReport(held) || !h.watch.captured {
			w.due = append(w.due, h) // planned after the reports: planDue
		} else {
			w.next = min(w.next, h.start+h.watch.nextReport)
		}
	}
}

// planDue notes when the holds just reported need looking at again: at
// their next report, or at the next check while a stack is still to
// capture (the profile budget was spent).
func (w *Watchdog) planDue(mono int64) {
	for _, h := range w.due {
		if h.ending.Load() != 0 {
			continue // its final report is queued
		}
		if !h.watch.captured {
			w.next = min(w.next, mono+int64(w.opts.Interval))
		} else {
			w.next = min(w.next, h.start+h.watch.nextReport)
		}
	}
}

// captureCost predicts how long the next goroutine profile takes: as long as
// the last one, or before the first, about 5µs a goroutine (measured: 64ms
// for 10,000 on a 2-core VM).
func (w *Watchdog) captureCost() time.Duration {
	if w.lastCapture > 0 {
		return w.lastCapture
	}
	return time.Duration(runtime.NumGoroutine()) * 5 * time.Microsecond
}

// reportDue makes the ongoing reports due at mono.
func (w *Watchdog) reportDue(mono int64) {
	for _, h := range w.due {
		if held := mono - h.start; h.watch.dueReport(held) {
			w.report(h, held)
		}
	}
}

// report makes an ongoing report of h, held for held nanoseconds.
func (w *Watchdog) report(h *hold, held int64) {
	h.watch.reported = true
	h.watch.nextReport = 2 * held
	h.watch.bare = h.watch.frame == ""
	w.opts.Report(h.stall(time.Duration(held), true))
}

// capture takes one goroutine profile, if the budget allows, and gives
// every due hold found in it a fresh stack; a wedged holder may have moved
// since its last report. It reports whether a profile was taken.
func (w *Watchdog) capture(now time.Time) bool {
	if !w.captures.allow(now) {
		return false
	}
	// The budget is the profile's CPU, read on the thread that takes it:
	// on a saturated machine its wall time is mostly the watchdog's own
	// wait for a processor, which costs the application nothing, and
	// counting it would stop captures exactly when holders starve.
	runtime.LockOSThread()
	c0, cpuOK := threadCPU()
	t0 := monoNow()
	stacks, err := captureHolders(&w.buf)
	taken := monoNow()
	c1, _ := threadCPU()
	runtime.UnlockOSThread()
	w.lastCapture = time.Duration(taken - t0)
	cost := w.lastCapture
	if cpuOK && c1 >= c0 {
		cost = time.Duration(c1 - c0)
	}
	w.captures.spent(now, cost)
	if err != nil {
		return false
	}
	for _, h := range w.due {
		h.watch.captured = true
		hd, ok := stacks[h.entry.label]
		if ok && hd.frames == nil {
			h.shard.pollute(h.entry) // on two goroutines: see labels.go
			continue
		}
		// Trust the profile only if h held on until it was taken: once
		// h leaves, its label may be lent to the session's next hold,
		// and a child started during a hold keeps carrying it.
		if e := h.ending.Load(); ok && (e == 0 || e > taken) {
			if top, st := describe(hd.frames); top != "" {
				h.watch.frame, h.watch.stack, h.watch.frameFrom = top, st, FrameHolder
			}
			wt := h.watch
			wt.wait = hd.wait
			if hd.wait != "" {
				wt.parked = hd.wait
			} else {
				wt.runnable = true
			}
		}
	}
	return true
}

// reportFinished makes the final report of every hold that ended as a stall.
func (w *Watchdog) reportFinished() {
	w.finMu.Lock()
	fin := w.fin
	w.fin = nil
	w.finMu.Unlock()
	for _, e := range fin {
		h := e.h
		if h.watch.frame == "" {
			h.watch.frame, h.watch.stack = describe(callerFrames(e.leftAt))
			if h.watch.frame != "" {
				h.watch.frameFrom = FrameLeave
			}
		}
		if w.needsCPU(h) {
			w.judging = append(w.judging, judging{h: h, end: e.end, deadline: e.end + int64(w.opts.CPUWait)})
			continue
		}
		s := h.stall(time.Duration(e.end-h.start), false)
		s.Cause = verdict(s.Blocked, w.opts.Threshold, h.watch.parked, h.watch.runnable, 0, false, 0, 0, false)
		if s.Cause == CauseBlocked {
			s.Wait = h.watch.parked
		}
		w.opts.Report(s)
	}
}

// dueReport reports whether a hold held for held nanoseconds is due an
// ongoing report: its first, or the next after its duration doubled.
func (wt *watch) dueReport(held int64) bool {
	return !wt.reported || held >= wt.nextReport
}

// stall builds a report of h. Only the watchdog goroutine calls it.
func (h *hold) stall(blocked time.Duration, ongoing bool) Stall {
	s := Stall{
		ID:      h.watch.id,
		Source:  h.shard.loop.name,
		Start:   wallOf(h.start),
		Blocked: blocked,
		Ongoing: ongoing,
	}
	s.Frame, s.Stack, s.FrameFrom = h.watch.frame, h.watch.stack, h.watch.frameFrom
	if ongoing && h.watch.wait != "" {
		// So far: the final report says for the whole hold.
		s.Cause, s.Wait = CauseBlocked, h.watch.wait
	}
	// The entry's labels are the holder context's.
	s.Session, _ = pprof.Label(h.entry.base, LabelSession)
	s.Agent, _ = pprof.Label(h.entry.base, LabelAgent)
	if s.Session != "" {
		s.Confidence = 1
	}
	return s
}

// logStall is the Report used when Options.Report is nil.
func logStall(s Stall) {
	attrs := []any{
		slog.Uint64("stall_id", s.ID),
		slog.String("session_id", s.Session),
		slog.String("source", s.Source),
		slog.Duration("blocked", s.Blocked),
		slog.Bool("ongoing", s.Ongoing),
	}
	if s.Frame != "" {
		attrs = append(attrs, slog.String("frame", s.Frame))
	}
	slog.Warn("slow-session", attrs...)
}
