package fold_test

import (
	"strings"
	"testing"
	"time"

	"github.com/openrtc-go/introspect/events"
	"github.com/openrtc-go/introspect/fold"
)

// The leak finding says where the leaking session's goroutines are parked,
// and the session's row carries it.
func TestLeakFindingNamesTheParkingLine(t *testing.T) {
	at := func(d time.Duration) time.Time { return genStart.Add(d) }
	lines := [][]byte{
		jsonLine(t, at(0), events.WorkerStart{Worker: "w", PID: 7, Host: "h"}),
		jsonLine(t, at(0), events.SessionStart{SessionID: "leaky", Agent: "x"}),
	}
	for _, id := range []string{"calm-1", "calm-2", "calm-3", "calm-4"} {
		lines = append(lines, jsonLine(t, at(0), events.SessionStart{SessionID: id, Agent: "x"}))
	}
	for i := 1; i <= 8; i++ {
		n := 5 + 60*i
		s := events.Sample{RSSBytes: 1 << 20, Sessions: 5, GoroutinesBySession: map[string]int{"leaky": n, "calm-1": 3 + i%2, "calm-2": 4, "calm-3": 2 + i%2, "calm-4": 3},
			GoroutineStacks: map[string][]events.GoroutineGroup{"leaky": {
				{Count: n - 5, Frame: "agent/leaky.go:42 main.leak.func1", Wait: "chan receive"},
				{Count: 5, Frame: "agent/loop.go:10 main.run", Wait: "select"}}}}
		lines = append(lines, jsonLine(t, at(time.Duration(i)*time.Second), s))
	}
	r := fold.NewReport()
	for _, l := range lines {
		if err := r.Line(l); err != nil {
			t.Fatal(err)
		}
	}
	var leak *fold.Finding
	for _, f := range r.Summary().Findings {
		if f.Section == fold.SectionGoroutineLeak {
			leak = &f
		}
	}
	if leak == nil || leak.SessionID != "leaky" || !strings.Contains(leak.Title, "480 goroutines parked at agent/leaky.go:42 main.leak.func1, chan receive") {
		t.Fatalf("leak finding %+v, want the parking line", leak)
	}
	for _, row := range r.Rows() {
		if row.SessionID == "leaky" && (len(row.GorStacks) != 2 || row.GorStacks[0].Count != 480) {
			t.Errorf("leaky row's stacks %+v", row.GorStacks)
		}
	}
}

// A leak's goroutines outlive their session and keep its label: the count
// after the session ended is the leak's, and the session's row must hold it
// as the leak finding does (a black-box run: the finding said 349, sessions
// said 340).
func TestLeakCountedAfterTheSessionEnded(t *testing.T) {
	at := func(d time.Duration) time.Time { return genStart.Add(d) }
	lines := [][]byte{
		jsonLine(t, at(0), events.WorkerStart{Worker: "w", PID: 7, Host: "h"}),
		jsonLine(t, at(0), events.SessionStart{SessionID: "leaky", Agent: "x"}),
		jsonLine(t, at(time.Second), events.Sample{RSSBytes: 1 << 20, Sessions: 1, GoroutinesBySession: map[string]int{"leaky": 340}}),
		jsonLine(t, at(1500*time.Millisecond), events.SessionEnd{SessionID: "leaky", Outcome: events.OutcomeOK}),
		jsonLine(t, at(2*time.Second), events.Sample{RSSBytes: 1 << 20, Sessions: 0, GoroutinesBySession: map[string]int{"leaky": 349},
			GoroutineStacks: map[string][]events.GoroutineGroup{"leaky": {{Count: 349, Frame: "agent/leaky.go:42 main.leak.func1", Wait: "chan receive"}}}}),
	}
	r := fold.NewReport()
	for _, l := range lines {
		if err := r.Line(l); err != nil {
			t.Fatal(err)
		}
	}
	for _, row := range r.Rows() {
		if row.SessionID == "leaky" && (row.GorPeak != 349 || len(row.GorStacks) != 1 || row.GorStacks[0].Count != 349) {
			t.Errorf("leaky row: peak %d, stacks %+v; want the 349 counted after its end", row.GorPeak, row.GorStacks)
		}
	}
}
