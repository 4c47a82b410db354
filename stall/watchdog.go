package stall

import (
	"bytes"
	"log/slog"
	"runtime/pprof"
	"slices"
	"strconv"
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

	finMu sync.Mutex
	fin   []*hold       // holds that ended as stalls, awaiting their final report
	wake  chan struct{} // nudges the watchdog goroutine when fin grows

	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once

	// Owned by the watchdog goroutine.
	captures *limiter
	buf      bytes.Buffer
	due      []*hold
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
	l := &Loop{w: w, name: name}
	w.loops[name] = l
	w.order = append(w.order, l)
	return l
}

// Close stops the watchdog goroutine after making the final reports of
// stalls that have already ended. Holds still going on are not reported
// again. Loops and mutexes keep working after Close, unwatched. Close may be
// called more than once.
func (w *Watchdog) Close() error {
	w.closeOnce.Do(func() { close(w.stop) })
	<-w.done
	return nil
}

// finished queues a hold that ended as a stall for its final report.
func (w *Watchdog) finished(h *hold) {
	w.finMu.Lock()
	w.fin = append(w.fin, h)
	w.finMu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (w *Watchdog) run() {
	defer close(w.done)
	t := time.NewTicker(w.opts.Interval)
	defer t.Stop()
	for {
		select {
		case <-w.stop:
			w.reportFinished()
			return
		case <-w.wake:
			w.reportFinished()
		case now := <-t.C:
			w.check(now)
			// Drain after the ongoing reports, so a hold that ended during
			// the check is reported ongoing before it is reported final.
			w.reportFinished()
		}
	}
}

// check reports the holds that are past the threshold and due a report.
func (w *Watchdog) check(now time.Time) {
	w.mu.Lock()
	loops := slices.Clone(w.order)
	w.mu.Unlock()

	thr := w.opts.Threshold
	w.due = w.due[:0]
	for _, l := range loops {
		l.mu.Lock()
		for h := l.head; h != nil; h = h.next {
			if held := now.Sub(h.start); held >= thr && (h.dueReport(held) || !h.captured) {
				w.due = append(w.due, h)
			}
		}
		l.mu.Unlock()
	}
	if len(w.due) == 0 {
		return
	}
	// One profile serves every due hold. Holds due a report get a fresh
	// stack, since a wedged holder may have moved since the last one; a
	// hold reported while the budget was spent gets its first stack late,
	// for its next or final report.
	if w.captures.allow(now) {
		if stacks, err := captureHolders(&w.buf); err == nil {
			for _, h := range w.due {
				h.captured = true
				if fs, ok := stacks[strconv.FormatUint(h.id, 10)]; ok {
					if top, st := describe(fs); top != "" {
						h.frame, h.stack = top, st
					}
				}
			}
		}
	}
	slices.SortFunc(w.due, func(a, b *hold) int { return a.start.Compare(b.start) })
	for _, h := range w.due {
		if held := now.Sub(h.start); h.dueReport(held) {
			h.reported = true
			h.nextReport = 2 * held
			w.opts.Report(h.stall(held, true))
		}
	}
	clear(w.due) // let ended holds be collected
}

// reportFinished makes the final report of every hold that ended as a stall.
func (w *Watchdog) reportFinished() {
	w.finMu.Lock()
	fin := w.fin
	w.fin = nil
	w.finMu.Unlock()
	for _, h := range fin {
		if h.frame == "" {
			h.frame, h.stack = describe(callerFrames(h.leftAt))
		}
		w.opts.Report(h.stall(h.end.Sub(h.start), false))
	}
}

// dueReport reports whether h, held for held, is due an ongoing report:
// its first, or the next after its duration doubled.
func (h *hold) dueReport(held time.Duration) bool {
	return !h.reported || held >= h.nextReport
}

// stall builds the report of h. Only the watchdog goroutine calls it.
func (h *hold) stall(blocked time.Duration, ongoing bool) Stall {
	s := Stall{
		ID:      h.id,
		Source:  h.loop.name,
		Start:   h.start,
		Blocked: blocked,
		Ongoing: ongoing,
		Frame:   h.frame,
		Stack:   h.stack,
	}
	s.Session, _ = pprof.Label(h.ctx, LabelSession)
	s.Agent, _ = pprof.Label(h.ctx, LabelAgent)
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
