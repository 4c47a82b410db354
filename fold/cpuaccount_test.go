package fold

import (
	"strings"
	"testing"
	"time"

	"github.com/openrtc-go/introspect/events"
)

// CPU that no sample covered (another caller held the CPU profiler) is in
// no session's cpu_seconds: the header, the report and a keyframe say how
// much, so the sessions' sum is never read as the process's. The windows
// are those of a black-box run: a sampled window, one stood aside for after
// the application stopped the profile (9.4 s of process CPU), and a sampled
// window that carries an unavailable one merged into its sample.
func TestUnsampledCPUIsStated(t *testing.T) {
	t0 := time.Date(2026, 12, 6, 21, 58, 0, 0, time.UTC)
	evs := []events.Event{
		events.WorkerStart{Worker: "w"},
		events.SessionStart{SessionID: "hog"},
		events.Sample{Sessions: 1, CPU: events.CPUWindow{Duration: 5 * time.Second, Span: 5 * time.Second,
			CPUTime: 9 * time.Second, Period: 10 * time.Millisecond, Total: 900, Sessions: map[string]int64{"hog": 900}}},
		events.Sample{Sessions: 1, CPU: events.CPUWindow{Duration: 5 * time.Second, Span: 5 * time.Second,
			CPUTime: 9400 * time.Millisecond, Unavailable: "the CPU profile was stopped by another caller", Owner: "main.appProfile"}},
		events.Sample{Sessions: 1, CPU: events.CPUWindow{Duration: 4 * time.Second, Span: 4 * time.Second,
			CPUTime: 8 * time.Second, Period: 10 * time.Millisecond, Total: 800, Sessions: map[string]int64{"hog": 800},
			Unsampled: 600 * time.Millisecond}},
	}
	s := New()
	r := NewReport()
	for i, e := range evs {
		d := events.Decoded{Time: t0.Add(time.Duration(i) * time.Second), Kind: e.Kind(), V: 1, Event: e}
		s.Apply(d)
		r.Apply(d)
	}
	h := s.View(s.Now()).Worker
	if h.UnsampledCPUS != 10 || h.ProcessCPUS != 27 {
		t.Errorf("header: unsampled %v of %v s, want 10 of 27", h.UnsampledCPUS, h.ProcessCPUS)
	}
	a := r.CPU()
	if a.UnsampledCPUS != 10 || a.ProcessCPUS != 27 || a.SessionsCPUS != 17 || a.UnsampledPct != 37 {
		t.Errorf("report: %+v, want 10 of 27 s unsampled (37 %%), sessions 17 s", a)
	}
	if len(a.Owners) != 1 || a.Owners[0] != "main.appProfile" {
		t.Errorf("owners %v, want main.appProfile", a.Owners)
	}
	if txt := a.Text(); !strings.Contains(txt, "10.0 s of the process's 27.0 s") || !strings.Contains(txt, "main.appProfile") {
		t.Errorf("text %q", txt)
	}
	if sum := r.Summary(); sum.CPU == nil || sum.CPU.UnsampledCPUS != 10 {
		t.Errorf("summary cpu %+v, want 10 s unsampled", sum.CPU)
	}

	// A fold resumed from a keyframe keeps the account.
	k := New()
	k.Apply(events.Decoded{Time: t0.Add(time.Minute), Kind: events.KindKeyframe, V: 1, Event: s.Keyframe(t0)})
	if kh := k.View(k.Now()).Worker; kh.UnsampledCPUS != 10 || kh.ProcessCPUS != 27 {
		t.Errorf("after a keyframe: unsampled %v of %v s, want 10 of 27", kh.UnsampledCPUS, kh.ProcessCPUS)
	}

	// Nothing unsampled: nothing said, the JSON unchanged.
	q := NewReport()
	for i, e := range []events.Event{evs[0], evs[1], evs[2]} {
		q.Apply(events.Decoded{Time: t0.Add(time.Duration(i) * time.Second), Kind: e.Kind(), V: 1, Event: e})
	}
	if sum := q.Summary(); sum.CPU != nil || q.CPU().Text() != "" {
		t.Errorf("all sampled: summary cpu %+v, text %q", sum.CPU, q.CPU().Text())
	}
}
