package fold_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/openrtc-go/introspect/events"
	"github.com/openrtc-go/introspect/fold"
)

func TestReportByHand(t *testing.T) {
	sec := time.Second
	at := func(d time.Duration) time.Time { return genStart.Add(d) }
	cpuw := func(total int64, by map[string]int64) events.CPUWindow {
		var n int64
		for _, v := range by {
			n += v
		}
		return events.CPUWindow{Duration: sec, Period: 10 * time.Millisecond, Total: total, Unlabelled: total - n, Sessions: by}
	}
	lines := [][]byte{
		jsonLine(t, at(0), events.WorkerStart{Worker: "w", PID: 7, Host: "h"}),
		jsonLine(t, at(0), events.SessionStart{SessionID: "a", Agent: "voice"}),
		jsonLine(t, at(0), events.SessionStart{SessionID: "b", Agent: "chat", Tenant: "acme"}),
		[]byte(`{"time":"2026-11-27T03:00:00.5Z","level":"INFO","msg":"app says hello"}`),
		jsonLine(t, at(1*sec), events.Sample{RSSBytes: 100 << 20, Sessions: 2, CPU: cpuw(100, map[string]int64{"a": 50, "b": 10}),
			GoroutinesBySession: map[string]int{"a": 3, "b": 2}}),
		jsonLine(t, at(2*sec), events.SlowSession{StallID: 1, SessionID: "b", Source: "mixer", Blocked: 80 * time.Millisecond, Ongoing: true, Confidence: 1}),
		jsonLine(t, at(2*sec+300*time.Millisecond), events.SlowSession{StallID: 1, SessionID: "b", Source: "mixer", Blocked: 380 * time.Millisecond,
			Confidence: 1, Frame: "mix.go:9 main.mix", Stack: []string{"mix.go:9 main.mix"}}),
		jsonLine(t, at(3*sec), events.Sample{RSSBytes: 300 << 20, Sessions: 2, CPU: cpuw(100, map[string]int64{"a": 20})}),
		jsonLine(t, at(4*sec), events.SessionEnd{SessionID: "a", Outcome: events.OutcomeError, Error: "boom"}),
		jsonLine(t, at(5*sec), events.Sample{RSSBytes: 200 << 20, Sessions: 1}),
		[]byte(`{"time":"2026-11-27T03:00:05Z","msg":"sample","v":1,"rss_bytes":"oops`), // torn
		jsonLine(t, at(6*sec), events.WorkerStop{}),
	}
	r := fold.NewReport()
	for _, l := range lines {
		_ = r.Line(l)
	}
	rows := r.Rows()
	if len(rows) != 2 || rows[0].SessionID != "a" || rows[1].SessionID != "b" {
		t.Fatalf("rows %+v", rows)
	}
	a, b := rows[0], rows[1]
	s := r.Summary()
	checks := []struct {
		name      string
		got, want any
	}{
		{"a outcome", a.Outcome, "error"},
		{"a duration", a.DurationS, 4.0},
		{"a cpu_seconds", a.CPUSeconds, 0.7},
		{"a max cpu%", a.MaxCPUPct, 50.0},
		{"a peak share", a.PeakMB, 150.0},
		{"b live at the end", b.End.IsZero(), true},
		{"b duration to the last event", b.DurationS, 6.0},
		{"b stalls", b.Stalls, 1},
		{"b worst", b.WorstStall, 380.0},
		{"b gor peak", b.GorPeak, 2},
		{"sessions", s.Sessions, 2},
		{"failed", s.Failed, 1},
		{"peak live", s.PeakLive, 2},
		{"peak live at", s.PeakLiveAt, at(0)},
		{"rss low", s.RSS.LowBytes, uint64(100 << 20)},
		{"rss low at", s.RSS.LowAt, at(sec)},
		{"rss high", s.RSS.HighBytes, uint64(300 << 20)},
		{"rss high at", s.RSS.HighAt, at(3 * sec)},
		// Least squares through (0,100) (2/3600 h, 300) (4/3600 h, 200): 25 MiB/s.
		{"rss slope", s.RSS.SlopeMiBPerHour, 90000.0},
		{"stalls", s.Stalls, 1},
		{"worst stall", s.WorstStalls[0].BlockedMs, 380.0},
		{"worst stall frame", s.WorstStalls[0].Frame, "mix.go:9 main.mix"},
		{"top cpu", s.TopCPU[0].SessionID, "a"},
		{"samples", s.Events["sample"], int64(3)},
		{"other lines", s.Events["other"], int64(1)},
		{"bad lines", s.BadLines, int64(1)},
		{"lines", s.Lines, int64(len(lines))},
		{"start", s.Start, at(0)},
		{"end", s.End, at(6 * sec)},
		{"worker stopped", s.Workers[0].Stopped, true},
		{"worker pid", s.Workers[0].PID, 7},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	var blocking bool
	for _, f := range s.Findings {
		if f.Section == fold.SectionBlocking && f.SessionID == "b" && strings.Contains(f.Title, "mix.go:9") &&
			f.Runbook == "runbook/density-debugging.md#blocking" {
			blocking = true
		}
	}
	if !blocking {
		t.Errorf("findings %+v: want b blocking the mixer", s.Findings)
	}
}

// Keyframes that agree with the state are skipped; one that does not (a gap
// in the stream) repairs it.
func TestReportKeyframes(t *testing.T) {
	at := func(d time.Duration) time.Time { return genStart.Add(d) }
	r := fold.NewReport()
	kf := events.Keyframe{Worker: events.WorkerState{Name: "w", Started: at(0), Begun: 1},
		Sessions: []events.KeySession{{SessionID: "a", Agent: "voice", Start: at(0)}}}
	for _, l := range [][]byte{
		jsonLine(t, at(0), events.WorkerStart{Worker: "w"}),
		jsonLine(t, at(0), events.SessionStart{SessionID: "a", Agent: "voice"}),
	} {
		if err := r.Line(l); err != nil {
			t.Fatal(err)
		}
	}
	agreeing := jsonLine(t, at(time.Minute), kf)
	st := fold.New()
	for _, l := range [][]byte{jsonLine(t, at(0), events.WorkerStart{Worker: "w"}), jsonLine(t, at(0), events.SessionStart{SessionID: "a"})} {
		_ = st.ApplyLine(l)
	}
	if !st.Agrees(agreeing) || fold.New().Agrees(agreeing) {
		t.Error("Agrees: want true for the state the keyframe describes, false for an empty state")
	}
	if err := r.Line(agreeing); err != nil {
		t.Fatal(err)
	}
	// A session started in a gap the report never saw.
	kf.Worker.Begun = 2
	kf.Sessions = append(kf.Sessions, events.KeySession{SessionID: "gap", Agent: "chat", Start: at(90 * time.Second)})
	if err := r.Line(jsonLine(t, at(2*time.Minute), kf)); err != nil {
		t.Fatal(err)
	}
	rows := r.Rows()
	if len(rows) != 2 || rows[1].SessionID != "gap" {
		t.Fatalf("rows after a repairing keyframe: %+v", rows)
	}
	if n := r.Summary().Events["keyframe"]; n != 2 {
		t.Errorf("keyframes counted %d, want 2", n)
	}
}

func TestReportFindings(t *testing.T) {
	set := openSet(t, smallRecording(t))
	r, err := fold.ReadReport(set.Scan(), nil)
	if err != nil {
		t.Fatal(err)
	}
	s := r.Summary()
	want := map[string]string{
		fold.SectionBlocking:      "block-1",
		fold.SectionCPUHot:        "hot-1",
		fold.SectionGoroutineLeak: "leak-1",
	}
	got := map[string]string{}
	for _, f := range s.Findings {
		if _, dup := got[f.Section]; !dup {
			got[f.Section] = f.SessionID
		}
		if !strings.HasPrefix(f.Runbook, fold.RunbookPath+"#") {
			t.Errorf("finding %+v: runbook %q", f, f.Runbook)
		}
	}
	for sec, id := range want {
		if got[sec] != id {
			t.Errorf("section %s names %q, want %q (findings %+v)", sec, got[sec], id, s.Findings)
		}
	}
	if _, ok := got[fold.SectionMemory]; ok {
		t.Errorf("memory finding on a flat RSS: %+v", s.Findings)
	}
	if _, ok := got[fold.SectionNothing]; ok {
		t.Errorf("nothing-stands-out beside findings: %+v", s.Findings)
	}
	if s.TopCPU[0].SessionID != "hot-1" || s.WorstStalls[0].SessionID != "block-1" {
		t.Errorf("top cpu %s, worst stall %s", s.TopCPU[0].SessionID, s.WorstStalls[0].SessionID)
	}
}

// RSS that climbs while the sessions stay is memory pressure; RSS that
// climbs with the number of sessions is not.
func TestReportMemory(t *testing.T) {
	set := openSet(t, generate(t, t.TempDir(), workload{Duration: 5 * time.Minute, Sessions: 20, OnCPU: 10, MemLeak: true, Seed: 4}))
	r, err := fold.ReadReport(set.Scan(), nil)
	if err != nil {
		t.Fatal(err)
	}
	s := r.Summary()
	if s.RSS.Trend != "rising" || s.RSS.ShareTrend != "rising" || s.RSS.SlopeMiBPerHour < 3000 {
		t.Errorf("rss %+v: want rising by about 3600 MiB/h", s.RSS)
	}
	if len(s.Findings) != 1 || s.Findings[0].Section != fold.SectionMemory {
		t.Errorf("findings %+v, want memory", s.Findings)
	}

	// Sessions ramping up from few to many: RSS rises, the share does not.
	ramp := fold.NewReport()
	for i := range 100 {
		n := 1 + i
		_ = ramp.Line(jsonLine(t, genStart.Add(time.Duration(i)*time.Second),
			events.Sample{RSSBytes: uint64(100+2*n) << 20, Sessions: n, Runnable: -1, Running: -1, Waiting: -1}))
	}
	s = ramp.Summary()
	if s.RSS.Trend != "rising" || s.RSS.ShareTrend == "rising" {
		t.Errorf("ramp: rss %+v", s.RSS)
	}
	for _, f := range s.Findings {
		if f.Section == fold.SectionMemory {
			t.Errorf("ramp of sessions taken for memory pressure: %+v", f)
		}
	}
}

func TestReportNothingStandsOut(t *testing.T) {
	set := openSet(t, generate(t, t.TempDir(), workload{Duration: 5 * time.Minute, Sessions: 20, OnCPU: 10, Seed: 3}))
	r, err := fold.ReadReport(set.Scan(), nil)
	if err != nil {
		t.Fatal(err)
	}
	f := r.Summary().Findings
	if len(f) != 1 || f[0].Section != fold.SectionNothing {
		t.Errorf("findings %+v, want only nothing-stands-out", f)
	}
}

// FuzzReportLine: no line, however broken, makes the replay side of the
// fold panic; each is skipped or folded.
func FuzzReportLine(f *testing.F) {
	for _, l := range [][]byte{
		[]byte(`{"time":"2026-11-27T03:00:00Z","level":"DEBUG","msg":"sample","v":1,"rss_bytes":1,"sessions":1,"cpu":{"dur_ms":1000,"period_ms":10,"total":3,"unlabelled":1,"sessions":{"a":2}},"gor":{"a":3}}`),
		[]byte(`{"time":"2026-11-27T03:00:00Z","level":"DEBUG","msg":"keyframe","v":1,"worker":{"name":"w","sessions_started":1,"sessions_failed":0,"stalls":0},"live":1,"sessions":[{"session_id":"a","agent_name":"x","start":"2026-11-27T03:00:00Z","peak_bytes":0,"cpu_samples":0,"cpu_ns":0}]}`),
		[]byte(`{"time":"2026-11-27T03:00:00Z","level":"WARN","msg":"slow-session","v":1,"session_id":"a","blocked_ms":120,"source":"loop","ongoing":false,"confidence":1,"stall_id":1}`),
		[]byte(`{"time":"2026-11-27T03:00:00Z","msg":"session.start","v":1,"session_id":"a"}`),
		[]byte(`{"msg":"keyframe","live":"x"}`),
		[]byte(`not json`),
	} {
		f.Add(l)
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		r := fold.NewReport()
		_ = r.Line(line)
		_ = r.Line(line)
		_ = r.Summary()
		_, _ = fold.ParseStall(line)
		_ = fold.KindOf(line)
		_ = fold.New().Agrees(line)
	})
}

// A session is wedged against its own kind of work: long calls beside short
// HTTP requests are not wedged, a call that outlives the other calls many
// times over is, and an agent with too few ended sessions is not judged.
func TestReportWedgedByAgent(t *testing.T) {
	r := fold.NewReport()
	at := func(d time.Duration) time.Time { return genStart.Add(d) }
	line := func(d time.Duration, e events.Event) { _ = r.Line(jsonLine(t, at(d), e)) }
	line(0, events.WorkerStart{Worker: "w", PID: 1, Host: "h"})
	for i := range 40 { // short requests
		id := fmt.Sprintf("http-%d", i)
		line(time.Duration(i)*time.Second, events.SessionStart{SessionID: id, Agent: "http"})
		line(time.Duration(i)*time.Second+50*time.Millisecond, events.SessionEnd{SessionID: id, Outcome: events.OutcomeOK})
	}
	for i := range 6 { // ordinary calls of 100 s
		id := fmt.Sprintf("call-%d", i)
		line(0, events.SessionStart{SessionID: id, Agent: "voice"})
		line(100*time.Second, events.SessionEnd{SessionID: id, Outcome: events.OutcomeOK})
	}
	line(0, events.SessionStart{SessionID: "stuck", Agent: "voice"})
	line(0, events.SessionStart{SessionID: "lonely", Agent: "batch"})
	line(900*time.Second, events.Sample{RSSBytes: 1 << 20, Sessions: 2, Runnable: -1, Running: -1, Waiting: -1})
	var wedged []string
	for _, f := range r.Summary().Findings {
		if f.Section == fold.SectionWedged {
			wedged = append(wedged, f.SessionID)
			if !strings.Contains(f.Title, "median voice session") {
				t.Errorf("finding %q does not say whose median", f.Title)
			}
		}
	}
	if len(wedged) != 1 || wedged[0] != "stuck" {
		t.Errorf("wedged %v, want [stuck]", wedged)
	}
}

// TestReportCPUHotLongWindows: a session that burns a core for 20 s is
// CPU-hot with the default 5 s CPU windows too (four windows), as with 1 s
// windows; the rule asks for hot time, not a count of windows.
func TestReportCPUHotLongWindows(t *testing.T) {
	for _, win := range []time.Duration{time.Second, 5 * time.Second} {
		r := fold.NewReport()
		at := func(d time.Duration) time.Time { return genStart.Add(d) }
		_ = r.Line(jsonLine(t, at(0), events.WorkerStart{Worker: "w", PID: 7, Host: "h"}))
		for i := range 10 {
			_ = r.Line(jsonLine(t, at(0), events.SessionStart{SessionID: fmt.Sprintf("s%d", i), Agent: "voice"}))
		}
		_ = r.Line(jsonLine(t, at(0), events.SessionStart{SessionID: "hog", Agent: "voice"}))
		per := int64(win / (10 * time.Millisecond)) // samples of one busy core
		for end := win; end <= 20*time.Second; end += win {
			by := map[string]int64{"hog": per * 9 / 10}
			for i := range 10 {
				by[fmt.Sprintf("s%d", i)] = per / 100
			}
			cpu := events.CPUWindow{Duration: win, Period: 10 * time.Millisecond, Total: per * 11 / 10, CPUTime: win * 11 / 10, Sessions: by}
			cpu.Unlabelled = cpu.Total - per*9/10 - 10*(per/100)
			_ = r.Line(jsonLine(t, at(end), events.Sample{RSSBytes: 100 << 20, Sessions: 11, CPU: cpu}))
		}
		var hot []string
		for _, f := range r.Summary().Findings {
			if f.Section == fold.SectionCPUHot {
				hot = append(hot, f.SessionID)
			}
		}
		if len(hot) != 1 || hot[0] != "hog" {
			t.Errorf("%s windows: cpu-hot findings %v, want [hog]", win, hot)
		}
	}
}
