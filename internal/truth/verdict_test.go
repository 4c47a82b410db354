//go:build linux

package truth

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/openrtc-go/introspect/events"
	"github.com/openrtc-go/introspect/recorder"
)

// TestJudgeCatchesWrongAnswers feeds the judge a recording, written by the
// real recorder, whose answers are wrong in known ways, and checks that each
// wrong answer fails its figure: the judge is what makes TestTruth able to
// fail.
func TestJudgeCatchesWrongAnswers(t *testing.T) {
	t0 := time.Date(2026, 12, 6, 3, 12, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	path := filepath.Join(t.TempDir(), "wrong.zst")
	rec, err := recorder.Create(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	write := func(ms int, e events.Event) {
		if err := rec.Handle(context.Background(), events.Record(at(ms), e)); err != nil {
			t.Fatal(err)
		}
	}
	write(0, events.WorkerStart{Worker: "w", PID: 1, Host: "h"})
	for _, id := range []string{"call-1", "call-2", "call-3", "call-4", "call-5"} {
		write(1, events.SessionStart{SessionID: id, Agent: "voice"})
	}
	stall := func(id uint64, ms int, session, source string, blocked int, frame, from, cause string) {
		write(ms+blocked, events.SlowSession{StallID: id, SessionID: session, Source: source, Blocked: time.Duration(blocked) * time.Millisecond,
			Confidence: 1, Frame: frame, FrameFrom: from, Start: at(ms), Cause: cause})
	}
	// Right on every count.
	stall(1, 1000, "call-1", SourceMixer, 300, "truth/block.go:10 truth.f", events.FrameHolder, events.CauseBlocked)
	// The right hold put on the wrong session, at the leave line, no cause.
	stall(2, 3000, "call-5", SourceMutex, 300, "truth/scenario.go:99 truth.locked", events.FrameLeave, "")
	// A starved holder that says so: no blame.
	stall(3, 7000, "call-4", SourceMixer, 120, "truth/scenario.go:98 truth.run", events.FrameLeave, events.CauseWaitingForCPU)
	// A starved holder blamed.
	stall(4, 8000, "call-4", SourceMutex, 200, "truth/scenario.go:99 truth.locked", events.FrameLeave, "")
	// A scheduler stall put on a session that ate no CPU.
	stall(5, 9000, "call-4", "scheduler", 300, "", "", "")
	write(10000, events.WorkerStop{})
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}

	tr := &Truth{
		Recording: path, Threshold: 50 * time.Millisecond,
		Injected: []Injected{
			{Session: "call-1", Source: SourceMixer, Kind: KindSleep, Site: "block.go:10", Start: at(1000), End: at(1300)},
			{Session: "call-2", Source: SourceMutex, Kind: KindChan, Site: "block.go:20", Start: at(3000), End: at(3300)},
			{Session: "call-3", Source: SourceMixer, Kind: KindIO, Site: "block.go:30", Start: at(5000), End: at(5200)}, // never reported
		},
		Culprits: map[string]string{"call-1": "x", "call-2": "x", "call-3": "x", "hog": "x"},
		CPUHeavy: []string{"hog"},
		Ordinary: []string{"call-4", "call-5"},
	}
	v, err := Judge(tr)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s\n%s", v.Table(), v.Details())
	for _, c := range []struct {
		name     string
		measured string
	}{
		{FigDetected, "2 / 3"},
		{FigSession, "1 / 2"},
		{FigLine, "1 / 2"},
		{FigCause, "1 / 2"},
		{FigBlamed, "3 of 5 reported (60 %); 1 were holds of microseconds of work"},
		{FigVictims, "4 victims named"}, // not the one that says it waited for CPU, nor the finding of holds of no known cause
		{FigDispatcher, "no dispatcher"},
	} {
		f, ok := v.Figure(c.name)
		if !ok {
			t.Errorf("no figure %q", c.name)
			continue
		}
		if f.Met || f.Measured != c.measured {
			t.Errorf("%s: measured %q, met %v; want %q, not met", c.name, f.Measured, f.Met, c.measured)
		}
	}
}
