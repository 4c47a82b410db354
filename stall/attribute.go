package stall

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

// SchedStall turns a lag the [SchedProbe] measured into a Stall with Source
// [SourceScheduler], the lag's ID, start and length, attributed with
// [Attribute] to the session that held most of the CPU samples taken while it
// lasted (cpuBySession and cpuTotal, as for Attribute). It has no Agent or
// stack: the caller fills Agent from its session table, and may give the
// blamed session's busiest line as Frame ([FrameCPU]).
func SchedStall(lag SchedLag, cpuBySession map[string]int64, cpuTotal int64) Stall {
	s := Stall{
		ID:      lag.ID,
		Source:  SourceScheduler,
		Start:   lag.Start,
		Blocked: lag.Duration(),
		Ongoing: lag.Ongoing,
	}
	s.Session, s.Confidence = Attribute(cpuBySession, cpuTotal)
	return s
}
