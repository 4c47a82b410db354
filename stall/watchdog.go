package stall

import (
	"bytes"
	"cmp"
	"context"
	"log/slog"
	"runtime"
	"runtime/pprof"
	"slices"
	"sync"
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
	wake   chan struct{} // nudges the watchdog goroutine when fin grows

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

func (w *Watchdog) run() {
	defer close(w.done)
	// Started from a session, this goroutine would inherit its labels and
	// bill the session for the watchdog's CPU.
	pprof.SetGoroutineLabels(context.Background())
	t := time.NewTicker(w.opts.Interval)
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
			w.reportFinished()
		case now := <-t.C:
			w.check(now)
			// Drain after the ongoing reports, so a hold that ended during
			// the check is reported ongoing before it is reported final.
			w.reportFinished()
			if len(w.judging) > 0 {
				w.judge(monoNow(), false)
			}
		}
	}
}

// check reports the holds that are past the threshold and due a report.
func (w *Watchdog) check(now time.Time) {
	w.mu.Lock()
	w.loopsBuf = append(w.loopsBuf[:0], w.order...)
	w.mu.Unlock()

	mono := monoOf(now)
	thr := int64(w.opts.Threshold)
	w.due = w.due[:0]
	for _, l := range w.loopsBuf {
		for i := range l.shards {
			w.checkShard(&l.shards[i], mono, thr)
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
	clear(w.due) // let ended holds be collected
}

// checkShard adds to w.due the holds of sh that are past the threshold thr
// at mono and due a report or a stack.
func (w *Watchdog) checkShard(sh *shard, mono, thr int64) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	for h := sh.head; h != nil; h = h.next {
		if held := mono - h.start; held >= thr {
			if h.watch == nil {
				h.watch = &watch{id: newID()} // and h is never reused
			}
			if h.watch.dueReport(held) || !h.watch.captured {
				w.due = append(w.due, h)
			}
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
		s.Cause = verdict(s.Blocked, w.opts.Threshold, h.watch.parked, h.watch.runnable, 0, false, 0)
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
