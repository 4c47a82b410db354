package fold

import (
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/openrtc-go/introspect/events"
)

// TestPeakMatchesEverySample holds the peak series to the definition it
// replaces: at every sample, raise the peak of every live session to the
// share. Sessions start and end at random, RSS wanders and falls for long
// stretches (so the stack settles more than once), and a keyframe now and
// then reloads the sessions with their peaks.
func TestPeakMatchesEverySample(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	s := New()
	s.KeepEnded = true
	want := map[string]uint64{} // the definition, kept by hand
	live := map[string]bool{}
	t0 := time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC)
	at := t0
	apply := func(e events.Event) {
		at = at.Add(time.Millisecond)
		s.Apply(events.Decoded{Time: at, Kind: e.Kind(), V: events.SchemaVersion, Event: e})
	}
	apply(events.WorkerStart{Worker: "w"})
	rss := uint64(1 << 30)
	next := 0
	check := func(what string) {
		t.Helper()
		for _, r := range s.AllRows(at) {
			if got, w := r.PeakBytes, want[r.SessionID]; got != w {
				t.Fatalf("%s: %s peak %v bytes, want %v", what, r.SessionID, got, w)
			}
		}
	}
	settled := 0
	for step := range 12000 {
		prev := len(s.peaks.stack)
		// Long falls, in which sessions start but none ends, grow the
		// stack past its bound; the rest is a random walk.
		falling := step%6000 < 5000
		switch op := rng.IntN(100); {
		case op < 4 || len(live) == 0:
			id := "s" + strconv.Itoa(next)
			next++
			live[id], want[id] = true, 0
			apply(events.SessionStart{SessionID: id})
		case op < 10 && !falling:
			for id := range live {
				delete(live, id)
				apply(events.SessionEnd{SessionID: id, Outcome: events.OutcomeOK})
				break
			}
		case op == 10:
			apply(s.Keyframe(at))
			check("keyframe")
		default:
			if falling {
				rss -= uint64(rng.IntN(1 << 16))
			} else {
				rss += uint64(rng.IntN(1 << 20))
			}
			share := rss / uint64(len(live))
			for id := range live {
				want[id] = max(want[id], share)
			}
			apply(events.Sample{RSSBytes: rss, Sessions: len(live), Runnable: -1, Running: -1, Waiting: -1})
		}
		if prev == maxShareStack && len(s.peaks.stack) == 1 {
			settled++
		}
		if len(s.peaks.stack) > maxShareStack {
			t.Fatalf("step %d: %d suffix maxima kept, bound %d", step, len(s.peaks.stack), maxShareStack)
		}
		if step%997 == 0 {
			check("step " + strconv.Itoa(step))
		}
	}
	check("end")
	if s.peaks.n < 2*maxShareStack || settled == 0 {
		t.Fatalf("%d samples, the stack settled %d times: the test misses its point", s.peaks.n, settled)
	}
}

// The series is bounded however long the shares keep falling.
func TestPeakSeriesBounded(t *testing.T) {
	s := New()
	t0 := time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC)
	s.Apply(events.Decoded{Time: t0, Event: events.SessionStart{SessionID: "a"}})
	for i := range 10 * maxShareStack {
		at := t0.Add(time.Duration(i+1) * time.Second)
		s.Apply(events.Decoded{Time: at, Event: events.Sample{RSSBytes: uint64(1<<40 - i), Sessions: 1}})
	}
	if n := len(s.peaks.stack); n > maxShareStack {
		t.Fatalf("%d suffix maxima kept, bound %d", n, maxShareStack)
	}
	if got := s.View(s.Now()).Sessions[0].PeakMB; got != float64(1<<40)/mib {
		t.Fatalf("peak %v MiB, want the first share", got)
	}
}
