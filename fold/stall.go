package fold

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/openrtc-go/introspect/events"
)

// Stall is one stall as a replay lists it: every report of one stall id
// merged into one entry, so a stall that was reported while ongoing and
// again when it ended is listed once, with its longest duration.
type Stall struct {
	ID uint64 `json:"stall_id"`
	// At is when the stall was last reported: its end, as the log line
	// an operator greps says, or the latest report of one still ongoing.
	// Stalls are listed in the order of At.
	At        time.Time `json:"time"`
	First     time.Time `json:"first_report"` // when it was first reported
	SessionID string    `json:"session_id"`   // "" when it could not be attributed
	Agent     string    `json:"agent_name,omitempty"`
	Source    string    `json:"source"` // the loop or section, or "scheduler"
	// BlockedMs is the longest block reported for the stall, in
	// milliseconds; the final report carries the total.
	BlockedMs  float64  `json:"blocked_ms"`
	Ongoing    bool     `json:"ongoing"` // no report said it ended
	Confidence float64  `json:"confidence"`
	Frame      string   `json:"frame,omitempty"`
	FrameFrom  string   `json:"frame_from,omitempty"` // events.FrameHolder, FrameLeave or FrameCPU
	Stack      []string `json:"stack,omitempty"`
	Reports    int      `json:"reports"`
	// Derived marks a stall inferred from a polled "slow" status: its
	// duration (BlockedMs 0) and line are unknown.
	Derived bool `json:"derived,omitempty"`
	// Began is when the hold or lag began, when the reports said
	// (recordings before it was written do not).
	Began time.Time `json:"start,omitzero"`
	// Cause, Wait, HoldCPUMs and StarvedBy are the latest report's
	// verdict on why the hold lasted (see events.SlowSession): the final
	// report settles it.
	Cause     string             `json:"cause,omitempty"`
	Wait      string             `json:"wait,omitempty"`
	HoldCPUMs *float64           `json:"hold_cpu_ms,omitempty"`
	StarvedBy map[string]float64 `json:"starved_by,omitempty"`
	// CauseUnknown marks a stall whose final report gave no cause in a
	// list where other stalls have one (so the worker judged causes): no
	// goroutine profile caught the holder parked and its CPU samples did
	// not decide (none were taken over the hold, or they fit neither a
	// holder that ran nor one that waited for a CPU). A scheduler stall,
	// one still ongoing, one derived from polled snapshots and any stall of
	// a recording that judges no cause (an older worker's) are not marked.
	// [StallList.Stalls] sets it.
	CauseUnknown bool `json:"cause_unknown,omitempty"`
}

// Victim reports whether the holder was not at fault: it waited for a CPU
// that other sessions were using.
func (s Stall) Victim() bool { return s.Cause == events.CauseWaitingForCPU }

// Undecided reports whether the stall ended with nothing saying why its
// hold lasted (see [Stall.CauseUnknown]).
func (s Stall) Undecided() bool { return s.CauseUnknown }

// Blocked returns the stall's longest reported duration.
func (s Stall) Blocked() time.Duration { return events.FromMillis(s.BlockedMs) }

// Start returns when the stall began: as its reports said, or else its last
// report's time minus the block reported then. The final report of a stall
// carries the whole block, so for an ended stall this is the moment the
// holder took the loop.
func (s Stall) Start() time.Time {
	if !s.Began.IsZero() {
		return s.Began
	}
	return s.At.Add(-s.Blocked())
}

// StallList merges slow-session reports into stalls, one per stall id. The
// zero value is ready to use.
type StallList struct {
	byID   map[uint64]int // stall id → index in stalls
	stalls []Stall
}

// Add merges one slow-session report made at time t.
func (l *StallList) Add(t time.Time, e events.SlowSession) {
	ms := events.Millis(e.Blocked)
	if !e.Start.IsZero() {
		// The moment the report speaks of: a report may be written a
		// little after it (a scheduler lag at the next sample, a final
		// report once the hold's CPU samples are in).
		t = e.Start.Add(e.Blocked)
	}
	if e.StallID != 0 {
		if i, ok := l.byID[e.StallID]; ok {
			s := &l.stalls[i]
			s.Reports++
			if !t.Before(s.At) {
				s.At, s.Ongoing = t, e.Ongoing
			}
			if ms >= s.BlockedMs {
				s.BlockedMs = ms
				// The longest report has seen most of the holder's stack,
				// unless it only knows where the hold was left and an
				// earlier report caught the holder itself.
				if e.Frame != "" && (e.FrameFrom != events.FrameLeave || s.Frame == "" || s.FrameFrom == events.FrameLeave) {
					s.Frame, s.Stack, s.FrameFrom = e.Frame, e.Stack, e.FrameFrom
				}
			}
			if s.SessionID == "" && e.SessionID != "" {
				s.SessionID, s.Agent = e.SessionID, e.Agent
			}
			if e.Confidence > s.Confidence {
				s.Confidence = e.Confidence
			}
			if s.Began.IsZero() {
				s.Began = e.Start
			}
			if e.Cause != "" {
				s.setCause(e)
			}
			return
		}
		if l.byID == nil {
			l.byID = make(map[uint64]int)
		}
		l.byID[e.StallID] = len(l.stalls)
	}
	l.stalls = append(l.stalls, Stall{
		ID: e.StallID, At: t, First: t, SessionID: e.SessionID, Agent: e.Agent,
		Source: e.Source, BlockedMs: ms, Ongoing: e.Ongoing, Confidence: e.Confidence,
		Frame: e.Frame, FrameFrom: e.FrameFrom, Stack: e.Stack, Reports: 1, Derived: e.Derived, Began: e.Start,
	})
	l.stalls[len(l.stalls)-1].setCause(e)
}

// StarvedByText lists the sessions that had the CPU while a holder waited
// for it, most first: "hog-b 52%, hog-a 44%".
func StarvedByText(by map[string]float64) string {
	ids := mostBlamed(by, -1)
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = fmt.Sprintf("%s %.0f%%", id, by[id])
	}
	return strings.Join(parts, ", ")
}

func (s *Stall) setCause(e events.SlowSession) {
	s.Cause, s.Wait, s.StarvedBy, s.HoldCPUMs = e.Cause, e.Wait, e.StarvedBy, nil
	if e.HoldCPUSeen {
		ms := events.Millis(e.HoldCPU)
		s.HoldCPUMs = &ms
	}
}

// Len returns the number of stalls merged so far.
func (l *StallList) Len() int { return len(l.stalls) }

// Stalls returns the stalls in the order of their last report. The slice
// is shared with the list until the next Add.
func (l *StallList) Stalls() []Stall {
	sort.SliceStable(l.stalls, func(i, j int) bool { return l.stalls[i].At.Before(l.stalls[j].At) })
	judged := false
	for i := range l.stalls {
		judged = judged || l.stalls[i].Cause != ""
	}
	for i := range l.stalls {
		st := &l.stalls[i]
		st.CauseUnknown = judged && st.Cause == "" && !st.Ongoing && !st.Derived && st.Source != events.SourceScheduler
	}
	for i, s := range l.stalls {
		if s.ID != 0 {
			l.byID[s.ID] = i
		}
	}
	if l.stalls == nil {
		return []Stall{}
	}
	return l.stalls
}

// WorstStalls returns up to n stalls, longest first; ties go to the earlier.
func WorstStalls(stalls []Stall, n int) []Stall {
	out := append([]Stall{}, stalls...)
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].BlockedMs != out[j].BlockedMs {
			return out[i].BlockedMs > out[j].BlockedMs
		}
		return out[i].At.Before(out[j].At)
	})
	if len(out) > n {
		out = out[:n]
	}
	return out
}

// ParseStall reads one slow-session report from a JSON line, as a stall of
// one report; ok is false for any other line. It is for following a
// recording as it is written, where reports are shown as they come rather
// than merged.
func ParseStall(line []byte) (s Stall, ok bool) {
	if KindOf(line) != events.KindSlowSession {
		return Stall{}, false
	}
	d, err := events.Decode(line)
	if err != nil {
		return Stall{}, false
	}
	e, ok := d.Event.(events.SlowSession)
	if !ok {
		return Stall{}, false
	}
	var l StallList
	l.Add(d.Time, e)
	return l.stalls[0], true
}
