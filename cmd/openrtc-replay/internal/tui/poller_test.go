package tui

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/openrtc-go/introspect/events"
	"github.com/openrtc-go/introspect/fold"
)

// liveWorker plays the scenario as a running worker would: each fetch
// folds the records up to the next sample and returns the view the way the
// snapshot socket carries it, as JSON.
type liveWorker struct {
	lines [][]byte
	times []time.Time
	next  int
	state *fold.State
	fail  error // returned by fetch when set
}

func newLiveWorker(t *testing.T) *liveWorker {
	w := &liveWorker{lines: jsonLines(t, scenario()), state: fold.New()}
	for _, l := range w.lines {
		d, err := events.Decode(l)
		if err != nil {
			t.Fatal(err)
		}
		w.times = append(w.times, d.Time)
	}
	return w
}

// fetch advances the worker by one sample and serves its view.
func (w *liveWorker) fetch() (fold.View, error) {
	if w.fail != nil {
		return fold.View{}, w.fail
	}
	for w.next < len(w.lines) {
		kind := fold.KindOf(w.lines[w.next])
		if err := w.state.ApplyLine(w.lines[w.next]); err != nil {
			return fold.View{}, err
		}
		w.next++
		if kind == events.KindSample {
			break
		}
	}
	b, err := json.Marshal(w.state.View(w.times[w.next-1]))
	if err != nil {
		return fold.View{}, err
	}
	var v fold.View
	return v, json.Unmarshal(b, &v)
}

// skipTo advances the worker to just before its sample at s seconds.
func (w *liveWorker) skipTo(t *testing.T, s float64) {
	for w.next < len(w.lines) && w.times[w.next].Before(at(s)) {
		if err := w.state.ApplyLine(w.lines[w.next]); err != nil {
			t.Fatal(err)
		}
		w.next++
	}
}

func TestPollerNoWorker(t *testing.T) {
	noWorker := errors.New("no worker at /tmp/x.sock")
	_, err := NewPoller(func() (fold.View, error) { return fold.View{}, noWorker })
	if !errors.Is(err, noWorker) {
		t.Fatalf("NewPoller = %v, want the fetch's error", err)
	}
}

func TestLiveScreen(t *testing.T) {
	w := newLiveWorker(t)
	w.skipTo(t, 29)
	p, err := NewPoller(w.fetch)
	if err != nil {
		t.Fatal(err)
	}
	// Init refreshes once at once: the screen shows 30s.
	h := newHarness(t, p, Options{Sort: fold.SortSession, RefreshRate: 2})
	h.contains("● live 2 Hz", "03:12:30", "sessions 4/50")
	h.lacks("03:14:00", "+30s of") // no strip, no place in a recording
	for _, k := range []string{"t", "T", "right", "j", "[", "]", "g", "G", "space", "+"} {
		h.press(k)
		if !strings.Contains(h.last(), "live view: no time travel") {
			t.Errorf("%s on a live view: %q", k, h.last())
		}
		if h.m.prompt != nil {
			t.Fatalf("%s opened a prompt on a live view", k)
		}
	}
	h.contains("03:12:30")

	// The periodic refresh and r both fetch; the stall at 30.5s shows.
	h.send(refreshTickMsg{})
	h.contains("03:12:31", "slow")
	h.press("r")
	h.contains("03:12:32")

	// Drill-down shows the polls of the session so far; frames live in
	// the recording.
	h.press("home", "down", "enter")
	h.contains("session call-b · drill-down", "stalls 1 · worst 320ms", "openrtc-replay slow --session call-b")
	if n := len(h.m.drill.tl.Points); n != 4 {
		t.Errorf("drill-down of call-b has %d points, want the 4 polls (29s to 32s)", n)
	}
	h.send(refreshTickMsg{}) // a refresh reloads the drill-down too
	if n := len(h.m.drill.tl.Points); n != 5 {
		t.Errorf("after a refresh, %d points, want 5", n)
	}
	h.press("esc")

	// A failing worker: the screen says so and keeps the last view.
	w.fail = errors.New("snapshot socket: connection refused")
	h.press("r")
	h.contains("✕ disconnected", "connection refused")
	h.contains("03:12:33")
	h.press("q")
	if !h.quit {
		t.Error("q did not quit the live screen")
	}
}

func TestPollerHistoryBounded(t *testing.T) {
	w := newLiveWorker(t)
	w.skipTo(t, 2)
	base, err := w.fetch()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	p, err := NewPoller(func() (fold.View, error) {
		v := base
		v.Time = v.Time.Add(time.Duration(n) * time.Second)
		n++
		if n > 10 {
			v.Sessions = v.Sessions[1:] // call-a leaves the view
		}
		return v, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for range PollerHistory + 50 {
		if err := p.Refresh(); err != nil {
			t.Fatal(err)
		}
	}
	tl, err := p.Timeline("call-b")
	if err != nil {
		t.Fatal(err)
	}
	if len(tl.Points) != PollerHistory {
		t.Errorf("%d points kept, want %d", len(tl.Points), PollerHistory)
	}
	if _, err := p.Timeline("call-a"); err == nil {
		t.Error("a session that left the view still has a timeline")
	}
	if len(p.hist) != len(p.View().Sessions) {
		t.Errorf("history of %d sessions, %d in view", len(p.hist), len(p.View().Sessions))
	}
	// A poll that brings no new sample adds no point.
	before := len(tl.Points)
	n--
	p.Refresh()
	tl, _ = p.Timeline("call-b")
	if len(tl.Points) != before {
		t.Errorf("a repeated sample added a point: %d, was %d", len(tl.Points), before)
	}
}

// TestLiveHealth: the header says when the worker stops answering, when
// its socket refuses, and when another process answers; never a green
// "live" over a view that no longer comes.
func TestLiveHealth(t *testing.T) {
	w := newLiveWorker(t)
	w.skipTo(t, 29)
	pid, restarted := 100, false
	p, err := NewPollerInfo(func() (fold.View, PollInfo, error) {
		v, err := w.fetch()
		return v, PollInfo{PID: pid, Restarted: restarted}, err
	})
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, p, Options{})
	h.contains("● live 1 Hz")

	// A refresh that does not come back: stale after a few seconds.
	h.m.refreshing, h.m.liveAsked = true, h.wall
	h.wall = h.wall.Add(7 * time.Second)
	h.contains("◌ stale: no answer for 7s")
	h.lacks("● live")
	h.m.refreshing = false

	// A refused socket: disconnected, with the moment still shown.
	w.fail = errors.New("dial unix /run/w.sock: connect: connection refused")
	h.press("r")
	h.contains("✕ disconnected 0s ago (connection refused); showing 03:12:30")
	h.wall = h.wall.Add(5 * time.Second)
	h.press("r")
	h.contains("✕ disconnected 5s ago")

	// Another process answers: restarted, with both pids, and the error
	// is gone.
	w.fail, pid, restarted = nil, 200, true
	h.press("r")
	h.contains("↻ restarted at", "pid 100 → 200")
	h.lacks("disconnected", "connection refused")
	restarted = false
	h.wall = h.wall.Add(2 * time.Minute)
	h.press("r")
	h.contains("● live 1 Hz")
}
