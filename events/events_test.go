package events_test

import (
	"bytes"
	"context"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/openrtc-go/introspect/events"
)

// Examples holds one event of every kind with every field set, for round-trip
// and schema tests.
func examples() []events.Event {
	t0 := time.Date(2026, 11, 27, 3, 12, 0, 0, time.UTC)
	sample := events.Sample{
		RSSBytes: 512 << 20, Sessions: 3, Goroutines: 40, Runnable: 2, Running: 1, Waiting: 37,
		HeapBytes: 100 << 20, GCCycles: 2, GCPause: 150 * time.Microsecond, GCPauseMax: 90 * time.Microsecond,
		SchedP50: 20 * time.Microsecond, SchedP99: 3 * time.Millisecond, SchedMax: 12 * time.Millisecond,
		MutexWaitPerSec: 0.002,
		CPU: events.CPUWindow{Duration: 1003 * time.Millisecond, Period: 10 * time.Millisecond, Total: 57,
			Unlabelled: 7, Sessions: map[string]int64{"job-1": 40, "job-2": 10}},
		GoroutinesBySession: map[string]int{"job-1": 5, "job-3": 0},
	}
	return []events.Event{
		events.WorkerStart{Worker: "w1", PID: 42, Host: "h", GoVersion: "go1.26.8", MaxSessions: 100,
			Config: events.Config{SampleInterval: time.Second, CPUWindow: time.Second, SlowThreshold: 50 * time.Millisecond,
				SlowWindow: 5 * time.Second, KeyframeInterval: time.Minute}},
		events.SessionStart{SessionID: "job-1", Agent: "voice", Tenant: "acme", Pinned: true, Labels: map[string]string{"room": "r1"}},
		events.SessionEnd{SessionID: "job-1", Outcome: events.OutcomeError, Error: "boom"},
		sample,
		events.SlowSession{StallID: 7, SessionID: "job-1", Agent: "voice", Source: "room-loop", Blocked: 320 * time.Millisecond,
			Ongoing: true, Confidence: 1, Frame: "agent/loop.go:42 main.(*Room).mix", Stack: []string{"agent/loop.go:42 main.(*Room).mix", "agent/loop.go:10 main.run"}},
		events.Keyframe{
			Worker:     events.WorkerState{Name: "w1", Started: t0, MaxSessions: 100, Begun: 3, Failed: 1, Stalls: 2, SlowWindowMs: 5000},
			Sessions:   []events.KeySession{{SessionID: "job-2", Agent: "voice", Start: t0.Add(time.Second), PeakBytes: 1 << 20, CPUSamples: 10, CPUNanos: 1e8, Stalls: 1, WorstStall: 70, SlowUntil: t0.Add(5 * time.Second), LastStallAt: t0}},
			OpenStalls: []uint64{7},
			Last:       &sample,
		},
		events.RecorderDrop{Dropped: 12, Reason: "queue full"},
		events.WorkerStop{Reason: "signal"},
	}
}

func TestRoundTrip(t *testing.T) {
	t0 := time.Date(2026, 11, 27, 3, 12, 0, 123456789, time.UTC)
	for _, e := range examples() {
		t.Run(e.Kind(), func(t *testing.T) {
			var buf bytes.Buffer
			h := slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})
			if err := h.Handle(context.Background(), events.Record(t0, e)); err != nil {
				t.Fatal(err)
			}
			d, err := events.Decode(bytes.TrimSpace(buf.Bytes()))
			if err != nil {
				t.Fatalf("decode %s: %v", buf.String(), err)
			}
			if !d.Time.Equal(t0) || d.Kind != e.Kind() || d.Level != e.Level() || d.V != events.SchemaVersion {
				t.Errorf("header = %v %q %v v%d", d.Time, d.Kind, d.Level, d.V)
			}
			if !reflect.DeepEqual(d.Event, e) {
				t.Errorf("round trip:\n got %#v\nwant %#v\nline %s", d.Event, e, buf.String())
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name, line, wantErr string
	}{
		{"not json", `hello`, "not valid JSON"},
		{"array", `[1,2]`, "not a JSON object"},
		{"no time", `{"msg":"x"}`, "no \"time\""},
		{"no msg", `{"time":"2026-11-27T03:12:00Z"}`, "no \"msg\""},
		{"bad time", `{"time":"yesterday","msg":"x"}`, "time"},
		{"start without id", `{"time":"2026-11-27T03:12:00Z","msg":"session.start","v":1}`, "no session_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := events.Decode([]byte(tt.line))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestDecodeForeignAndNewer(t *testing.T) {
	d, err := events.Decode([]byte(`{"time":"2026-11-27T03:12:00Z","level":"INFO","msg":"sample","user":"x"}`))
	if err != nil || d.Event != nil {
		t.Fatalf("app record without v: %v %#v", err, d.Event)
	}
	d, err = events.Decode([]byte(`{"time":"2026-11-27T03:12:00Z","level":"INFO","msg":"session.migrate","v":2}`))
	if err != nil || d.Event != nil || !d.Newer() {
		t.Fatalf("unknown newer kind: %v %#v newer=%v", err, d.Event, d.Newer())
	}
	d, err = events.Decode([]byte(`{"time":"2026-11-27T03:12:00Z","level":"INFO","msg":"session.start","v":2,"session_id":"a","shiny":1}`))
	if err != nil || d.Event.(events.SessionStart).SessionID != "a" || !d.Newer() {
		t.Fatalf("newer known kind: %v %#v", err, d.Event)
	}
}
