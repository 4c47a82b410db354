package events

import (
	"log/slog"
	"math"
	"sort"
	"time"
)

// SchemaVersion is the version of the event schema this package writes, carried
// in every record as the attribute "v". Fields are only ever added in a
// compatible way; a reader that meets a newer version decodes what it knows.
const SchemaVersion = 1

// The stable event names, used as the slog message of each record.
const (
	KindWorkerStart  = "worker.start"
	KindSessionStart = "session.start"
	KindSessionEnd   = "session.end"
	KindSample       = "sample"
	KindSlowSession  = "slow-session"
	KindKeyframe     = "keyframe"
	KindRecorderDrop = "recorder.drop"
	KindWorkerStop   = "worker.stop"
)

// Kinds lists every event name this package defines, in a stable order.
var Kinds = []string{
	KindWorkerStart, KindSessionStart, KindSessionEnd, KindSample,
	KindSlowSession, KindKeyframe, KindRecorderDrop, KindWorkerStop,
}

// Known reports whether kind is one of the event names this package defines.
func Known(kind string) bool {
	for _, k := range Kinds {
		if k == kind {
			return true
		}
	}
	return false
}

// An Event is one finding of the introspector. Its slog form is the record
// built by [Record]: message Kind, level Level, attributes Attrs.
type Event interface {
	// Kind returns the stable event name, such as "slow-session".
	Kind() string
	// Level returns the level the event is logged at.
	Level() slog.Level
	// Attrs returns the event's fields as slog attributes, without "v".
	Attrs() []slog.Attr
}

// Record returns the slog record of e at time t: message e.Kind(), level
// e.Level(), the schema version as "v", then e.Attrs().
func Record(t time.Time, e Event) slog.Record {
	r := slog.NewRecord(t, e.Level(), e.Kind(), 0)
	r.AddAttrs(slog.Int("v", SchemaVersion))
	r.AddAttrs(e.Attrs()...)
	return r
}

// Outcomes of a session, as carried by [SessionEnd].
const (
	OutcomeOK        = "ok"
	OutcomeError     = "error"
	OutcomeCancelled = "cancelled"
)

// Config is the configuration an introspector runs with, as announced by
// [WorkerStart]. Zero durations are omitted.
type Config struct {
	SampleInterval   time.Duration // how often a sample is taken
	CPUWindow        time.Duration // nominal length of a CPU profile window
	SlowThreshold    time.Duration // a hold or lag longer than this is a stall
	SlowWindow       time.Duration // how long a session shows "slow" after a stall
	KeyframeInterval time.Duration // how often the recorder writes a keyframe
}

func (c Config) attrs() []slog.Attr {
	var as []slog.Attr
	add := func(key string, d time.Duration) {
		if d > 0 {
			as = append(as, slog.Float64(key, Millis(d)))
		}
	}
	add("sample_interval_ms", c.SampleInterval)
	add("cpu_window_ms", c.CPUWindow)
	add("slow_threshold_ms", c.SlowThreshold)
	add("slow_window_ms", c.SlowWindow)
	add("keyframe_interval_ms", c.KeyframeInterval)
	return as
}

// WorkerStart announces a worker: who it is and the configuration in force.
type WorkerStart struct {
	Worker      string // the worker's name
	PID         int
	Host        string
	GoVersion   string
	MaxSessions int // 0 when the worker sets no limit
	Config      Config
	// WorkerKind is the kind of worker when it is not a Go worker running the
	// introspector: "openrtc" for OpenRTC's Python worker recorded by
	// polling its socket (openrtc-replay record), which has no Go vitals.
	// Omitted when empty.
	WorkerKind string
}

func (WorkerStart) Kind() string      { return KindWorkerStart }
func (WorkerStart) Level() slog.Level { return slog.LevelInfo }
func (e WorkerStart) Attrs() []slog.Attr {
	as := []slog.Attr{
		slog.String("worker", e.Worker),
		slog.Int("pid", e.PID),
		slog.String("host", e.Host),
		slog.String("go_version", e.GoVersion),
	}
	if e.MaxSessions > 0 {
		as = append(as, slog.Int("max_sessions", e.MaxSessions))
	}
	if cs := e.Config.attrs(); len(cs) > 0 {
		as = append(as, slog.Attr{Key: "config", Value: slog.GroupValue(cs...)})
	}
	if e.WorkerKind != "" {
		as = append(as, slog.String("kind", e.WorkerKind))
	}
	return as
}

// SessionStart marks the beginning of a session.
type SessionStart struct {
	SessionID string
	Agent     string            // agent_name; may be empty
	Tenant    string            // omitted when empty
	Pinned    bool              // the session may not be moved off this worker
	Labels    map[string]string // extra labels, omitted when empty
}

func (SessionStart) Kind() string      { return KindSessionStart }
func (SessionStart) Level() slog.Level { return slog.LevelInfo }
func (e SessionStart) Attrs() []slog.Attr {
	as := []slog.Attr{slog.String("session_id", e.SessionID), slog.String("agent_name", e.Agent)}
	if e.Tenant != "" {
		as = append(as, slog.String("tenant", e.Tenant))
	}
	if e.Pinned {
		as = append(as, slog.Bool("pinned", true))
	}
	if len(e.Labels) > 0 {
		as = append(as, stringMapAttr("labels", e.Labels))
	}
	return as
}

// SessionEnd marks the end of a session, with its outcome (one of
// [OutcomeOK], [OutcomeError], [OutcomeCancelled]) and the error text, if any.
type SessionEnd struct {
	SessionID string
	Outcome   string
	Error     string // omitted when empty
}

func (SessionEnd) Kind() string { return KindSessionEnd }

// Level is INFO for a clean end and WARN for an error, so a console at WARN
// still shows failing sessions.
func (e SessionEnd) Level() slog.Level {
	if e.Outcome == OutcomeError {
		return slog.LevelWarn
	}
	return slog.LevelInfo
}
func (e SessionEnd) Attrs() []slog.Attr {
	as := []slog.Attr{slog.String("session_id", e.SessionID), slog.String("outcome", e.Outcome)}
	if e.Error != "" {
		as = append(as, slog.String("error", e.Error))
	}
	return as
}

// CPUWindow is one window of the CPU profiler: how long it really ran, its
// sampling period, how its samples split between sessions, and how much CPU
// the process used over the time the window accounts for.
//
// The samples give shares; CPUTime gives the total. A session's CPU time
// over the window is Sessions[id] / Total × CPUTime, and over its span that
// times Span / Duration, so the sessions' figures add up to the process's
// CPU time less the unlabelled share, however many samples the profiler
// lost. (The profiler's own restart between windows, which no sample can
// see, is left out of CPUTime rather than billed to the sessions.)
type CPUWindow struct {
	Duration time.Duration // how long the profiler ran in this window
	// Span is the wall time the window accounts for: from the end of the
	// previous window (or this one's start, for the first) to this one's
	// end, so consecutive spans tile the time, gaps between windows
	// included. With duty-cycled windows (one window every Span) it is much
	// longer than Duration. Zero in recordings that predate it when windows
	// ran back to back.
	Span time.Duration
	// CPUTime is the CPU time (user and system, from getrusage) the whole
	// process used while the window's profiler ran (over Duration): the
	// exact total the window's shares divide. Zero when it was not
	// measured (recordings that predate it, or a platform without
	// getrusage); readers then fall back to samples × Period.
	CPUTime     time.Duration
	Period      time.Duration    // sampling period, 10ms at the profiler's 100 Hz
	Total       int64            // all samples in the window
	Unlabelled  int64            // samples outside any session: runtime, GC, framework
	Sessions    map[string]int64 // samples per session; only sessions seen on CPU
	Unavailable string           // why the CPU could not be sampled, "" when it was
	// Owner names the other profiler that holds the process's CPU profiler
	// ("pyroscope-go", "net/http/pprof", …): in an unavailable window, who
	// has it; in a valid one, whose profile the samples were read from.
	// Empty when introspection ran the window itself.
	Owner string
	// Unsampled is the process's CPU time (getrusage) in the time this
	// sample accounts for that no sample of introspection's covers: while
	// another caller held the CPU profiler or had stopped introspection's
	// profile. No session's share of it is known, so it is in no session's
	// CPU time: readers add it up and say how much of the process's CPU
	// the sessions' figures leave out. For an unavailable window it is its
	// CPUTime; a valid window carries the unavailable ones merged into its
	// sample. Zero in recordings that predate it, where an unavailable
	// window's CPUTime is the figure.
	Unsampled time.Duration
}

// UnsampledCPU returns the process's CPU time in the window that no
// sample covers (see Unsampled), reading older recordings' unavailable
// windows as wholly unsampled.
func (w CPUWindow) UnsampledCPU() time.Duration {
	if w.Unsampled == 0 && w.Unavailable != "" {
		return w.CPUTime
	}
	return w.Unsampled
}

// Scale returns the factor by which CPU time in the window is scaled to
// its Span: Span/Duration, or 1 when Span is not longer than Duration.
func (w CPUWindow) Scale() float64 {
	if w.Span > w.Duration && w.Duration > 0 {
		return float64(w.Span) / float64(w.Duration)
	}
	return 1
}

// SessionCPU returns the CPU time over the window's span that n of its
// samples stand for: n × Period × Scale.
//
// It is not n's share of CPUTime. The profiler samples a thread when the
// kernel finds it running at a tick with a period of its CPU clock spent,
// so a thread that runs in short bursts is sampled short, sometimes hardly
// at all, while one that runs for milliseconds at a time is sampled to
// within a percent; a share of the process's total would hand what the
// bursty threads missed to the busiest sessions (a steady hog billed 26 %
// over its thread clock beside a few bursty goroutines). What the samples
// missed is [CPUWindow.MissedCPU], stated apart.
func (w CPUWindow) SessionCPU(n int64) time.Duration {
	return time.Duration(math.Round(float64(n) * float64(w.Period) * w.Scale()))
}

// MissedCPU returns the process's CPU time over the window's span that its
// samples do not stand for: CPUTime less Total × Period, scaled to the span,
// or zero when CPUTime was not measured or the samples stand for more.
func (w CPUWindow) MissedCPU() time.Duration {
	if w.CPUTime <= 0 || w.Period <= 0 {
		return 0
	}
	missed := float64(w.CPUTime) - float64(w.Total)*float64(w.Period)
	if missed <= 0 {
		return 0
	}
	return time.Duration(math.Round(missed * w.Scale()))
}

// ProcessCPUPct returns the CPU the whole process used in the window, in
// percent of one core (200 means two cores busy): CPUTime / Duration when
// CPUTime was measured, samples × Period / Duration otherwise.
func (w CPUWindow) ProcessCPUPct() float64 {
	if w.Duration <= 0 {
		return 0
	}
	if w.CPUTime > 0 {
		return float64(w.CPUTime) * 100 / float64(w.Duration)
	}
	return float64(w.Total) * float64(w.Period) * 100 / float64(w.Duration)
}

// Valid reports whether the window holds a measurement.
func (w CPUWindow) Valid() bool { return w.Duration > 0 && w.Unavailable == "" }

func (w CPUWindow) attr() slog.Attr {
	as := []slog.Attr{
		slog.Float64("dur_ms", Millis(w.Duration)),
		slog.Float64("period_ms", Millis(w.Period)),
		slog.Int64("total", w.Total),
		slog.Int64("unlabelled", w.Unlabelled),
	}
	if w.Span > w.Duration {
		as = append(as, slog.Float64("span_ms", Millis(w.Span)))
	}
	if w.CPUTime > 0 {
		as = append(as, slog.Float64("cpu_ms", Millis(w.CPUTime)))
	}
	if len(w.Sessions) > 0 {
		as = append(as, int64MapAttr("sessions", w.Sessions))
	}
	if w.Unavailable != "" {
		as = append(as, slog.String("unavailable", w.Unavailable))
	}
	if w.Owner != "" {
		as = append(as, slog.String("owner", w.Owner))
	}
	if w.Unsampled > 0 {
		as = append(as, slog.Float64("unsampled_cpu_ms", Millis(w.Unsampled)))
	}
	return slog.Attr{Key: "cpu", Value: slog.GroupValue(as...)}
}

// Sample is the periodic measurement of the worker. The CPU window is present
// when one ended since the previous sample; GoroutinesBySession is present
// when the goroutine profile was taken, and holds only the sessions whose
// goroutine count changed since the previous one (0 for a session that has
// none left).
type Sample struct {
	RSSBytes            uint64
	Sessions            int // live sessions; mem_mb of each is RSSBytes/Sessions
	Goroutines          int
	Runnable            int // goroutines waiting for a P; -1 when unknown
	Running             int // goroutines running; -1 when unknown
	Waiting             int // goroutines blocked; -1 when unknown
	HeapBytes           uint64
	GCCycles            int64         // GC cycles completed in the interval
	GCPause             time.Duration // total stop-the-world GC pause in the interval
	GCPauseMax          time.Duration
	SchedP50            time.Duration // scheduling latency percentiles in the interval
	SchedP99            time.Duration
	SchedMax            time.Duration
	MutexWaitPerSec     float64 // seconds spent waiting on sync.Mutex per second
	CPU                 CPUWindow
	GoroutinesBySession map[string]int
	// GoroutineStacks holds, for the sessions whose goroutine count grew
	// since the previous profile (a leak shows there first), their largest
	// groups of goroutines by the line they are parked at; present only
	// with GoroutinesBySession, and only for those sessions.
	GoroutineStacks map[string][]GoroutineGroup
}

// A GoroutineGroup is a group of one session's goroutines at the same line
// for the same reason: "425 goroutines parked at leaky.go:42, chan receive".
type GoroutineGroup struct {
	Count int    `json:"n"`
	Frame string `json:"frame"`          // "file:line function", the session's own code
	Wait  string `json:"wait,omitempty"` // the runtime's wait reason; "" when running or runnable
}

func (Sample) Kind() string      { return KindSample }
func (Sample) Level() slog.Level { return slog.LevelDebug }
func (e Sample) Attrs() []slog.Attr {
	as := []slog.Attr{
		slog.Uint64("rss_bytes", e.RSSBytes),
		slog.Int("sessions", e.Sessions),
		slog.Int("goroutines", e.Goroutines),
	}
	if e.Runnable >= 0 && e.Running >= 0 && e.Waiting >= 0 {
		as = append(as, slog.Int("gor_runnable", e.Runnable), slog.Int("gor_running", e.Running), slog.Int("gor_waiting", e.Waiting))
	}
	as = append(as,
		slog.Uint64("heap_bytes", e.HeapBytes),
		slog.Int64("gc_cycles", e.GCCycles),
		slog.Float64("gc_pause_ms", Millis(e.GCPause)),
		slog.Float64("gc_pause_max_ms", Millis(e.GCPauseMax)),
		slog.Float64("sched_p50_ms", Millis(e.SchedP50)),
		slog.Float64("sched_p99_ms", Millis(e.SchedP99)),
		slog.Float64("sched_max_ms", Millis(e.SchedMax)),
		slog.Float64("mutex_wait_ms_per_s", round3(e.MutexWaitPerSec*1000)),
	)
	if e.CPU.Duration > 0 || e.CPU.Unavailable != "" {
		as = append(as, e.CPU.attr())
	}
	if len(e.GoroutinesBySession) > 0 {
		as = append(as, intMapAttr("gor", e.GoroutinesBySession))
	}
	if len(e.GoroutineStacks) > 0 {
		gs := make([]slog.Attr, 0, len(e.GoroutineStacks))
		for _, id := range sortedKeys(e.GoroutineStacks) {
			gs = append(gs, slog.Any(id, e.GoroutineStacks[id]))
		}
		as = append(as, slog.Attr{Key: "gor_stacks", Value: slog.GroupValue(gs...)})
	}
	return as
}

// SourceScheduler is the source of a stall seen by the scheduler probe rather
// than on a named loop or section.
const SourceScheduler = "scheduler"

// SlowSession reports a stall: a session held a shared loop or section (or
// the scheduler lagged) for longer than the threshold. A stall still going on
// is reported with Ongoing set, and again with the total when it ends; all
// reports of one stall share its StallID.
type SlowSession struct {
	StallID    uint64
	SessionID  string // "" when the stall cannot be attributed
	Agent      string
	Source     string // SourceScheduler or the loop/section name
	Blocked    time.Duration
	Ongoing    bool
	Confidence float64 // 0..1: 1 for a named loop's holder, the CPU share for the scheduler
	Frame      string  // the holder's top frame, "file:line function"
	// FrameFrom says where Frame comes from: [FrameHolder], [FrameLeave]
	// or [FrameCPU]; omitted when empty.
	FrameFrom string
	Stack     []string // a short stack, leaf first
	// Derived marks a stall inferred from polled snapshots (openrtc-replay
	// record): a row's stall count grew, or it showed "slow". The line is
	// unknown (Frame empty); so is the duration (Blocked 0) unless the
	// row's worst stall rose with it.
	Derived bool
	// Start is when the hold or the scheduler lag began; omitted when zero.
	// A report may be written a little after what it reports (a scheduler
	// lag at the next sample, a final report once the CPU samples of the
	// hold are in), so a reader dates the stall by Start, not by the
	// record's time.
	Start time.Time
	// Cause says why a hold lasted: [CauseBlocked], [CauseWaitingForCPU] or
	// [CauseRunning]; empty when not known (the holder was never caught
	// and its CPU was not sampled) and for a scheduler stall.
	Cause string
	// Wait is what a blocked holder waited for, in the runtime's words:
	// "chan receive", "sleep", "IO wait", "sync.Mutex.Lock", "select",
	// "syscall"...; empty unless Cause is CauseBlocked.
	Wait string
	// HoldCPU is the CPU the holder used during the hold, from its
	// labelled CPU samples; meaningful when HoldCPUSeen.
	HoldCPU     time.Duration
	HoldCPUSeen bool
	// StarvedBy names the sessions that had the CPU while a holder
	// waited for it (Cause CauseWaitingForCPU): each one's share of the CPU
	// samples taken during the hold, in percent; the few largest only.
	StarvedBy map[string]float64
}

// The values of [SlowSession.Cause].
const (
	// CauseBlocked: the holder was parked (sleep, I/O, a channel, a lock,
	// a system call) while it held: its own doing.
	CauseBlocked = "blocked"
	// CauseWaitingForCPU: the holder was ready to run but waited for a CPU
	// that other sessions were using, and used little itself: a victim of
	// CPU saturation, not a culprit. StarvedBy names who had the CPU.
	CauseWaitingForCPU = "waiting-for-cpu"
	// CauseRunning: the holder was on the CPU for much of the hold: its
	// work itself was long.
	CauseRunning = "running"
)

// The values of [SlowSession.FrameFrom].
const (
	// FrameHolder: a goroutine profile caught the holder while it held,
	// and Frame is the line it was blocked or running on.
	FrameHolder = "holder"
	// FrameLeave: no profile caught the holder while it held, and Frame
	// is where the hold was left (the leave or Unlock line, or the end
	// of the function that deferred it): the function is the holder's,
	// the line is not the one that blocked.
	FrameLeave = "leave"
	// FrameCPU: a scheduler stall's Frame, the line the blamed session's
	// CPU samples landed on most.
	FrameCPU = "cpu"
)

func (SlowSession) Kind() string      { return KindSlowSession }
func (SlowSession) Level() slog.Level { return slog.LevelWarn }
func (e SlowSession) Attrs() []slog.Attr {
	as := make([]slog.Attr, 0, 10)
	if e.SessionID != "" {
		as = append(as, slog.String("session_id", e.SessionID))
	}
	as = append(as, slog.Float64("blocked_ms", Millis(e.Blocked)), slog.String("source", e.Source))
	if e.Agent != "" {
		as = append(as, slog.String("agent_name", e.Agent))
	}
	as = append(as,
		slog.Bool("ongoing", e.Ongoing),
		slog.Float64("confidence", round3(e.Confidence)),
		slog.Uint64("stall_id", e.StallID),
	)
	if e.Frame != "" {
		as = append(as, slog.String("frame", e.Frame))
	}
	if e.FrameFrom != "" {
		as = append(as, slog.String("frame_from", e.FrameFrom))
	}
	if len(e.Stack) > 0 {
		as = append(as, slog.Any("stack", e.Stack))
	}
	if e.Derived {
		as = append(as, slog.Bool("derived", true))
	}
	if !e.Start.IsZero() {
		as = append(as, slog.Time("start", e.Start))
	}
	if e.Cause != "" {
		as = append(as, slog.String("cause", e.Cause))
	}
	if e.Wait != "" {
		as = append(as, slog.String("wait", e.Wait))
	}
	if e.HoldCPUSeen {
		as = append(as, slog.Float64("hold_cpu_ms", Millis(e.HoldCPU)))
	}
	if len(e.StarvedBy) > 0 {
		as = append(as, float64MapAttr("starved_by", e.StarvedBy))
	}
	return as
}

// DropFinalPrefix starts the Reason of the last record a recorder writes
// when it is closed while its writes fail (a disk that never frees): the
// records it counts were lost, and the recording ends there by design, not
// by a crash. The rest of the reason is the write error.
const DropFinalPrefix = "closed while writing failed: "

// RecorderDrop reports events the recorder could not write: how many since
// the last report, and why ("queue full" or "write error: ...").
type RecorderDrop struct {
	Dropped int64
	Reason  string
}

func (RecorderDrop) Kind() string      { return KindRecorderDrop }
func (RecorderDrop) Level() slog.Level { return slog.LevelWarn }
func (e RecorderDrop) Attrs() []slog.Attr {
	return []slog.Attr{slog.Int64("dropped", e.Dropped), slog.String("reason", e.Reason)}
}

// WorkerStop is the clean-shutdown marker. A recording that ends without one
// ended in a crash or a kill.
type WorkerStop struct {
	Reason string // omitted when empty
}

func (WorkerStop) Kind() string      { return KindWorkerStop }
func (WorkerStop) Level() slog.Level { return slog.LevelInfo }
func (e WorkerStop) Attrs() []slog.Attr {
	if e.Reason == "" {
		return nil
	}
	return []slog.Attr{slog.String("reason", e.Reason)}
}

// Millis returns d in milliseconds, rounded to the microsecond, the unit of
// every duration field.
func Millis(d time.Duration) float64 { return round3(float64(d) / 1e6) }

// FromMillis is the inverse of [Millis].
func FromMillis(ms float64) time.Duration { return time.Duration(math.Round(ms * 1e6)) }

func round3(f float64) float64 { return math.Round(f*1000) / 1000 }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// The maps are written as slog groups with sorted keys: deterministic output,
// and no reflection on the writer's path.
func int64MapAttr(key string, m map[string]int64) slog.Attr {
	as := make([]slog.Attr, 0, len(m))
	for _, k := range sortedKeys(m) {
		as = append(as, slog.Int64(k, m[k]))
	}
	return slog.Attr{Key: key, Value: slog.GroupValue(as...)}
}

func intMapAttr(key string, m map[string]int) slog.Attr {
	as := make([]slog.Attr, 0, len(m))
	for _, k := range sortedKeys(m) {
		as = append(as, slog.Int(k, m[k]))
	}
	return slog.Attr{Key: key, Value: slog.GroupValue(as...)}
}

func float64MapAttr(key string, m map[string]float64) slog.Attr {
	as := make([]slog.Attr, 0, len(m))
	for _, k := range sortedKeys(m) {
		as = append(as, slog.Float64(k, round3(m[k])))
	}
	return slog.Attr{Key: key, Value: slog.GroupValue(as...)}
}

func stringMapAttr(key string, m map[string]string) slog.Attr {
	as := make([]slog.Attr, 0, len(m))
	for _, k := range sortedKeys(m) {
		as = append(as, slog.String(k, m[k]))
	}
	return slog.Attr{Key: key, Value: slog.GroupValue(as...)}
}
