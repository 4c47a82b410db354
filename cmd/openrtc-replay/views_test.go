package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/openrtc-go/introspect/events"
	"github.com/openrtc-go/introspect/fold"
	"github.com/openrtc-go/introspect/recorder"
)

// writeEndedInWindow writes, through the real recorder, a worker with 5 s
// CPU windows where "short" ends at 7.5 s and the window it ended in
// (5-10 s) arrives at 10 s; "victim" held the mixer waiting for a CPU that
// "short" had, and "unknown" held it with no cause found.
func writeEndedInWindow(t *testing.T) string {
	t.Helper()
	t0 := time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC)
	path := filepath.Join(t.TempDir(), "rec.zst")
	now := t0
	rec, err := recorder.Create(path, &recorder.Options{Keyframer: fold.New(), Clock: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	log := func(at time.Duration, e events.Event) {
		t.Helper()
		now = t0.Add(at)
		if err := rec.Handle(context.Background(), events.Record(now, e)); err != nil {
			t.Fatal(err)
		}
	}
	sec, ms := time.Second, time.Millisecond
	log(0, events.WorkerStart{Worker: "w", PID: 7, Host: "h", GoVersion: "go1.26.8",
		Config: events.Config{SampleInterval: sec, CPUWindow: 5 * sec, SlowThreshold: 50 * ms, SlowWindow: 5 * sec}})
	for _, id := range []string{"short", "victim", "unknown"} {
		log(ms, events.SessionStart{SessionID: id, Agent: "voice"})
	}
	stall := func(at time.Duration, id, cause string, by map[string]float64) {
		st := events.SlowSession{StallID: uint64(at), SessionID: id, Agent: "voice", Source: "mixer", Confidence: 1,
			Start: t0.Add(at), Blocked: 70 * ms, Frame: "worker/main.go:192 main.ordinary", FrameFrom: events.FrameLeave,
			Cause: cause, StarvedBy: by, HoldCPUSeen: true}
		log(at+3*sec, st)
	}
	stall(2*sec, "victim", events.CauseWaitingForCPU, map[string]float64{"short": 95})
	stall(3*sec, "unknown", "", nil)
	for s := 1; s <= 12; s++ {
		at := time.Duration(s) * sec
		if at == 8*sec {
			log(7500*ms, events.SessionEnd{SessionID: "short", Outcome: events.OutcomeOK})
		}
		smp := events.Sample{RSSBytes: 64 << 20, Sessions: 3, Goroutines: 10, Runnable: -1, Running: -1, Waiting: -1}
		if s%5 == 0 {
			smp.CPU = events.CPUWindow{Duration: 5 * sec, Period: 10 * ms, CPUTime: 5 * sec,
				Sessions: map[string]int64{"short": 400, "victim": 5, "unknown": 5}, Total: 500, Unlabelled: 90}
		}
		log(at, smp)
	}
	log(12*sec+ms, events.WorkerStop{Reason: "done"})
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestViewsOfEndsAndCauses: an exported session's last row, "ended",
// carries its final figures (the CPU window it ended in arrives after it),
// as sessions prints them; slow says cause=unknown for a hold nothing
// judged, and slow --group marks the victims' place and who had the CPU.
func TestViewsOfEndsAndCauses(t *testing.T) {
	path := writeEndedInWindow(t)
	r := runArgs(t, "sessions", "--json", path)
	var rows []fold.Row
	if err := json.Unmarshal([]byte(r.out), &rows); err != nil {
		t.Fatalf("%v: %s%s", err, r.out, r.err)
	}
	final := map[string]fold.Row{}
	for _, row := range rows {
		final[row.SessionID] = row
	}
	if final["short"].CPUSeconds < 8 {
		t.Fatalf("sessions: short has %.3f CPU seconds, want both windows' (about 8)", final["short"].CPUSeconds)
	}
	for _, tc := range []struct {
		name string
		args []string
		want []string
		not  []string
	}{
		{name: "slow", args: []string{"slow", path},
			want: []string{"session_id=unknown blocked mixer for 70ms left at worker/main.go:192 main.ordinary (no stack caught) cause=unknown",
				"session_id=victim blocked mixer for 70ms left at worker/main.go:192 main.ordinary (no stack caught) cause=waiting-for-cpu, not the holder's fault: short 95% had the CPU"}},
		{name: "slow --group", args: []string{"slow", "--group", path},
			want: []string{"by unknown 1, victim 1; 1 waited for a CPU (victims, not the holders' fault): short had it; 1 with no cause known"}},
		{name: "summary", args: []string{"summary", path},
			want: []string{"1 hold of shared loops by 1 session ended with no cause known", "1 hold of shared loops by 1 session waited for a CPU"},
			not:  []string{"unknown blocked mixer", "victim blocked mixer"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runArgs(t, tc.args...)
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.err)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.out, w) {
					t.Errorf("want %q in\n%s", w, r.out)
				}
			}
			for _, w := range tc.not {
				if strings.Contains(r.out, w) {
					t.Errorf("do not want %q in\n%s", w, r.out)
				}
			}
		})
	}
	t.Run("export", func(t *testing.T) {
		r := runArgs(t, "export", "--every", "9s", path)
		recs, err := csv.NewReader(strings.NewReader(r.out)).ReadAll()
		if err != nil || r.code != 0 {
			t.Fatalf("exit %d, %v: %s", r.code, err, r.err)
		}
		col := map[string]int{}
		for i, name := range recs[0] {
			col[name] = i
		}
		var last []string
		for _, rec := range recs[1:] {
			if rec[col["session_id"]] == "short" {
				last = rec
			}
		}
		want := final["short"]
		if last == nil || last[col["status"]] != fold.StatusEnded || last[col["cpu_seconds"]] != num(want.CPUSeconds) ||
			last[col["max_cpu_pct"]] != num(want.MaxCPUPct) {
			t.Errorf("short's last exported row %v; want ended with cpu_seconds %v, max_cpu_pct %v as sessions says", last, want.CPUSeconds, want.MaxCPUPct)
		}
	})
}
