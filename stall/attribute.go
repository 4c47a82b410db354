package stall

import (
	"math"
	"time"
)

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

// minUsual is the least history of a session's CPU that says what its usual
// rate is; with less, a session's whole CPU would pass for a surge.
const minUsual = 10 * time.Second

// A CPUUsual is what each session used of the CPU before a lag: the samples
// it usually held per second of profiled time (by "session" label; the
// caller says what usually is, such as the median over the windows of the
// last minute), taken over Over.
type CPUUsual struct {
	PerSecond map[string]float64
	Over      time.Duration
	// After is each session's samples per second in the window that
	// followed the lag's, nil until it has come. A rise that lasts into
	// it is a change of pace (a job starting), not a stall's doing, so no
	// session is named by its rise without it.
	After map[string]float64
}

// SchedStall turns a lag the [SchedProbe] measured into a Stall with Source
// [SourceScheduler], the lag's ID, start and length, blamed on the session
// that ran while it lasted. during is what the profiler saw in the windows
// that overlap the lag, usual what the sessions used before it, and procs
// the number of Ps (GOMAXPROCS).
//
// A surge names a session first: the one whose samples in during rose above
// its usual rate by about what the lag stands for on every P, while no other
// session rose by half as much. That is the session that took the Ps while
// nothing else ran (a codec's loop in assembly holds every P for 300ms and
// uses 0.6 CPU-seconds on two, beside hogs that use ten times as much in the
// window every window). Failing that, [Attribute] names the
// session that dominated the window: a saturated scheduler is the doing of
// whoever eats the CPU, however steadily. The Stall has no Agent or stack:
// the caller fills Agent from its session table, and may give the blamed
// session's busiest line as Frame ([FrameCPU]).
func SchedStall(lag SchedLag, during CPUSeen, usual CPUUsual, procs int) Stall {
	s := Stall{
		ID:      lag.ID,
		Source:  SourceScheduler,
		Start:   lag.Start,
		Blocked: lag.Duration(),
		Ongoing: lag.Ongoing,
	}
	s.Session, s.Confidence = surge(lag.Duration(), lag.CPU, during, usual, procs)
	if s.Session == "" {
		s.Session, s.Confidence = Attribute(during.BySession, during.Total)
	}
	return s
}

// surge names the session whose CPU rose above its usual rate, and above its
// rate in the window after, over during's windows by at least half of what
// the lag stands for on every P (capacity; or of the CPU the process used
// while it lasted, cpu, when that was measured and is less: goroutines that
// hold every P while the OS runs other processes' threads use only what
// they are given): a session that took every P for
// the lag used that much more, and then went back to its pace (a session
// that kept its new pace changed it, a job starting, which a stall does not
// explain). A rise is counted only when it is out of the sampling's noise
// (three standard deviations of the larger of the count and what was
// expected: a session's count moves that much from window to window), and
// the session is
// named only when no other session rose by half as much. When the others'
// counts all rose together (the process got more of the machine), the
// expectations rise with them. confidence is the
// rise's share of capacity, at most 1. A rise of several times capacity is
// still a surge: a codec that held every P three times in a window rose by
// three stalls' worth.
func surge(lag, cpu time.Duration, during CPUSeen, usual CPUUsual, procs int) (session string, confidence float64) {
	if usual.Over < minUsual || usual.After == nil || during.Windows <= 0 || during.Period <= 0 || procs <= 0 {
		return "", 0
	}
	capacity := float64(lag) * float64(procs) / float64(during.Period) // samples
	if cpu > 0 {
		capacity = min(capacity, float64(cpu)/float64(during.Period))
	}
	expect := func(id string) float64 {
		return max(usual.PerSecond[id], usual.After[id]) * during.Windows.Seconds()
	}
	// When the process as a whole got more CPU than usual (the machine's
	// other load eased), every session's count rose with it: the
	// expectations are scaled by how much the others rose, leaving out
	// the session that rose most, which may be the surge. Never scaled
	// down: a spin takes its CPU from the others, and a session light
	// enough to be within its noise must stay there.
	var cand string
	var candRise float64
	for id, n := range during.BySession {
		if r := float64(n) - expect(id); id != "" && (cand == "" || r > candRise || (r == candRise && id < cand)) {
			cand, candRise = id, r
		}
	}
	var rest, restExpected float64
	for id, n := range during.BySession {
		if id != "" && id != cand {
			rest += float64(n)
			restExpected += expect(id)
		}
	}
	scale := 1.0
	if restExpected > 0 && rest > restExpected {
		scale = rest / restExpected
	}
	var top, second float64
	for id, n := range during.BySession {
		if id == "" {
			continue
		}
		expected := expect(id) * scale
		rise := float64(n) - expected
		if rise < minAttributionSamples || rise < 3*math.Sqrt(max(expected, float64(n), 1)) {
			continue
		}
		switch {
		case rise > top || (rise == top && id < session):
			second = max(second, top)
			session, top = id, rise
		case rise > second:
			second = rise
		}
	}
	if session == "" || top < capacity/2 || top < 2*second {
		return "", 0
	}
	return session, min(1, top/capacity)
}
