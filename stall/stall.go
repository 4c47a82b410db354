package stall

import (
	"fmt"
	"strings"
	"sync/atomic"
	"time"
)

// SourceScheduler is the [Stall.Source] of a stall seen by the scheduler
// probe rather than on a named loop or section.
const SourceScheduler = "scheduler"

// Label keys read from a context's runtime/pprof labels. A session's context
// carries them, as set with pprof.WithLabels or pprof.Do.
const (
	LabelSession = "session"
	LabelAgent   = "agent"
	LabelTenant  = "tenant"
)

// HoldLabel is the pprof label a goroutine carries while it holds a watched
// loop or section. Its value, a number unique among the holds going on at
// the time, is how the watchdog finds the holder in a goroutine profile. It
// also shows in CPU profiles taken meanwhile.
const HoldLabel = "openrtc_hold"

// A Stall is one report of a stall: a session held a watched loop or section,
// or the scheduler lagged, for longer than the threshold.
//
// A stall seen while it is still going on is reported with Ongoing set,
// possibly several times with a growing Blocked, then once more with Ongoing
// unset and the total when it ends. All reports of one stall share its ID.
type Stall struct {
	// ID identifies the stall; it is the same for its ongoing reports and
	// its final report, and unique within the process.
	ID uint64
	// Session is the "session" label of the holder, or of the session that
	// held most CPU for a scheduler stall; "" when the stall is unattributed.
	Session string
	// Agent is the holder's "agent" label. SchedStall leaves it empty: the
	// caller knows each session's agent.
	Agent string
	// Source is SourceScheduler or the name of the loop or section held.
	Source string
	// Start is when the hold began, or the scheduler window's estimate of
	// when the lag began.
	Start time.Time
	// Blocked is how long the hold has lasted so far (Ongoing) or lasted in
	// total (final report); for the scheduler, the worst delay seen.
	Blocked time.Duration
	// Ongoing is set on reports made while the stall is still going on.
	Ongoing bool
	// Confidence (0 to 1) is how sure the attribution to Session is: 1 for
	// a labelled holder of a watched section, the holder's share of CPU
	// samples for a scheduler stall, 0 when Session is "".
	Confidence float64
	// Frame is the holder's top frame of interest as "file:line function",
	// where file is the last two elements of the path and function is
	// qualified by the last element of its package path:
	// "room/mixer.go:88 room.(*Mixer).mix". It is the first frame of Stack
	// outside the standard library, since the line that called time.Sleep
	// or net.(*conn).Read says more than either. A report made before a
	// goroutine profile caught the holder has none; a final report whose
	// holder no profile caught gives the place where the hold was left.
	Frame string
	// FrameFrom says where Frame comes from: FrameHolder when a goroutine
	// profile caught the holder while it held, FrameLeave when none did and
	// Frame is where the hold was left (the function that entered, at the
	// line of its leave or Unlock, not the line that blocked), FrameCPU for
	// a scheduler stall's busiest line; "" when there is no Frame.
	FrameFrom string
	// Stack is a short stack in the same format, leaf first, of at most 8
	// frames, starting at the leaf-most frame outside the runtime, sync and
	// this package.
	Stack []string

	// Cause says why the hold lasted: CauseBlocked when a profile caught
	// the holder parked (Wait says on what), CauseRunning when its CPU
	// samples show it on the CPU for much of the hold, CauseWaitingForCPU
	// when a profile caught it ready to run and its samples show it used
	// little CPU: it waited for a processor others were using, a victim.
	// "" when nothing says, and for a scheduler stall. An ongoing report
	// has a Cause only once a profile found the holder parked; the final
	// report of a hold whose holder was not found parked waits for the
	// CPU samples of the hold (see Options.CPU).
	Cause string
	// Wait is what a blocked holder waited for, in the runtime's words:
	// "chan receive", "sleep", "IO wait", "sync.Mutex.Lock", "select",
	// "syscall", ... (see internal/goprof).
	Wait string
	// HoldCPU is the CPU the holder used during the hold, from the CPU
	// samples carrying its HoldLabel; set when HoldCPUSeen.
	HoldCPU     time.Duration
	HoldCPUSeen bool
	// StarvedBy names, for CauseWaitingForCPU, the sessions that had the
	// CPU while the hold lasted: each one's percentage of the CPU samples
	// taken then, the three largest of at least 1%.
	StarvedBy map[string]float64
}

// The values of [Stall.Cause].
const (
	CauseBlocked       = "blocked"
	CauseWaitingForCPU = "waiting-for-cpu"
	CauseRunning       = "running"
)

// String formats s as one line in the style of OpenRTC's slow-session log:
//
//	[slow-session] session_id=job-c1d550 blocked mixer for 320ms at room/mixer.go:88 room.(*Mixer).mix
func (s Stall) String() string {
	var b strings.Builder
	b.WriteString("[slow-session] session_id=")
	if s.Session == "" {
		b.WriteString("-")
	} else {
		b.WriteString(s.Session)
	}
	what := s.Source
	if s.Source == SourceScheduler {
		what = "the scheduler"
	}
	fmt.Fprintf(&b, " blocked %s for %s", what, s.Blocked.Round(time.Millisecond))
	if s.Ongoing {
		b.WriteString(" (ongoing)")
	}
	switch s.Cause {
	case CauseBlocked:
		fmt.Fprintf(&b, " blocked on %s", s.Wait)
	case CauseWaitingForCPU:
		b.WriteString(" waiting for CPU")
	case CauseRunning:
		b.WriteString(" running")
	}
	if s.Frame != "" {
		if s.FrameFrom == FrameLeave {
			b.WriteString(" left at ")
		} else {
			b.WriteString(" at ")
		}
		b.WriteString(s.Frame)
	}
	return b.String()
}

// The values of [Stall.FrameFrom].
const (
	FrameHolder = "holder" // caught on the holder's stack while it held
	FrameLeave  = "leave"  // where the hold was left: no profile caught it
	FrameCPU    = "cpu"    // the blamed session's busiest line in CPU samples
)

// lastID numbers holds and stalls; a hold's number becomes its stall's ID,
// so one counter keeps IDs unique across watchdogs and the scheduler.
var lastID atomic.Uint64

func newID() uint64 { return lastID.Add(1) }
