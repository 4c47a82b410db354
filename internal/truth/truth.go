//go:build linux

package truth

import (
	"time"
)

// Truth is what really happened in a run, measured beside the worker.
type Truth struct {
	Recording string
	Start     time.Time // the first session's begin
	End       time.Time // the last session's end
	Threshold time.Duration

	// Injected are the stalls injected, in time order.
	Injected []Injected
	// Spins are the scheduler stalls.
	Spins []Spin
	// CPU is the thread-clock CPU of each tracked owner over the run: the
	// judged sessions, and DispatcherOwner.
	CPU map[string]time.Duration
	// ProcessCPU is the process's CPU over the run (getrusage).
	ProcessCPU time.Duration
	// Series is the monitor's readings, for windows.
	Series Series

	// Ordinary are the sessions that did nothing wrong: they hold the mixer
	// and the mutex for microseconds of work, never block while holding,
	// and burn little CPU. Culprits are the rest, with what each did.
	Ordinary []string
	Culprits map[string]string
	// CPUHeavy are the sessions that ate CPU: the hogs, the load, the
	// codec that spins; the scheduler's stalls may be put on them.
	CPUHeavy []string
	// Judged are the sessions whose CPU seconds are compared with their
	// thread clocks.
	Judged []string

	Pool       PoolTruth
	Dispatcher DispatcherTruth
	Leak       LeakTruth
	// HTTPSessions counts the requests served as sessions.
	HTTPSessions int
	// Live are the checks of the live view made during the run.
	Live []LiveCheck
	// Load is when every core was loaded by spinning goroutines.
	LoadStart, LoadEnd time.Time
}

// DispatcherOwner is the owner of the dispatcher's own CPU, which no session
// should be billed for.
const DispatcherOwner = "(dispatcher)"

// Injected is one stall injected into a session: it held Source while its
// blocking call at Site waited, from Start to End, in the way Kind says.
type Injected struct {
	Session    string
	Source     string
	Kind       string
	Site       string // file.go:line of the blocking call
	DeferLeave bool
	HTTP       bool
	Start, End time.Time
}

// Dur is how long the injected block lasted.
func (i Injected) Dur() time.Duration { return i.End.Sub(i.Start) }

// Spin is one scheduler stall: from Start to End every P was running a
// spinner of Session, so nothing else could be scheduled.
type Spin struct {
	Session    string
	Planned    time.Duration
	Start, End time.Time
	// FirstHeld is when the first spinner entered the assembly, holding
	// its P while it waited for the others, and LastHeld when the last
	// one left it: some P was held from FirstHeld to LastHeld.
	FirstHeld, LastHeld time.Time
	// ThreadCPU is the CPU the spinners' threads used in the assembly, by
	// their clocks. Every P is held for the whole spin, but the OS may run
	// other threads on the CPUs meanwhile; the profiler, which samples
	// CPU time, sees only this much of the spin.
	ThreadCPU time.Duration
}

// Dur is the length of the stall.
func (s Spin) Dur() time.Duration { return s.End.Sub(s.Start) }

// PoolTruth is the pooled session's CPU: on its own goroutine (Own), and in
// the pool's workers on its behalf (Job, read around each job). Waiting is
// what the workers' threads used besides the jobs, parked and woken by the
// runtime between them: no session's work, and on no profile's labels.
type PoolTruth struct {
	Session           string
	Own, Job, Waiting time.Duration
}

// DispatcherTruth is the dispatcher and the sessions it began.
type DispatcherTruth struct {
	Sessions []string
	Own      time.Duration
}

// LeakTruth is the leaker: how many goroutines it left parked, and where.
type LeakTruth struct {
	Session string
	Count   int
	Site    string
}

// LiveCheck is one reading of the live view: the sum of the live rows'
// memory and the header's RSS, and RSS as /proc said at the same moment.
type LiveCheck struct {
	At          time.Time
	Rows        int
	SumBytes    float64
	HeaderBytes uint64
	ProcBytes   uint64
}
