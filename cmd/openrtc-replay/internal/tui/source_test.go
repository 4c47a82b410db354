package tui

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/openrtc-go/introspect/events"
	"github.com/openrtc-go/introspect/fold"
)

// t0 is the scenario's start: the pager went off at 03:12.
var t0 = time.Date(2026, 11, 27, 3, 12, 0, 0, time.UTC)

// at returns the scenario's moment s seconds in.
func at(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }

// A timed event of a scenario.
type timed struct {
	at time.Duration
	e  events.Event
}

// scenario is two minutes of a worker with four sessions:
//
//	call-a voice/acme   CPU-hot for the first minute, ends ok at 100s,
//	                    blamed for a 150ms scheduler stall at 80.2s
//	call-b voice/-      holds the room loop for 320ms at 30.5s
//	call-c chat/beta    ends with an error at 33s
//	call-d video/acme   pinned, starts at 10s
//
// with a sample every second. At 34s: b is slow, c errored, a and d active.
func scenario() []timed {
	sec := time.Second
	ev := []timed{
		{0, events.WorkerStart{Worker: "w1", PID: 42, MaxSessions: 50,
			Config: events.Config{SampleInterval: sec, CPUWindow: sec, SlowThreshold: 50 * time.Millisecond, SlowWindow: 5 * sec}}},
		{0, events.SessionStart{SessionID: "call-a", Agent: "voice", Tenant: "acme"}},
		{0, events.SessionStart{SessionID: "call-b", Agent: "voice"}},
		{0, events.SessionStart{SessionID: "call-c", Agent: "chat", Tenant: "beta"}},
		{10 * sec, events.SessionStart{SessionID: "call-d", Agent: "video", Tenant: "acme", Pinned: true}},
		{30*sec + 500*time.Millisecond, events.SlowSession{StallID: 1, SessionID: "call-b", Agent: "voice", Source: "room",
			Blocked: 320 * time.Millisecond, Confidence: 1, Frame: "room/mixer.go:88 mixer.(*Room).mix",
			Stack: []string{"room/mixer.go:88 mixer.(*Room).mix", "room/loop.go:40 room.(*Loop).run"}}},
		{33 * sec, events.SessionEnd{SessionID: "call-c", Outcome: events.OutcomeError, Error: "boom"}},
		{80*sec + 200*time.Millisecond, events.SlowSession{StallID: 2, SessionID: "call-a", Agent: "voice", Source: events.SourceScheduler,
			Blocked: 150 * time.Millisecond, Confidence: 0.8, Frame: "codec/opus.go:120 opus.Encode"}},
		{100 * sec, events.SessionEnd{SessionID: "call-a", Outcome: events.OutcomeOK}},
	}
	live := func(k int) []string {
		ids := []string{}
		if k <= 100 {
			ids = append(ids, "call-a")
		}
		ids = append(ids, "call-b")
		if k <= 33 {
			ids = append(ids, "call-c")
		}
		if k >= 10 {
			ids = append(ids, "call-d")
		}
		return ids
	}
	for k := 1; k <= 120; k++ {
		by := map[string]int64{}
		var used int64
		for _, id := range live(k) {
			n := map[string]int64{"call-a": 5, "call-b": 10, "call-c": 5, "call-d": 20}[id]
			if id == "call-a" && k < 60 {
				n = 50
			}
			by[id] = n
			used += n
		}
		s := events.Sample{
			RSSBytes: uint64(400+k) << 20, Sessions: len(live(k)), Goroutines: 40, Runnable: 1, Running: 2, Waiting: 37,
			HeapBytes: 200 << 20, SchedP50: 100 * time.Microsecond, SchedP99: 3 * time.Millisecond, SchedMax: 9 * time.Millisecond,
			CPU: events.CPUWindow{Duration: sec, Period: 10 * time.Millisecond, Total: 100, Unlabelled: 100 - used, Sessions: by},
		}
		switch k {
		case 1:
			s.GoroutinesBySession = map[string]int{"call-a": 4, "call-b": 2, "call-c": 1}
		case 11:
			s.GoroutinesBySession = map[string]int{"call-d": 8}
		}
		ev = append(ev, timed{time.Duration(k) * sec, s})
	}
	sort.SliceStable(ev, func(i, j int) bool { return ev[i].at < ev[j].at })
	return ev
}

// jsonLines renders events the way the recorder writes them: slog's JSON
// handler over events.Record.
func jsonLines(t testing.TB, ev []timed) [][]byte {
	t.Helper()
	var lines [][]byte
	var buf bytes.Buffer
	h := slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})
	for _, e := range ev {
		buf.Reset()
		if err := h.Handle(context.Background(), events.Record(t0.Add(e.at), e.e)); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, bytes.Clone(bytes.TrimSpace(buf.Bytes())))
	}
	return lines
}

// writeJSONL writes lines as a plain slog log, which the recorder's reader
// opens like a recording.
func writeJSONL(t testing.TB, lines [][]byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "scenario.jsonl")
	if err := os.WriteFile(path, append(bytes.Join(lines, []byte("\n")), '\n'), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// foldSource is a Source over JSON lines held in memory, folded with
// fold.State.ApplyLine: the real decoder and fold, without the recorder.
// Moving back folds again from the first line, which is fine for a test.
type foldSource struct {
	lines   [][]byte
	times   []time.Time
	samples []time.Time
	stalls  []fold.Stall

	state *fold.State
	next  int // lines[:next] are applied
	at    time.Time
}

func newFoldSource(t testing.TB, lines [][]byte) *foldSource {
	t.Helper()
	s := &foldSource{lines: lines}
	var sl fold.StallList
	for _, l := range lines {
		d, err := events.Decode(l)
		if err != nil {
			t.Fatal(err)
		}
		s.times = append(s.times, d.Time)
		switch e := d.Event.(type) {
		case events.Sample:
			s.samples = append(s.samples, d.Time)
		case events.SlowSession:
			sl.Add(d.Time, e)
		}
	}
	s.stalls = sl.Stalls()
	s.seekTo(s.times[len(s.times)-1])
	return s
}

func (s *foldSource) seekTo(t time.Time) {
	first, last := s.Span()
	if t.Before(first) {
		t = first
	}
	if t.After(last) {
		t = last
	}
	if s.state == nil || t.Before(s.at) {
		s.state, s.next = fold.New(), 0
	}
	for s.next < len(s.lines) && !s.times[s.next].After(t) {
		if err := s.state.ApplyLine(s.lines[s.next]); err != nil {
			panic(err) // the lines were decoded once already
		}
		s.next++
	}
	s.at = t
}

func (s *foldSource) View() fold.View { return s.state.View(s.at) }

func (s *foldSource) Span() (time.Time, time.Time) { return s.times[0], s.times[len(s.times)-1] }

func (s *foldSource) Next() (bool, error) {
	i := sort.Search(len(s.samples), func(i int) bool { return s.samples[i].After(s.at) })
	if i == len(s.samples) {
		_, last := s.Span()
		s.seekTo(last)
		return false, nil
	}
	s.seekTo(s.samples[i])
	return true, nil
}

func (s *foldSource) Prev() (bool, error) {
	i := sort.Search(len(s.samples), func(i int) bool { return !s.samples[i].Before(s.at) }) - 1
	if i < 0 {
		return false, nil
	}
	s.seekTo(s.samples[i])
	return true, nil
}

func (s *foldSource) Seek(t time.Time) error { s.seekTo(t); return nil }

func (s *foldSource) Stalls() ([]fold.Stall, error) { return s.stalls, nil }

// Timeline folds the whole scenario again and reads the session's row at
// every sample of its life.
func (s *foldSource) Timeline(id string) (fold.Timeline, error) {
	st := fold.New()
	st.KeepEnded = true
	var tl fold.Timeline
	found := false
	sample := make(map[int64]bool, len(s.samples))
	for _, t := range s.samples {
		sample[t.UnixNano()] = true
	}
	for i, l := range s.lines {
		if err := st.ApplyLine(l); err != nil {
			return tl, err
		}
		if i+1 < len(s.lines) && s.times[i+1].Equal(s.times[i]) {
			continue // read the view once all records of a moment are in
		}
		for _, r := range st.View(s.times[i]).Sessions {
			if r.SessionID != id || (r.End != time.Time{} && r.End.Before(s.times[i])) {
				continue
			}
			found = true
			tl.Row = r
			if r.End.IsZero() && sample[s.times[i].UnixNano()] {
				p := fold.TimelinePoint{At: s.times[i], CPUPct: r.CPUPct, MemMB: r.MemMB, Goroutines: -1}
				if r.Goroutines != nil {
					p.Goroutines = *r.Goroutines
				}
				tl.Points = append(tl.Points, p)
			}
		}
	}
	if !found {
		return tl, fmt.Errorf("session %s is not in the recording", id)
	}
	for _, stall := range s.stalls {
		if stall.SessionID == id {
			tl.Stalls = append(tl.Stalls, stall)
		}
	}
	return tl, nil
}
