package stall

import "time"

// Options configure a [Watchdog]. The zero value is ready to use.
type Options struct {
	// Threshold is how long a hold may last before it is a stall.
	// Zero means 50ms, OpenRTC's default slow-session threshold.
	Threshold time.Duration

	// Interval is the shortest time between two checks of the holders.
	// The watchdog does not tick: it sleeps until the first open hold
	// would cross Threshold (or the next report is due), until the next
	// hold begins when nothing is held, and checks a loop that is busy
	// with short holds about once per Threshold. So a stall is reported
	// about Threshold after the hold began, and at most Threshold+Interval
	// (plus the time to take a goroutine profile, which the watchdog takes
	// before reporting only while profiles take under Interval/2).
	// Zero means Threshold/2.
	Interval time.Duration

	// Report is called, from the watchdog's own goroutine and one call at a
	// time, for every report of every stall: when a hold crosses Threshold,
	// again each time its duration doubles since the previous report (so a
	// wedged holder is reported at about 50ms, 100ms, 200ms, ... without
	// flooding), once more as soon as its stack is known if a slow
	// goroutine profile made the first report go without it, and once with
	// the total when it ends. Report should return quickly, since checks
	// wait for it, and must not call Close. Nil means each report is
	// logged with slog.Default at level Warn.
	Report func(Stall)

	// MaxStackCaptures is the most goroutine profiles the watchdog takes per
	// second to capture holders' stacks. One profile serves every holder
	// due at that check. Whatever this says, after a profile that took d
	// of CPU the next waits 99·d, so profiles take at most 1% of a core:
	// one costs a few milliseconds with 1,000 goroutines and tens with
	// 10,000. (Its CPU, read on its thread where the OS allows, not its
	// wall time: on a saturated machine most of that is the watchdog
	// waiting for a processor, which is when starved holders need it.) A report made when the budget is spent carries no stack;
	// a later report of the same stall may, and a stall that ends before
	// any does is given the place where its holder left (see Stall.Frame).
	// Zero means 4 (the 1% cap binds first from about 250 goroutines); a
	// negative value disables stack capture.
	MaxStackCaptures int

	// CPU, when set, tells what the CPU profiler saw between two moments,
	// from the labelled samples the caller collects (the introspector's
	// CPU windows). The watchdog asks it about every hold that ended as a
	// stall without a profile finding its holder parked, to tell a holder
	// that ran (CauseRunning) from one that waited for a processor others
	// used (CauseWaitingForCPU), and to name who used it. The samples of
	// a window arrive when it closes, so the final report of such a hold
	// waits until CPU says the hold is covered, or CPUWait has passed. It
	// is called from the watchdog's goroutine and must not block.
	CPU func(from, to time.Time) CPUSeen

	// CPUWait bounds how long after a hold ends its final report waits
	// for CPU to cover it. Zero means 3s; set it above the caller's CPU
	// window.
	CPUWait time.Duration
}

// CPUSeen is what the CPU profiler saw over a span of time: the samples of
// the profiling windows that overlap it, counted whole.
type CPUSeen struct {
	// Covered is how much of the span the windows that sampled covered.
	Covered time.Duration
	// Windows is the windows' whole length: a profile has no time on its
	// samples, so the counts below are of every window that overlaps the
	// span, from its start to its end.
	Windows time.Duration
	// Last is when the last of those windows ended.
	Last time.Time
	// Period is the CPU time one sample stands for.
	Period time.Duration
	// Total counts every sample; BySession the samples per "session"
	// label; ByHold the samples per HoldLabel value.
	Total     int64
	BySession map[string]int64
	ByHold    map[string]int64
	// Lagged is how much of the span the scheduler was measured lagging
	// (a [SchedProbe]'s lags): the process's runnable goroutines could not
	// get a processor. A holder no profile caught, that used next to no
	// CPU through a hold the scheduler lagged through, waited for a CPU.
	Lagged time.Duration
	// LagWorst is the longest a runnable goroutine was measured waiting
	// in those lags (SchedLag.Worst): about the longest a holder that
	// only waited for a processor can have waited.
	LagWorst time.Duration
	// LagsUntil is how far the scheduler's lags are known; the watchdog
	// waits for it to pass a hold's end, as for Covered. Zero when the
	// caller measures no lags.
	LagsUntil time.Time
}

const (
	defaultThreshold        = 50 * time.Millisecond
	defaultMaxStackCaptures = 4
)

func (o Options) withDefaults() Options {
	if o.Threshold <= 0 {
		o.Threshold = defaultThreshold
	}
	if o.Interval <= 0 {
		o.Interval = o.Threshold / 2
	}
	if o.MaxStackCaptures == 0 {
		o.MaxStackCaptures = defaultMaxStackCaptures
	}
	if o.CPUWait <= 0 {
		o.CPUWait = 3 * time.Second
	}
	return o
}
