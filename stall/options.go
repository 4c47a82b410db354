package stall

import "time"

// Options configure a [Watchdog]. The zero value is ready to use.
type Options struct {
	// Threshold is how long a hold may last before it is a stall.
	// Zero means 50ms, OpenRTC's default slow-session threshold.
	Threshold time.Duration

	// Interval is how often the watchdog checks the holders, so a stall is
	// reported at most about Threshold+Interval after the hold began (plus
	// the time to take a goroutine profile, which the watchdog takes before
	// reporting only while profiles take under Interval/2).
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
	// the next waits 99·d, so profiles take at most 1% of the time: one
	// costs a few milliseconds with 1,000 goroutines and a few hundred
	// with 10,000. A report made when the budget is spent carries no stack;
	// a later report of the same stall may, and a stall that ends before
	// any does is given the place where its holder left (see Stall.Frame).
	// Zero means 2; a negative value disables stack capture.
	MaxStackCaptures int
}

const (
	defaultThreshold        = 50 * time.Millisecond
	defaultMaxStackCaptures = 2
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
	return o
}
