package fold_test

import (
	"strings"
	"testing"
	"time"

	"github.com/openrtc-go/introspect/events"
	"github.com/openrtc-go/introspect/fold"
)

func gor(n int) *int { return &n }

// crowdRows is a pool of ordinary sessions with one of each kind of
// trouble, in an order that hides them.
func crowdRows() []fold.Row {
	var rows []fold.Row
	for _, id := range []string{"a1", "a2", "a3", "a4", "a5", "a6", "a7", "a8"} {
		rows = append(rows, fold.Row{SessionID: id, Status: fold.StatusActive, CPUPct: 2, MemMB: 1.5, Goroutines: gor(3)})
	}
	rows = append(rows,
		fold.Row{SessionID: "z-hog", Status: fold.StatusActive, CPUPct: 60, MemMB: 1.5, Goroutines: gor(2)},
		fold.Row{SessionID: "z-leak", Status: fold.StatusActive, CPUPct: 1, MemMB: 1.5, Goroutines: gor(400)},
		fold.Row{SessionID: "z-old-stall", Status: fold.StatusActive, CPUPct: 0, MemMB: 1.5, Goroutines: gor(1), Stalls: 1, WorstStall: 900},
		fold.Row{SessionID: "z-slow", Status: fold.StatusSlow, CPUPct: 0, MemMB: 1.5, Goroutines: gor(1), Stalls: 29, WorstStall: 401},
		fold.Row{SessionID: "z-busy-but-normal", Status: fold.StatusActive, CPUPct: 6, MemMB: 1.5, Goroutines: gor(5)},
	)
	return rows
}

func TestSortAttention(t *testing.T) {
	rows := crowdRows()
	fold.SortRows(rows, fold.SortAttention)
	var got []string
	for _, r := range rows[:5] {
		got = append(got, r.SessionID)
	}
	want := []string{"z-slow", "z-old-stall", "z-hog", "z-leak", "z-busy-but-normal"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("attention order %v, want %v", got, want)
	}
	if fold.SortKeys[0] != fold.SortAttention {
		t.Errorf("SortKeys starts with %q, want attention", fold.SortKeys[0])
	}
}

func TestViewFindings(t *testing.T) {
	at := time.Date(2026, 11, 27, 3, 12, 0, 0, time.UTC)
	fs := fold.ViewFindings(fold.View{Time: at, Sessions: crowdRows()})
	var got []string
	for _, f := range fs {
		got = append(got, f.Section+":"+f.SessionID)
		if f.Short == "" || f.Title == "" || !f.At.Equal(at) || !strings.HasPrefix(f.Runbook, fold.RunbookPath+"#") {
			t.Errorf("finding %+v: want a short line, a title, the view's time and a runbook anchor", f)
		}
	}
	want := []string{"blocking:z-slow", "blocking:z-old-stall", "cpu-hot:z-hog", "goroutine-leak:z-leak"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("findings %v, want %v", got, want)
	}
	// A healthy pool has nothing to say.
	if fs := fold.ViewFindings(fold.View{Sessions: crowdRows()[:8]}); len(fs) != 0 {
		t.Errorf("a healthy pool: findings %+v", fs)
	}
}

func TestGroupStalls(t *testing.T) {
	t0 := time.Date(2026, 11, 27, 3, 12, 0, 0, time.UTC)
	stack := []string{"w/c.go:32 w.fetch", "w/m.go:71 w.run"}
	st := func(s float64, id, src, frame string, ms float64, stack []string) fold.Stall {
		return fold.Stall{At: t0.Add(time.Duration(s * float64(time.Second))), SessionID: id, Source: src, Frame: frame, BlockedMs: ms, Stack: stack}
	}
	stalls := []fold.Stall{
		st(1, "blk", "mixer", "w/c.go:32 w.fetch", 400, stack),
		st(2, "other", "mutex", "w/d.go:9 w.route", 900, []string{"w/d.go:9 w.route"}),
		st(4, "blk", "mixer", "w/c.go:32 w.fetch", 401, stack),
		st(7, "blk2", "mixer", "w/c.go:32 w.fetch", 300, stack),
		st(8, "", "scheduler", "", 120, nil),
	}
	groups := fold.GroupStalls(stalls)
	if len(groups) != 3 {
		t.Fatalf("%d groups, want 3: %+v", len(groups), groups)
	}
	g := groups[0]
	if g.Source != "mixer" || g.Count != 3 || g.TotalMs != 1101 || g.Worst.BlockedMs != 401 ||
		!g.First.Equal(stalls[0].At) || !g.Last.Equal(stalls[3].At) ||
		strings.Join(g.Sessions, ",") != "blk,blk2" || g.SessionStalls[0] != 2 {
		t.Errorf("the mixer group: %+v", g)
	}
	if groups[1].Source != "mutex" || groups[2].Source != "scheduler" {
		t.Errorf("groups not by blocked time: %s, %s", groups[1].Source, groups[2].Source)
	}
	if i := fold.GroupOf(groups, stalls[3]); i != 0 {
		t.Errorf("GroupOf the last mixer stall = %d, want 0", i)
	}
	if len(fold.GroupStalls(nil)) != 0 {
		t.Error("groups of no stalls")
	}
}

func TestShortFrame(t *testing.T) {
	for in, want := range map[string]string{
		"workload/culprits.go:32 workload.fetchVoiceProfileSync": "culprits.go:32",
		"main.go:9 main.main": "main.go:9",
		"runtime.gopark":      "runtime.gopark",
		"":                    "",
	} {
		if got := fold.ShortFrame(in); got != want {
			t.Errorf("ShortFrame(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestVictimNotFloated: a session slow only because it held a loop while
// waiting for a CPU is the victim: it ranks after the outliers and is no
// finding of its own.
func TestVictimNotFloated(t *testing.T) {
	rows := append(crowdRows(), fold.Row{SessionID: "y-victim", Status: fold.StatusSlow, Goroutines: gor(1),
		Stalls: 5, StarvedStalls: 5, WorstStall: 2000})
	fold.SortRows(rows, fold.SortAttention)
	var got []string
	for _, r := range rows[:5] {
		got = append(got, r.SessionID)
	}
	if want := "z-slow z-old-stall z-hog z-leak y-victim"; strings.Join(got, " ") != want {
		t.Errorf("attention order %v, want %s", got, want)
	}
	for _, f := range fold.ViewFindings(fold.View{Sessions: rows}) {
		if f.SessionID == "y-victim" {
			t.Errorf("the starved holder is a finding: %+v", f)
		}
	}
}

// TestStarvedStallsCounted: the fold counts a stall whose holder waited
// for a CPU as the holder's starved stall, following the latest report's
// cause, and keeps the count across a keyframe.
func TestStarvedStallsCounted(t *testing.T) {
	t0 := time.Date(2026, 11, 27, 3, 12, 0, 0, time.UTC)
	s := fold.New()
	apply := func(sec float64, e events.Event) {
		s.Apply(events.Decoded{Time: t0.Add(time.Duration(sec * float64(time.Second))), V: events.SchemaVersion, Kind: e.Kind(), Event: e})
	}
	apply(0, events.SessionStart{SessionID: "v"})
	apply(1, events.SlowSession{StallID: 1, SessionID: "v", Source: "mixer", Blocked: 80 * time.Millisecond, Ongoing: true, Cause: events.CauseWaitingForCPU})
	apply(1.2, events.SlowSession{StallID: 1, SessionID: "v", Source: "mixer", Blocked: 300 * time.Millisecond, Cause: events.CauseWaitingForCPU})
	apply(2, events.SlowSession{StallID: 2, SessionID: "v", Source: "mixer", Blocked: 80 * time.Millisecond, Ongoing: true, Cause: events.CauseWaitingForCPU})
	apply(2.3, events.SlowSession{StallID: 2, SessionID: "v", Source: "mixer", Blocked: 350 * time.Millisecond, Cause: events.CauseBlocked})
	apply(3, events.SlowSession{StallID: 3, SessionID: "v", Source: "mixer", Blocked: 90 * time.Millisecond, Cause: events.CauseBlocked})
	r := s.View(t0.Add(4 * time.Second)).Sessions[0]
	if r.Stalls != 3 || r.StarvedStalls != 1 {
		t.Errorf("stalls %d, starved %d; want 3, 1", r.Stalls, r.StarvedStalls)
	}
	// A keyframe carries the count.
	s2 := fold.New()
	s2.Apply(events.Decoded{Time: t0.Add(5 * time.Second), V: events.SchemaVersion, Kind: events.KindKeyframe, Event: s.Keyframe(t0)})
	if r := s2.View(t0.Add(5 * time.Second)).Sessions[0]; r.StarvedStalls != 1 {
		t.Errorf("after a keyframe: starved %d, want 1", r.StarvedStalls)
	}
}

// TestViewFindingsEachKind: many stalling sessions do not crowd the CPU hog
// and the leaker out of the findings: three a kind.
func TestViewFindingsEachKind(t *testing.T) {
	rows := crowdRows()
	for _, id := range []string{"s1", "s2", "s3", "s4", "s5"} {
		rows = append(rows, fold.Row{SessionID: id, Status: fold.StatusSlow, Goroutines: gor(1), Stalls: 1, WorstStall: 60})
	}
	var kinds []string
	for _, f := range fold.ViewFindings(fold.View{Sessions: rows}) {
		kinds = append(kinds, f.Section)
	}
	if want := "blocking blocking blocking cpu-hot goroutine-leak"; strings.Join(kinds, " ") != want {
		t.Errorf("findings %v, want %s", kinds, want)
	}
}
