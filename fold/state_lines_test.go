package fold_test

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/openrtc-go/introspect/events"
	"github.com/openrtc-go/introspect/fold"
)

// The live view folds typed events (State.Apply), the replay folds their
// JSON lines (State.ApplyLine, the report's pipeline): the same events give
// the same views and keyframes, event after event. Samples name sessions
// that are not live, keyframes reload the state, and the worker restarts.
func TestTypedAndLinesFoldAlike(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	typed, lines := fold.New(), fold.New()
	typed.KeepEnded, lines.KeepEnded = true, true
	report := fold.NewReport()
	var ids []string
	next := 0
	at := time.Duration(0)
	for step := range 3000 {
		at += time.Duration(1+rng.IntN(400)) * time.Millisecond
		var e events.Event
		switch op := rng.IntN(100); {
		case step == 0 || op == 0:
			e = events.WorkerStart{Worker: "w", Config: events.Config{SlowWindow: time.Duration(1+rng.IntN(5)) * time.Second}}
		case op < 15:
			id := "job-" + strconv.Itoa(next)
			next++
			ids = append(ids, id)
			e = events.SessionStart{SessionID: id, Agent: "a" + strconv.Itoa(next%3)}
		case op < 25 && len(ids) > 0:
			i := rng.IntN(len(ids))
			e = events.SessionEnd{SessionID: ids[i], Outcome: []string{events.OutcomeOK, events.OutcomeError}[rng.IntN(2)]}
			ids = append(ids[:i], ids[i+1:]...)
		case op < 30 && len(ids) > 0:
			e = events.SlowSession{StallID: uint64(1 + rng.IntN(20)), SessionID: ids[rng.IntN(len(ids))], Source: "loop",
				Blocked: time.Duration(rng.IntN(900)) * time.Millisecond, Ongoing: rng.IntN(2) == 0, Confidence: 1}
		case op < 33:
			e = typed.Keyframe(t0.Add(at))
		default:
			e = randomSample(rng, ids, next)
		}
		typed.Apply(events.Decoded{Time: t0.Add(at), Level: e.Level(), Kind: e.Kind(), V: events.SchemaVersion, Event: e})
		l := line(t, at, e)
		if err := lines.ApplyLine(l); err != nil {
			t.Fatal(err)
		}
		if err := report.Line(l); err != nil {
			t.Fatal(err)
		}
		now := t0.Add(at)
		if a, b := viewJSON(t, typed.View(now)), viewJSON(t, lines.View(now)); !bytes.Equal(a, b) {
			t.Fatalf("step %d (%s): views differ\ntyped %s\nlines %s", step, e.Kind(), a, b)
		}
		if a, b := jsonOf(t, typed.Keyframe(now)), jsonOf(t, lines.Keyframe(now)); !bytes.Equal(a, b) {
			t.Fatalf("step %d (%s): keyframes differ\ntyped %s\nlines %s", step, e.Kind(), a, b)
		}
	}
	want := typed.AllRows(typed.Now())
	for _, rows := range [][]fold.Row{lines.AllRows(lines.Now()), report.Rows()} {
		if len(rows) != len(want) {
			t.Fatalf("%d rows, the typed fold has %d", len(rows), len(want))
		}
		for i := range want {
			if a, b := jsonOf(t, want[i]), jsonOf(t, rows[i]); !bytes.Equal(a, b) {
				t.Fatalf("row %d differs from the typed fold's\ntyped %s\n  got %s", i, a, b)
			}
		}
	}
}

// randomSample is a sample whose CPU window and goroutine counts name some
// live sessions and a few that are not.
func randomSample(rng *rand.Rand, live []string, next int) events.Sample {
	e := events.Sample{RSSBytes: uint64(rng.IntN(1 << 32)), Sessions: len(live), Goroutines: 10,
		Runnable: -1, Running: -1, Waiting: -1}
	pick := func() string {
		if len(live) == 0 || rng.IntN(10) == 0 {
			return "job-" + strconv.Itoa(rng.IntN(next+3)) // perhaps ended, perhaps never started
		}
		return live[rng.IntN(len(live))]
	}
	if rng.IntN(4) > 0 {
		w := events.CPUWindow{Duration: time.Second, Period: 10 * time.Millisecond, Total: int64(1 + rng.IntN(300))}
		if rng.IntN(10) == 0 {
			w.Unavailable = "profiler busy"
		}
		w.Sessions = map[string]int64{}
		for range rng.IntN(8) {
			w.Sessions[pick()] = int64(1 + rng.IntN(int(w.Total)))
		}
		e.CPU = w
	}
	if rng.IntN(3) == 0 {
		e.GoroutinesBySession = map[string]int{}
		for range rng.IntN(5) {
			e.GoroutinesBySession[pick()] = rng.IntN(40)
		}
	}
	return e
}

func jsonOf(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
