package events

import (
	"log/slog"
	"time"
)

// Keyframe is the full folded state of a worker at one moment, written by the
// recorder at the start of every file and every keyframe interval so that a
// reader can begin there instead of at the start of the recording.
type Keyframe struct {
	Worker     WorkerState
	Sessions   []KeySession // the live sessions, in start order
	OpenStalls []uint64     // stalls reported ongoing and not yet ended
	Last       *Sample      // the latest sample, nil before the first one
}

// WorkerState is the worker part of a [Keyframe].
type WorkerState struct {
	Name        string    `json:"name"`
	Started     time.Time `json:"started,omitzero"` // when the worker started
	MaxSessions int       `json:"max_sessions,omitempty"`
	Begun       int64     `json:"sessions_started"` // sessions started so far
	Failed      int64     `json:"sessions_failed"`  // sessions that ended with an error
	Stalls      int64     `json:"stalls"`           // stalls so far
	// SlowWindowMs is how long a session shows "slow" after a stall, the
	// worker's Config.SlowWindow in milliseconds; 0 when it announced none.
	SlowWindowMs float64 `json:"slow_window_ms,omitempty"`
	// Kind is [WorkerStart.WorkerKind]; omitted when empty.
	Kind string `json:"kind,omitempty"`
	// CPUNs is the process's CPU time over the CPU windows so far, in
	// nanoseconds, and UnsampledCPUNs the part of it no sample covered
	// (see CPUWindow.Unsampled); omitted when zero and in older keyframes.
	CPUNs          int64 `json:"cpu_ns,omitempty"`
	UnsampledCPUNs int64 `json:"unsampled_cpu_ns,omitempty"`
	// MissedCPUNs is the part of CPUNs that the samples of sampled windows
	// missed (see CPUWindow.MissedCPU); omitted when zero and in older
	// keyframes.
	MissedCPUNs int64 `json:"missed_cpu_ns,omitempty"`
}

// KeySession is one live session in a [Keyframe]: everything the fold keeps
// about it, so that folding can resume from the keyframe.
type KeySession struct {
	SessionID  string            `json:"session_id"`
	Agent      string            `json:"agent_name"`
	Tenant     string            `json:"tenant,omitempty"`
	Pinned     bool              `json:"pinned,omitempty"`
	Labels     map[string]string `json:"labels,omitempty"`
	Start      time.Time         `json:"start"`
	PeakBytes  uint64            `json:"peak_bytes"`  // highest memory share seen
	CPUSamples int64             `json:"cpu_samples"` // cumulative
	// CPUNanos is the session's cumulative CPU time: each window's share of
	// the process's measured CPU time. Keyframes written before it was
	// stored lack it, and it is then derived as CPUSamples × period.
	CPUNanos   int64   `json:"cpu_ns,omitempty"`
	MaxCPUPct  float64 `json:"max_cpu_pct,omitempty"` // highest cpu_pct of one window
	Goroutines int     `json:"goroutines,omitempty"`  // at the last goroutine profile
	GorPeak    int     `json:"gor_peak,omitempty"`
	Stalls     int     `json:"stalls,omitempty"`
	WorstStall float64 `json:"worst_stall_ms,omitempty"`
	// Starved counts the stalls of Stalls the session held while it waited
	// for a CPU (cause waiting-for-cpu): it was their victim, not their
	// culprit.
	Starved     int       `json:"starved_stalls,omitempty"`
	SlowUntil   time.Time `json:"slow_until,omitzero"` // shows "slow" until then
	LastStallAt time.Time `json:"last_stall,omitzero"`
	// GorStacks is where the session's goroutines were parked at the last
	// profile that found their number growing (Sample.GoroutineStacks).
	GorStacks []GoroutineGroup `json:"gor_stacks,omitempty"`
}

func (Keyframe) Kind() string      { return KindKeyframe }
func (Keyframe) Level() slog.Level { return slog.LevelDebug }
func (e Keyframe) Attrs() []slog.Attr {
	sessions := e.Sessions
	if sessions == nil {
		sessions = []KeySession{}
	}
	as := []slog.Attr{
		slog.Any("worker", e.Worker),
		slog.Int("live", len(e.Sessions)),
		slog.Any("sessions", sessions),
	}
	if len(e.OpenStalls) > 0 {
		as = append(as, slog.Any("open_stalls", e.OpenStalls))
	}
	if e.Last != nil {
		as = append(as, slog.Attr{Key: "last", Value: slog.GroupValue(e.Last.Attrs()...)})
	}
	return as
}
