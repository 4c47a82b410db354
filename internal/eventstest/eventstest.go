// Package eventstest holds the events that tests of several packages share:
// one of every kind, with every field set.
package eventstest

import (
	"time"

	"github.com/openrtc-go/introspect/events"
)

// Every returns one event of every kind with every field set, at times
// around t0, for the round-trip tests of the events, the recorder and the
// schema.
func Every(t0 time.Time) []events.Event {
	sample := events.Sample{
		RSSBytes: 512 << 20, Sessions: 3, Goroutines: 40, Runnable: 2, Running: 1, Waiting: 37,
		HeapBytes: 100 << 20, GCCycles: 2, GCPause: 150 * time.Microsecond, GCPauseMax: 90 * time.Microsecond,
		SchedP50: 20 * time.Microsecond, SchedP99: 3 * time.Millisecond, SchedMax: 12 * time.Millisecond,
		MutexWaitPerSec: 0.002,
		CPU: events.CPUWindow{Duration: 1003 * time.Millisecond, Span: 5 * time.Second, Period: 10 * time.Millisecond, Total: 57,
			Unlabelled: 7, Sessions: map[string]int64{"job-1": 40, "job-2": 10}, CPUTime: 980 * time.Millisecond, Owner: "pyroscope-go"},
		GoroutinesBySession: map[string]int{"job-1": 5, "job-3": 0},
		GoroutineStacks:     map[string][]events.GoroutineGroup{"job-1": {{Count: 4, Frame: "agent/leaky.go:42 main.leak.func1", Wait: "chan receive"}, {Count: 1, Frame: "agent/loop.go:10 main.run"}}},
	}
	return []events.Event{
		events.WorkerStart{Worker: "w1", PID: 42, Host: "h", GoVersion: "go1.26.8", MaxSessions: 100,
			Config: events.Config{SampleInterval: time.Second, CPUWindow: time.Second, SlowThreshold: 50 * time.Millisecond,
				SlowWindow: 5 * time.Second, KeyframeInterval: time.Minute}},
		events.SessionStart{SessionID: "job-1", Agent: "voice", Tenant: "acme", Pinned: true, Labels: map[string]string{"room": "r1"}},
		events.SessionEnd{SessionID: "job-1", Outcome: events.OutcomeError, Error: "boom"},
		sample,
		events.SlowSession{StallID: 7, SessionID: "job-1", Agent: "voice", Source: "room-loop", Blocked: 320 * time.Millisecond,
			Ongoing: true, Confidence: 1, Frame: "agent/loop.go:42 main.(*Room).mix", Stack: []string{"agent/loop.go:42 main.(*Room).mix", "agent/loop.go:10 main.run"},
			FrameFrom: events.FrameHolder, Start: t0.Add(-320 * time.Millisecond), Cause: events.CauseBlocked, Wait: "chan receive",
			HoldCPU: 1500 * time.Microsecond, HoldCPUSeen: true, StarvedBy: map[string]float64{"job-2": 62.5}},
		events.Keyframe{
			Worker: events.WorkerState{Name: "w1", Started: t0, MaxSessions: 100, Begun: 3, Failed: 1, Stalls: 2, SlowWindowMs: 5000},
			Sessions: []events.KeySession{{SessionID: "job-2", Agent: "voice", Tenant: "acme", Pinned: true,
				Labels: map[string]string{"room": "r1"}, Start: t0.Add(time.Second), PeakBytes: 1 << 20, CPUSamples: 10,
				CPUNanos: 1e8, MaxCPUPct: 12.5, Goroutines: 4, GorPeak: 6, Stalls: 1, WorstStall: 70,
				SlowUntil: t0.Add(5 * time.Second), LastStallAt: t0,
				GorStacks: []events.GoroutineGroup{{Count: 4, Frame: "agent/leaky.go:42 main.leak.func1", Wait: "chan receive"}}}},
			OpenStalls: []uint64{7},
			Last:       &sample,
		},
		events.Sample{RSSBytes: 512 << 20, Sessions: 3, Goroutines: 40, Runnable: -1, Running: -1, Waiting: -1,
			CPU: events.CPUWindow{Duration: time.Second, Span: 1200 * time.Millisecond, CPUTime: 700 * time.Millisecond,
				Unavailable: "the CPU profiler is owned by net/http/pprof", Owner: "net/http/pprof"}},
		events.RecorderDrop{Dropped: 12, Reason: "queue full"},
		events.WorkerStop{Reason: "signal"},
	}
}
