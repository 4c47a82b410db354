package events

import (
	"bytes"
	"context"
	"log/slog"
	"reflect"
	"testing"
	"time"
)

// fastSeeds are records of the kinds decodeFast reads, in slog's form, and
// near misses of it.
func fastSeeds(tb testing.TB) [][]byte {
	var buf bytes.Buffer
	h := slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})
	t0 := time.Date(2026, 11, 27, 3, 12, 0, 123456789, time.UTC)
	for _, e := range []Event{
		Sample{RSSBytes: 512 << 20, Sessions: 3, Goroutines: 40, Runnable: 2, Running: 1, Waiting: 37,
			HeapBytes: 100 << 20, GCCycles: 2, GCPause: 150 * time.Microsecond, GCPauseMax: 90 * time.Microsecond,
			SchedP50: 20 * time.Microsecond, SchedP99: 3 * time.Millisecond, SchedMax: 12 * time.Millisecond,
			MutexWaitPerSec: 0.002,
			CPU: CPUWindow{Duration: 1003 * time.Millisecond, Period: 10 * time.Millisecond, Total: 57,
				Unlabelled: 7, Sessions: map[string]int64{"job-1": 40, "job-2": 10}, Unsampled: 250 * time.Millisecond},
			GoroutinesBySession: map[string]int{"job-1": 5, "job-3": 0}},
		Sample{RSSBytes: 1, Sessions: 0, Runnable: -1, Running: -1, Waiting: -1, CPU: CPUWindow{Unavailable: "profiler busy", CPUTime: 900 * time.Millisecond, Unsampled: 900 * time.Millisecond}},
		SessionStart{SessionID: "job-1", Agent: "voice", Tenant: "acme", Pinned: true},
		SessionStart{SessionID: "job-2"},
		SessionEnd{SessionID: "job-1", Outcome: OutcomeError, Error: "boom"},
		SessionEnd{SessionID: "job-2", Outcome: OutcomeOK},
		SessionStart{SessionID: "job-3", Labels: map[string]string{"room": "r1"}},
	} {
		if err := h.Handle(context.Background(), Record(t0, e)); err != nil {
			tb.Fatal(err)
		}
	}
	seeds := bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n"))
	for _, s := range []string{
		`{"time":"2026-11-27T03:12:00Z","msg":"sample","v":1,"rss_bytes":1,"sessions":2,"x":[1],"cpu":{"total":1,"sessions":{"a":1}}}`,
		`{"time":"2026-11-27T03:12:00Z","msg":"sample","v":1,"rss_bytes":"1","gor":{"b":2,"a":1}}`,
		`{"time":"2026-11-27T03:12:00Z","msg":"sample","v":1,"sessions":1,"sessions":2}`,
		`{"time":"2026-11-27T03:12:00+02:00","msg":"sample","v":2,"gc_pause_ms":1.5e-3,"shiny":true,"cpu":{"dur_ms":-0.0,"later":null}}`,
		`{"time":"2026-11-27T03:12:00Z","msg":"sample","v":1,"gor_running":3}`,
		`{"time":"2026-11-27T03:12:00Z","msg":"sample","v":1,"rss_bytes":1e3,"cpu":{"sessions":{"a\"":1}}}`,
		`{"time":"2026-11-27T03:12:00Z","msg":"sample","v":1,"cpu":{"sessions":{"a":1,"a":2}},"gor":{"z":1,"y":2}}`,
		`{"time":"2026-11-27T03:12:00Z","level":"INFO","msg":"session.start","v":1,"session_id":"","agent_name":"a"}`,
		`{"time":"2026-11-27T03:12:00Z","level":"INFO","msg":"session.start","v":1,"session_id":"a","pinned":"true","x":1.5}`,
		`{"time":"2026-11-27T03:12:00Z","level":"WARN","msg":"session.end","v":1,"session_id":"a\u0041","outcome":"error"}`,
		`{"time":"2026-11-27T03:12:00Z","level":"INFO","msg":"session.end","v":1,"session_id":"a","session_id":"b"}`,
		`{"session_id":"a","time":"2026-11-27T03:12:00Z","msg":"session.end","v":1}`,
	} {
		seeds = append(seeds, []byte(s))
	}
	return seeds
}

func TestDecodeFastTakesSlogsForm(t *testing.T) {
	for _, line := range fastSeeds(t)[:6] {
		var c SampleCounts
		if _, ok := decodeFast(line, &c); !ok {
			t.Errorf("slog's own record left to gjson: %s", line)
		}
	}
}

// FuzzDecodeFast: whatever the hand-reading accepts, it reads as the gjson
// path does, counts included.
func FuzzDecodeFast(f *testing.F) {
	for _, s := range fastSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		var fast, slow SampleCounts
		fd, ok := decodeFast(line, &fast)
		if !ok {
			return
		}
		sd, err := decodeObject(line, &slow)
		if err != nil {
			t.Fatalf("%s: the fast path accepts, gjson: %v", line, err)
		}
		if !reflect.DeepEqual(fd, sd) {
			t.Fatalf("%s:\nfast %#v\nslow %#v", line, fd, sd)
		}
		if !reflect.DeepEqual(norm(fast), norm(slow)) {
			t.Fatalf("%s:\nfast counts %+v\nslow counts %+v", line, fast, slow)
		}
	})
}

// norm makes empty lists nil, which reflect.DeepEqual tells apart.
func norm(c SampleCounts) SampleCounts {
	if len(c.CPU) == 0 {
		c.CPU = nil
	}
	if len(c.Gor) == 0 {
		c.Gor = nil
	}
	return c
}
