package live

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/openrtc-go/introspect/events"
	"github.com/openrtc-go/introspect/fold"
)

// openrtcExample is a real snapshot served by OpenRTC's own server classes
// (../shared/docs/openrtc-snapshot-example.json): the contract.
func openrtcExample(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/openrtc-snapshot.json")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodeOpenRTCExample(t *testing.T) {
	fetched := time.Date(2026, 12, 6, 4, 0, 0, 0, time.UTC)
	v, kind, err := Decode(openrtcExample(t), fetched)
	if err != nil {
		t.Fatal(err)
	}
	if kind != KindOpenRTC || v.Worker.Kind != KindOpenRTC {
		t.Fatalf("kind %q / %q, want openrtc", kind, v.Worker.Kind)
	}
	h := v.Worker
	if !v.Time.Equal(fetched) {
		t.Errorf("time %v, want the fetch time", v.Time)
	}
	if want := fetched.Add(-12267017602 * time.Nanosecond); h.Started.Sub(want).Abs() > time.Millisecond {
		t.Errorf("started_at %v, want fetch − uptime %v", h.Started, want)
	}
	if h.Name != "openrtc-py" || h.ActiveSessions != 5 || h.MaxSessions != 50 || h.SessionsBegun != 8 || h.SessionsFailed != 1 {
		t.Errorf("header %+v", h)
	}
	if h.SavedBytes == nil || *h.SavedBytes != 512000000 || h.Draining {
		t.Errorf("saved %v draining %v", h.SavedBytes, h.Draining)
	}
	if h.RSSBytes != 300<<20 {
		t.Errorf("rss %d, want the rows' shares summed: 300 MiB", h.RSSBytes)
	}
	s := h.System
	if s == nil || !s.Available || *s.CPUPct != 99.9 || *s.VCPUs != 2 || *s.MemTotalBytes != 25276157952 || *s.Load1 != 3.794921875 || *s.NetRateBps != 0 {
		t.Errorf("system %+v", s)
	}
	if fmt.Sprint(h.HostCPUHistory) != "[88.7 84.5 100 99.9]" {
		t.Errorf("cpu_history %v", h.HostCPUHistory)
	}
	if len(v.Sessions) != 5 {
		t.Fatalf("%d rows", len(v.Sessions))
	}
	r := v.Sessions[0]
	if r.SessionID != "AJ_912265b1f5" || r.AgentName != "dental" || r.Tenant != nil || r.CPUPct != 62.5 || r.MemMB != 60 || r.PeakMB != 64 {
		t.Errorf("row 0 %+v", r)
	}
	if want := fetched.Add(-63100 * time.Millisecond); !r.Start.Equal(want) {
		t.Errorf("start %v, want fetch − duration %v", r.Start, want)
	}
	// 62.5 % of 12.27 s of ticks.
	if math.Abs(r.CPUSeconds-7.67) > 0.01 {
		t.Errorf("cpu_seconds %v, want 7.67", r.CPUSeconds)
	}
	if v.Sessions[1].Status != fold.StatusSlow || *v.Sessions[1].Tenant != "acme" {
		t.Errorf("row 1 %+v", v.Sessions[1])
	}
}

// Our own snapshot decodes exactly, and so does one served before the
// OpenRTC names (started a time, started_sessions the count).
func TestDecodeOurs(t *testing.T) {
	at := time.Date(2026, 12, 6, 4, 0, 0, 0, time.UTC)
	tenant := "acme"
	v := fold.View{Time: at, Worker: fold.Header{Name: "w1", Started: at.Add(-time.Minute), UptimeS: 60, SessionsBegun: 3, ActiveSessions: 1},
		Sessions: []fold.Row{
			{SessionID: "a", Tenant: &tenant, Status: fold.StatusActive, Start: at.Add(-time.Second)},
			{SessionID: "b", Status: fold.StatusEnded, Start: at.Add(-time.Minute), End: at},
		}}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"ended_sessions":[{"session_id":"b"`) || !strings.Contains(string(b), `"started":3`) {
		t.Errorf("marshalled: %s", b)
	}
	got, kind, err := Decode(b, at.Add(time.Hour))
	if err != nil || kind != KindIntrospect {
		t.Fatal(kind, err)
	}
	if !got.Time.Equal(at) || !got.Worker.Started.Equal(at.Add(-time.Minute)) || got.Worker.SessionsBegun != 3 || len(got.Sessions) != 2 || got.Sessions[1].Status != fold.StatusEnded {
		t.Errorf("decoded %+v", got)
	}

	old := `{"time":"2026-12-06T04:00:00Z","worker":{"name":"w1","started":"2026-12-06T03:59:00Z","uptime_s":60,"started_sessions":3,"failed":0},"sessions":[]}`
	got, kind, err = Decode([]byte(old), at)
	if err != nil || kind != KindIntrospect {
		t.Fatal(kind, err)
	}
	if !got.Worker.Started.Equal(at.Add(-time.Minute)) || got.Worker.SessionsBegun != 3 {
		t.Errorf("older snapshot: %+v", got.Worker)
	}
}

// openrtcWorker simulates OpenRTC's accounting: a 10 ms sampler whose ticks
// are counted per session since the worker started, served rounded to 0.1.
type openrtcWorker struct {
	uptime float64
	ticks  float64
	counts map[string]float64
	start  map[string]float64
}

func (w *openrtcWorker) step(d float64, use map[string]float64) {
	w.uptime += d
	w.ticks += d / 0.01
	for id, share := range use {
		if _, ok := w.start[id]; !ok {
			w.start[id] = w.uptime - d
		}
		w.counts[id] += share * d / 0.01
	}
}

func (w *openrtcWorker) snapshot() []byte {
	var rows []string
	for id, c := range w.counts {
		pct := math.Round(c/w.ticks*100*10) / 10
		rows = append(rows, fmt.Sprintf(`{"session_id":%q,"agent_name":"a","tenant":null,"duration_s":%.1f,"mem_mb":10.0,"peak_mb":10.0,"cpu_pct":%.1f,"status":"active","pinned":false}`,
			id, w.uptime-w.start[id], pct))
	}
	return fmt.Appendf(nil, `{"worker":{"name":"py","uptime_s":%.3f,"active_sessions":%d,"max_sessions":0,"started":%d,"failed":0,"saved_bytes":null,"draining":false,"system":{"available":false},"cpu_history":[]},"sessions":[%s]}`,
		w.uptime, len(rows), len(rows), strings.Join(rows, ","))
}

// The Reader turns OpenRTC's cumulative shares into the share of a recent
// window, even an hour into the worker's life, when a one-second window of
// 0.1-rounded cumulative figures would be noise.
func TestReaderWindowsOpenRTCCPU(t *testing.T) {
	w := &openrtcWorker{counts: map[string]float64{}, start: map[string]float64{}}
	// An hour of history: a used 30 %, b 10 %.
	w.step(3600, map[string]float64{"a": 0.30, "b": 0.10})
	r := NewReader("")
	at := time.Date(2026, 12, 6, 4, 0, 0, 0, time.UTC)
	var v fold.View
	poll := func(use map[string]float64) {
		w.step(1, use)
		at = at.Add(time.Second)
		s, err := r.Decode(w.snapshot(), Peer{PID: 7}, at)
		if err != nil {
			t.Fatal(err)
		}
		v = s.View
	}
	for range 600 {
		poll(map[string]float64{"a": 0.30, "b": 0.10})
	}
	shares := func() map[string]float64 {
		m := map[string]float64{}
		for _, row := range v.Sessions {
			m[row.SessionID] = row.CPUPct
		}
		return m
	}
	if s := shares(); math.Abs(s["a"]-30) > 1.5 || math.Abs(s["b"]-10) > 1.5 {
		t.Errorf("steady: shares %v, want a 30 b 10 (window %vs)", s, v.Worker.CPUWindowS)
	}
	if v.Worker.CPUWindowS <= 0 || v.Worker.CPUWindowS >= v.Worker.UptimeS {
		t.Errorf("window %vs: want a window shorter than the uptime", v.Worker.CPUWindowS)
	}
	// b turns hot: 80 % for the next ten minutes, a drops to 5 %. The
	// cumulative share of b moves by only a few points; the window's
	// follows.
	for range 600 {
		poll(map[string]float64{"a": 0.05, "b": 0.80})
	}
	s := shares()
	if math.Abs(s["b"]-80) > 3 || math.Abs(s["a"]-5) > 3 {
		t.Errorf("after the change: shares %v, want a 5 b 80 (window %vs)", s, v.Worker.CPUWindowS)
	}
	// A new session's share counts from its start.
	for range 120 {
		poll(map[string]float64{"a": 0.05, "b": 0.10, "c": 0.50})
	}
	if s := shares(); math.Abs(s["c"]-50) > 5 {
		t.Errorf("new session: shares %v, want c 50 (window %vs)", s, v.Worker.CPUWindowS)
	}
	// A restart (new pid) starts the windows over rather than mixing two
	// workers' counts.
	w2 := &openrtcWorker{counts: map[string]float64{}, start: map[string]float64{}}
	w2.step(5, map[string]float64{"z": 0.2})
	snap, err := r.Decode(w2.snapshot(), Peer{PID: 8}, at.Add(time.Second))
	if err != nil || !snap.Restarted {
		t.Fatalf("restart not seen: %v %v", snap.Restarted, err)
	}
}

// Session starts stay as first seen, though each snapshot's rounded
// duration would move them.
func TestReaderSteadyStarts(t *testing.T) {
	r := NewReader("")
	at := time.Date(2026, 12, 6, 4, 0, 0, 0, time.UTC)
	b := openrtcExample(t)
	s1, err := r.Decode(b, Peer{}, at)
	if err != nil {
		t.Fatal(err)
	}
	s2, err := r.Decode(b, Peer{}, at.Add(3*time.Second)) // same durations served
	if err != nil {
		t.Fatal(err)
	}
	if !s2.View.Sessions[0].Start.Equal(s1.View.Sessions[0].Start) || !s2.View.Worker.Started.Equal(s1.View.Worker.Started) {
		t.Errorf("starts moved: %v → %v", s1.View.Sessions[0].Start, s2.View.Sessions[0].Start)
	}
}

// Polling our own worker, each stall its row's count gains is one derived
// stall, and the one that raised the worst carries that duration.
func TestConverterOursCountsStalls(t *testing.T) {
	at := time.Date(2026, 12, 6, 4, 0, 0, 0, time.UTC)
	snap := func(stalls int, worst float64, t time.Time) Snapshot {
		return Snapshot{Kind: KindIntrospect, Peer: Peer{PID: 9}, View: fold.View{Time: t,
			Worker: fold.Header{Name: "w", Started: at.Add(-time.Minute)},
			Sessions: []fold.Row{{SessionID: "call-blocker", AgentName: "voice", Status: fold.StatusSlow,
				Start: at.Add(-30 * time.Second), Stalls: stalls, WorstStall: worst}}}}
	}
	c := &Converter{Period: time.Second}
	first := c.Snapshot(snap(3, 300, at), at) // history before the recording is not replayed
	for _, e := range first {
		if _, ok := e.Event.(events.SlowSession); ok {
			t.Errorf("a stall from before the recording: %+v", e)
		}
	}
	var got []events.SlowSession
	for _, e := range c.Snapshot(snap(5, 415, at.Add(time.Second)), at.Add(time.Second)) {
		if s, ok := e.Event.(events.SlowSession); ok {
			got = append(got, s)
		}
	}
	if len(got) != 2 || !got[0].Derived || got[0].Blocked != 0 || got[1].Blocked != 415*time.Millisecond || got[1].SessionID != "call-blocker" {
		t.Errorf("derived stalls %+v, want two, the last of 415ms", got)
	}
}

// Our worker's cumulative CPU grows once per CPU window (5 s), while record
// polls four times a second: the derived windows must span the growth, so
// the process reads at the cores it used, not at nothing and then twenty,
// the first too, whose window began before the recording did.
func TestConverterOursCPUGrowsPerWindow(t *testing.T) {
	at := time.Date(2026, 12, 6, 4, 0, 0, 0, time.UTC)
	gor := 85
	snap := func(cpu float64, t time.Time) Snapshot {
		return Snapshot{Kind: KindIntrospect, Peer: Peer{PID: 9}, View: fold.View{Time: t,
			Worker: fold.Header{Name: "w", Started: at.Add(-time.Minute), ProcessCPUPct: 92, CPUPct: 97.8},
			Sessions: []fold.Row{{SessionID: "hog", AgentName: "batch", Status: fold.StatusActive,
				Start: at.Add(-30 * time.Second), CPUSeconds: cpu, Goroutines: &gor}}}}
	}
	c := &Converter{Period: 250 * time.Millisecond}
	var windows []events.CPUWindow
	var gors []map[string]int
	cpu := 10.0
	for i := range 45 { // 11 s of polls; a window of 4.5 CPU-s ends 1 s in, then every 5 s
		now := at.Add(time.Duration(i) * 250 * time.Millisecond)
		if i%20 == 4 {
			cpu += 4.5
		}
		for _, e := range c.Snapshot(snap(cpu, now), now) {
			if s, ok := e.Event.(events.Sample); ok {
				gors = append(gors, s.GoroutinesBySession)
				if s.CPU.Duration > 0 {
					windows = append(windows, s.CPU)
				}
			}
		}
	}
	if len(windows) != 3 {
		t.Fatalf("%d CPU windows, want one per growth: %+v", len(windows), windows)
	}
	for _, w := range windows {
		if w.Duration < 4900*time.Millisecond || w.Duration > 5100*time.Millisecond || w.Sessions["hog"] != 450 || w.ProcessCPUPct() < 90 || w.ProcessCPUPct() > 94 {
			t.Errorf("window %+v: want 5 s, 450 samples of hog, the process at 92 %% of a core (got %.1f)", w, w.ProcessCPUPct())
		}
	}
	if last := gors[len(gors)-1]; last["hog"] != 85 {
		t.Errorf("goroutines by session %v, want hog's 85", last)
	}
}
