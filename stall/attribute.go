package stall

import "time"

// minAttributionSamples is the fewest CPU samples (at 100 Hz, 30ms of CPU)
// on which Attribute names a session; fewer are not evidence.
const minAttributionSamples = 3

// Attribute names the session that dominated the CPU in a window, given the
// CPU samples each session held (bySession, keyed by "session" label) and
// the window's total samples, including those of no session. Samples under
// the key "" count towards total and never win.
//
// The session with the most samples is named when it holds at least half of
// total, at least twice as many samples as the runner-up, and at least 3
// samples; confidence is then its share of total. Otherwise nobody dominates,
// and Attribute returns "" and 0: a stall shared by many sessions, or spent
// in the runtime, is not blamed on one of them.
func Attribute(bySession map[string]int64, total int64) (session string, confidence float64) {
	var top, second int64
	var sum int64
	for s, n := range bySession {
		if n <= 0 {
			continue
		}
		sum += n
		if s == "" {
			continue
		}
		switch {
		case n > top || (n == top && s < session):
			if n > top {
				second = top
			} else {
				second = n
			}
			session, top = s, n
		case n > second:
			second = n
		}
	}
	total = max(total, sum) // a total smaller than its parts undercounts
	if session == "" || top < minAttributionSamples || 2*top < total || top < 2*second {
		return "", 0
	}
	return session, float64(top) / float64(total)
}

// A SchedWindow is what the caller measured of the scheduler over one
// window, for [SchedStall].
type SchedWindow struct {
	// End is when the window closed.
	End time.Time
	// ProbeWorst is the window's [SchedProbe.Worst].
	ProbeWorst time.Duration
	// LatencyMax is the upper bound of the highest bucket of the runtime
	// metric /sched/latencies:seconds that gained counts in the window.
	LatencyMax time.Duration
	// CPUBySession and CPUTotal are the window's CPU samples per session
	// and in total, as for [Attribute].
	CPUBySession map[string]int64
	CPUTotal     int64
}

// SchedStall returns the scheduler stall of a window whose worst scheduling
// delay (the larger of ProbeWorst and LatencyMax) reaches threshold (zero
// means 50ms), attributed with [Attribute], and whether there was one. The
// stall is reported once, not ongoing, with Source [SourceScheduler], Start
// estimated as End minus the delay, a new ID, and no Agent or stack: the
// caller fills Agent from its session table.
func SchedStall(win SchedWindow, threshold time.Duration) (Stall, bool) {
	if threshold <= 0 {
		threshold = defaultThreshold
	}
	blocked := max(win.ProbeWorst, win.LatencyMax)
	if blocked < threshold {
		return Stall{}, false
	}
	s := Stall{
		ID:      newID(),
		Source:  SourceScheduler,
		Start:   win.End.Add(-blocked),
		Blocked: blocked,
	}
	s.Session, s.Confidence = Attribute(win.CPUBySession, win.CPUTotal)
	return s, true
}
