package fold_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	"github.com/openrtc-go/introspect/events"
	"github.com/openrtc-go/introspect/fold"
)

var t0 = time.Date(2026, 11, 27, 3, 12, 0, 0, time.UTC)

// line renders e the way the recorder writes it, so the fold is tested on the
// same bytes it reads in production.
func line(t *testing.T, at time.Duration, e events.Event) []byte {
	t.Helper()
	var buf bytes.Buffer
	h := slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})
	if err := h.Handle(context.Background(), events.Record(t0.Add(at), e)); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSpace(buf.Bytes())
}

func apply(t *testing.T, s *fold.State, at time.Duration, e events.Event) {
	t.Helper()
	if err := s.ApplyLine(line(t, at, e)); err != nil {
		t.Fatal(err)
	}
}

func cpu(total, unlabelled int64, by map[string]int64) events.CPUWindow {
	return events.CPUWindow{Duration: time.Second, Period: 10 * time.Millisecond, Total: total, Unlabelled: unlabelled, Sessions: by}
}

// scenario: three sessions, two samples, a stall on b, c ends with an error.
func scenario(t *testing.T) *fold.State {
	s := fold.New()
	sec := time.Second
	apply(t, s, 0, events.WorkerStart{Worker: "w", Config: events.Config{SlowWindow: 5 * sec}})
	apply(t, s, 0, events.SessionStart{SessionID: "a", Agent: "voice", Tenant: "acme"})
	apply(t, s, 0, events.SessionStart{SessionID: "b", Agent: "voice"})
	apply(t, s, 0, events.SessionStart{SessionID: "c", Agent: "chat"})
	// 300 MiB over 3 sessions: 100 MiB each. 100 samples: a 60, b 20, 20 unlabelled.
	apply(t, s, 1*sec, events.Sample{RSSBytes: 300 << 20, Sessions: 3, CPU: cpu(100, 20, map[string]int64{"a": 60, "b": 20}),
		GoroutinesBySession: map[string]int{"a": 4, "b": 2, "c": 1}})
	apply(t, s, 2*sec, events.SessionEnd{SessionID: "c", Outcome: events.OutcomeError, Error: "boom"})
	apply(t, s, 3*sec, events.SlowSession{StallID: 1, SessionID: "b", Source: "room", Blocked: 120 * time.Millisecond, Ongoing: true, Confidence: 1})
	apply(t, s, 3*sec+200*time.Millisecond, events.SlowSession{StallID: 1, SessionID: "b", Source: "room", Blocked: 320 * time.Millisecond, Confidence: 1})
	// 200 MiB over 2: 100 MiB each again, then RSS drops: 50 MiB each.
	apply(t, s, 4*sec, events.Sample{RSSBytes: 100 << 20, Sessions: 2, CPU: cpu(50, 10, map[string]int64{"b": 40})})
	return s
}

func TestViewByHand(t *testing.T) {
	s := scenario(t)
	v := s.View(t0.Add(4 * time.Second))
	byID := map[string]fold.Row{}
	for _, r := range v.Sessions {
		byID[r.SessionID] = r
	}
	a, b, c := byID["a"], byID["b"], byID["c"]
	checks := []struct {
		name      string
		got, want any
	}{
		{"active", v.Worker.ActiveSessions, 2},
		{"a mem", a.MemMB, 50.0},
		{"a peak survives the drop", a.PeakMB, 100.0},
		{"a cpu_pct latest window", a.CPUPct, 0.0},
		{"a cpu_seconds", a.CPUSeconds, 0.6},
		{"b cpu_pct", b.CPUPct, 80.0},
		{"b cpu_seconds", b.CPUSeconds, 0.6},
		{"b stalls counted once", b.Stalls, 1},
		{"b worst", b.WorstStall, 320.0},
		{"b status", b.Status, fold.StatusSlow},
		{"a status", a.Status, fold.StatusActive},
		{"c status", c.Status, fold.StatusErrored},
		{"c duration", c.DurationS, 2.0},
		{"a goroutines", *a.Goroutines, 4},
		{"a tenant", *a.Tenant, "acme"},
		{"b tenant null", b.Tenant == nil, true},
		{"header cpu share", v.Worker.CPUPct, 80.0},
		{"header process cpu", v.Worker.ProcessCPUPct, 50.0},
		{"header stalls", v.Worker.Stalls, int64(1)},
		{"failed", v.Worker.SessionsFailed, int64(1)},
		{"uptime", v.Worker.UptimeS, 4.0},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	// Shares sum back to RSS.
	var sum float64
	for _, r := range v.Sessions {
		if r.Status == fold.StatusActive || r.Status == fold.StatusSlow {
			sum += r.MemMB
		}
	}
	if sum != 100 {
		t.Errorf("shares sum to %v MiB, want RSS 100 MiB", sum)
	}
	// After the slow window, b is active again and c is gone.
	v = s.View(t0.Add(10 * time.Second))
	apply(t, s, 10*time.Second, events.Sample{RSSBytes: 100 << 20, Sessions: 2})
	v = s.View(t0.Add(10 * time.Second))
	if len(v.Sessions) != 2 || v.Sessions[1].Status != fold.StatusActive {
		t.Errorf("after window: %+v", v.Sessions)
	}
}

// A keyframe taken at any point and folded forward gives the same view as
// folding everything.
func TestKeyframeResume(t *testing.T) {
	s := scenario(t)
	kf := s.Keyframe(s.Now())
	r := fold.New()
	if err := r.ApplyLine(line(t, 4*time.Second, kf)); err != nil {
		t.Fatal(err)
	}
	at := t0.Add(4 * time.Second)
	want, got := s.View(at), r.View(at)
	// Recently ended sessions are not part of a keyframe.
	want.Sessions = fold.FilterRows(want.Sessions, fold.Filter{Status: fold.StatusActive})
	got.Sessions = fold.FilterRows(got.Sessions, fold.Filter{Status: fold.StatusActive})
	want.Worker.CPUHistory, got.Worker.CPUHistory = nil, nil
	wj, _ := json.Marshal(want)
	gj, _ := json.Marshal(got)
	if !bytes.Equal(wj, gj) {
		t.Errorf("resumed view differs:\n got %s\nwant %s", gj, wj)
	}
	// The final report of a stall open at the keyframe is not counted twice.
	apply(t, s, 5*time.Second, events.SlowSession{StallID: 9, SessionID: "a", Source: "room", Blocked: 60 * time.Millisecond, Ongoing: true})
	r2 := fold.New()
	_ = r2.ApplyLine(line(t, 5*time.Second, s.Keyframe(s.Now())))
	apply(t, r2, 6*time.Second, events.SlowSession{StallID: 9, SessionID: "a", Source: "room", Blocked: 900 * time.Millisecond})
	for _, row := range r2.View(t0.Add(6 * time.Second)).Sessions {
		if row.SessionID == "a" && (row.Stalls != 1 || row.WorstStall != 900) {
			t.Errorf("a after resume: stalls %d worst %v", row.Stalls, row.WorstStall)
		}
	}
}

func TestSortRows(t *testing.T) {
	v := scenario(t).View(t0.Add(4 * time.Second))
	tests := []struct{ key, first string }{
		{fold.SortCPU, "b"}, {fold.SortSession, "a"}, {fold.SortAgent, "c"}, {fold.SortStalls, "b"}, {fold.SortGoroutines, "a"},
	}
	for _, tt := range tests {
		rows := append([]fold.Row(nil), v.Sessions...)
		fold.SortRows(rows, tt.key)
		if rows[0].SessionID != tt.first {
			t.Errorf("sort %s: first %s, want %s", tt.key, rows[0].SessionID, tt.first)
		}
	}
}

func TestRestartClosesSessions(t *testing.T) {
	s := scenario(t)
	s.KeepEnded = true
	apply(t, s, 20*time.Second, events.WorkerStart{Worker: "w"})
	if n := len(s.View(t0.Add(20 * time.Second)).Sessions); n != 2 {
		t.Fatalf("rows after restart = %d, want the 2 lost sessions shown as ended", n)
	}
	if v := s.View(t0.Add(30 * time.Second)); v.Worker.ActiveSessions != 0 || len(v.Sessions) != 0 {
		t.Fatalf("after restart: %+v", v)
	}
}

// A replay that starts from a keyframe keeps the worker's slow window
// rather than falling back to the default.
func TestKeyframeKeepsSlowWindow(t *testing.T) {
	s := fold.New()
	apply(t, s, 0, events.WorkerStart{Worker: "w", Config: events.Config{SlowWindow: 2 * time.Second}})
	apply(t, s, 0, events.SessionStart{SessionID: "a"})
	kf := line(t, time.Second, s.Keyframe(s.Now()))
	if !bytes.Contains(kf, []byte(`"slow_window_ms":2000`)) {
		t.Fatalf("keyframe without the slow window: %s", kf)
	}
	r := fold.New()
	if err := r.ApplyLine(kf); err != nil {
		t.Fatal(err)
	}
	for _, st := range []*fold.State{s, r} {
		apply(t, st, 2*time.Second, events.SlowSession{StallID: 1, SessionID: "a", Source: "room", Blocked: 300 * time.Millisecond, Confidence: 1})
	}
	for at, want := range map[time.Duration]string{3900 * time.Millisecond: fold.StatusSlow, 4100 * time.Millisecond: fold.StatusActive} {
		for name, st := range map[string]*fold.State{"folded": s, "resumed": r} {
			if got := st.View(t0.Add(at)).Sessions[0].Status; got != want {
				t.Errorf("%s, %v after the start: a is %s, want %s", name, at, got, want)
			}
		}
	}
}

// A duty-cycled window (one second sampled out of five) stands for five
// seconds: cumulative CPU is scaled, the share is not.
func TestDutyCycledWindowScales(t *testing.T) {
	s := fold.New()
	apply(t, s, 0, events.WorkerStart{Worker: "w"})
	apply(t, s, 0, events.SessionStart{SessionID: "a"})
	w := cpu(20, 10, map[string]int64{"a": 10})
	w.Span = 5 * time.Second
	apply(t, s, time.Second, events.Sample{RSSBytes: 1 << 20, Sessions: 1, CPU: w})
	r := s.View(t0.Add(time.Second)).Sessions[0]
	if r.CPUSeconds != 0.5 || r.CPUPct != 50 {
		t.Errorf("cpu_seconds %v cpu_pct %v, want 0.5 (10 samples × 10ms × 5) and 50", r.CPUSeconds, r.CPUPct)
	}
}
