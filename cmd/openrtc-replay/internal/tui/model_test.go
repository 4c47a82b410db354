package tui

import (
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/openrtc-go/introspect/fold"
)

// harness drives a model the way Bubble Tea does, but synchronously: it
// runs the commands that call the source at once, and replaces timers
// with nothing, so tests send the ticks themselves.
type harness struct {
	t    *testing.T
	m    *model
	quit bool
	wall time.Time // the clock playback reads
}

func newHarness(t *testing.T, src Source, opts Options) *harness {
	t.Helper()
	if opts.Width == 0 {
		opts.Width, opts.Height = 140, 30
	}
	h := &harness{t: t, wall: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	h.m = newModel(src, opts)
	h.m.tick = func(time.Duration, func(time.Time) tea.Msg) tea.Cmd { return nil }
	h.m.now = func() time.Time { return h.wall }
	h.run(h.m.Init())
	return h
}

// run executes cmd and feeds what it returns back to the model.
func (h *harness) run(cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	switch msg := cmd().(type) {
	case nil:
	case tea.QuitMsg:
		h.quit = true
	case tea.BatchMsg:
		for _, c := range msg {
			h.run(c)
		}
	default:
		h.send(msg)
	}
}

func (h *harness) send(msg tea.Msg) {
	_, cmd := h.m.Update(msg)
	h.run(cmd)
}

// keyMsg builds the key press a terminal sends for the key named s, in
// the names tea.Key.String uses.
func keyMsg(s string) tea.KeyPressMsg {
	named := map[string]rune{
		"enter": tea.KeyEnter, "esc": tea.KeyEscape, "up": tea.KeyUp, "down": tea.KeyDown,
		"left": tea.KeyLeft, "right": tea.KeyRight, "backspace": tea.KeyBackspace,
		"pgup": tea.KeyPgUp, "pgdown": tea.KeyPgDown, "home": tea.KeyHome, "end": tea.KeyEnd,
	}
	if c, ok := named[s]; ok {
		return tea.KeyPressMsg{Code: c}
	}
	switch s {
	case "space":
		return tea.KeyPressMsg{Code: tea.KeySpace, Text: " "}
	case "ctrl+c":
		return tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}
	}
	r := []rune(s)[0]
	return tea.KeyPressMsg{Code: r, Text: s}
}

// press sends keys, each a key name or, for text, its characters.
func (h *harness) press(keys ...string) {
	for _, k := range keys {
		h.send(keyMsg(k))
	}
}

// typeText types s into a prompt.
func (h *harness) typeText(s string) {
	for _, r := range s {
		h.send(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
}

// screen is the rendered view without styles.
func (h *harness) screen() string {
	return ansi.Strip(h.m.View().Content)
}

func (h *harness) contains(want ...string) {
	h.t.Helper()
	s := h.screen()
	for _, w := range want {
		if !strings.Contains(s, w) {
			h.t.Errorf("screen lacks %q:\n%s", w, s)
		}
	}
}

func (h *harness) lacks(unwanted ...string) {
	h.t.Helper()
	s := h.screen()
	for _, w := range unwanted {
		if strings.Contains(s, w) {
			h.t.Errorf("screen shows %q:\n%s", w, s)
		}
	}
}

// tableOrder returns the session ids in the order the table shows them.
func (h *harness) tableOrder() []string {
	var ids []string
	for _, l := range strings.Split(h.screen(), "\n") {
		if f := strings.Fields(l); len(f) > 0 && strings.HasPrefix(f[0], "call-") {
			ids = append(ids, f[0])
		}
	}
	return ids
}

// status is the footer's first line: the sort and filters in force.
func (h *harness) status() string {
	lines := strings.Split(h.screen(), "\n")
	return lines[len(lines)-2]
}

// last is the footer's last line: a note, the prompt or the key hints.
func (h *harness) last() string {
	lines := strings.Split(h.screen(), "\n")
	return lines[len(lines)-1]
}

func (h *harness) seek(s float64) {
	h.t.Helper()
	h.m.note = ""
	h.m.seek(at(s))
	if h.m.note != "" {
		h.t.Fatalf("seek: %s", h.m.note)
	}
}

// sources runs a test over each Source the package is tested with: the
// scenario folded in memory, and the real cursor over the scenario
// written as a log file.
func sources(t *testing.T, test func(t *testing.T, src Source)) {
	lines := jsonLines(t, scenario())
	t.Run("fold", func(t *testing.T) { test(t, newFoldSource(t, lines)) })
	t.Run("cursor", func(t *testing.T) { test(t, openCursor(t, writeJSONL(t, lines))) })
}

func sameOrder(a, b []string) bool { return strings.Join(a, ",") == strings.Join(b, ",") }

func TestSortCycle(t *testing.T) {
	sources(t, func(t *testing.T, src Source) {
		h := newHarness(t, src, Options{})
		h.seek(40) // a 50 cpu, d 20, b 10; c ended at 33s and left the view
		want := map[string]struct {
			head  string
			order []string
		}{
			fold.SortAttention:  {"sort attention ·", []string{"call-b", "call-a", "call-d"}}, // stalled, then by cpu%
			fold.SortMem:        {"mem(MiB)▼", []string{"call-a", "call-b", "call-d"}},        // equal shares: by id
			fold.SortCPU:        {"cpu%▼", []string{"call-a", "call-d", "call-b"}},
			fold.SortDuration:   {"dur(s)▼", []string{"call-a", "call-b", "call-d"}},
			fold.SortAgent:      {"agent▲", []string{"call-d", "call-a", "call-b"}}, // video < voice
			fold.SortSession:    {"session▲", []string{"call-a", "call-b", "call-d"}},
			fold.SortCPUSeconds: {"cpu_s▼", []string{"call-a", "call-d", "call-b"}},
			fold.SortStalls:     {"stalls▼", []string{"call-b", "call-a", "call-d"}},
			fold.SortGoroutines: {"gor▼", []string{"call-d", "call-a", "call-b"}},
		}
		for i := 0; i <= len(fold.SortKeys); i++ {
			key := fold.SortKeys[i%len(fold.SortKeys)]
			w := want[key]
			if !strings.Contains(h.status(), "sort "+key+" ") {
				t.Errorf("after %d presses of s: status %q, want sort %s", i, h.status(), key)
			}
			h.contains(w.head)
			if got := h.tableOrder(); !sameOrder(got, w.order) {
				t.Errorf("sort %s: order %v, want %v", key, got, w.order)
			}
			h.press("s")
		}
	})
}

func TestStatusFilterCycle(t *testing.T) {
	sources(t, func(t *testing.T, src Source) {
		h := newHarness(t, src, Options{})
		h.seek(34) // b slow since 30.5s, c errored at 33s
		want := []struct {
			filter string
			order  []string
		}{
			{"all", []string{"call-a", "call-b", "call-c", "call-d"}},
			{"active", []string{"call-a", "call-b", "call-c", "call-d"}[0:0]},
			{"slow", []string{"call-b"}},
			{"draining", nil},
			{"errored", []string{"call-c"}},
			{"ended", nil}, // call-c errored: not ended
			{"all", []string{"call-a", "call-b", "call-c", "call-d"}},
		}
		want[1].order = []string{"call-a", "call-d"}
		h.press("s", "s", "s", "s", "s") // by session, so the order is plain
		for i, w := range want {
			if !strings.Contains(h.status(), "status "+w.filter+" ") {
				t.Errorf("step %d: status line %q, want status %s", i, h.status(), w.filter)
			}
			if got := h.tableOrder(); !sameOrder(got, w.order) {
				t.Errorf("filter %s: rows %v, want %v", w.filter, got, w.order)
			}
			if len(w.order) == 0 {
				h.contains("none of the 4 sessions match")
			}
			h.press("f")
		}
	})
}

func TestSlowRowsHighlighted(t *testing.T) {
	lines := jsonLines(t, scenario())
	h := newHarness(t, newFoldSource(t, lines), Options{Sort: fold.SortSession})
	h.seek(34)
	h.press("home", "down") // select call-b, the slow one
	var slowLine, plainLine string
	for _, l := range strings.Split(h.m.View().Content, "\n") {
		switch {
		case strings.Contains(l, "call-b"):
			slowLine = l
		case strings.Contains(l, "call-d"):
			plainLine = l
		}
	}
	if slowLine == ansi.Strip(slowLine) {
		t.Errorf("the slow row is not styled: %q", slowLine)
	}
	if plainLine != ansi.Strip(plainLine) {
		t.Errorf("an active, unselected row is styled: %q", plainLine)
	}
}

func TestStepping(t *testing.T) {
	sources(t, func(t *testing.T, src Source) {
		h := newHarness(t, src, Options{})
		h.contains("03:14:00", "+2m00s of 2m00s") // opens at the end
		h.press("g")                              // the first sample, at +1s: the worker's start has no figures
		h.contains("03:12:01 ·", "+1s of 2m00s")
		h.lacks("RSS 0.0")
		h.press("t")
		h.contains("03:12:02", "+2s of")
		h.press("t", "right", "t")
		h.contains("03:12:05", "+5s of")
		h.press("T")
		h.contains("03:12:04", "+4s of")
		h.press("left", "left", "left", "left")
		h.contains("+1s of")
		h.press("T")
		h.contains("+1s of")
		if !strings.Contains(h.last(), "start of the recording") {
			t.Errorf("T at the start: last line %q", h.last())
		}
		h.press("G")
		h.contains("+2m00s of")
		h.press("t")
		if !strings.Contains(h.last(), "end of the recording") {
			t.Errorf("t at the end: last line %q", h.last())
		}
		// The header follows the fold: 3 sessions (a, b, d) of 50 at 40s.
		h.seek(40)
		h.contains("sessions 3/50", "RSS 440.0 MiB", "sched p99 3.00ms", "cpu 1.00 cores, 80.0% of it in sessions")
	})
}

func TestJumpToStalls(t *testing.T) {
	sources(t, func(t *testing.T, src Source) {
		h := newHarness(t, src, Options{Sort: fold.SortSession})
		strip := strings.Split(h.screen(), "\n")[3]
		if n := strings.Count(strip, "▲"); n != 2 {
			t.Errorf("timeline strip marks %d stalls, want 2: %q", n, strip)
		}
		h.press("g", "]")
		h.contains("03:12:30")
		if !strings.Contains(h.last(), "stall 1/2") || !strings.Contains(h.last(), "room/mixer.go:88") {
			t.Errorf("first stall: last line %q", h.last())
		}
		if h.m.selID != "call-b" {
			t.Errorf("selected %q at the first stall, want call-b, the holder", h.m.selID)
		}
		h.press("]")
		h.contains("03:13:20")
		if !strings.Contains(h.last(), "stall 2/2") || !strings.Contains(h.last(), "scheduler") {
			t.Errorf("second stall: last line %q", h.last())
		}
		if h.m.selID != "call-a" {
			t.Errorf("selected %q at the second stall, want call-a", h.m.selID)
		}
		h.press("]")
		if !strings.Contains(h.last(), "no later stall") {
			t.Errorf("] after the last stall: %q", h.last())
		}
		h.press("[")
		if !strings.Contains(h.last(), "stall 1/2") {
			t.Errorf("[ from the second stall: %q", h.last())
		}
		h.press("[")
		if !strings.Contains(h.last(), "no earlier stall") {
			t.Errorf("[ before the first stall: %q", h.last())
		}
		// From the end, [ finds the last stall.
		h.press("G", "[")
		if !strings.Contains(h.last(), "stall 2/2") {
			t.Errorf("[ from the end: %q", h.last())
		}
	})
}

func TestDrillDownAndBack(t *testing.T) {
	sources(t, func(t *testing.T, src Source) {
		h := newHarness(t, src, Options{Sort: fold.SortSession})
		h.seek(34)
		h.press("home", "down", "enter")
		h.contains("session call-b · drill-down", "agent voice · tenant -", "cpu%", "mem MiB",
			"stalls 1 at 1 place · worst 320ms", "room/mixer.go:88 mixer.(*Room).mix", "room/loop.go:40", "▲ 03:12:34")
		h.lacks("dur(s)")
		h.press("esc")
		h.contains("dur(s)", "call-b", "call-d")
		h.lacks("drill-down")

		// An ended session: its life ends at its end.
		h.press("home", "enter")
		h.contains("session call-a · drill-down", "stalls 1", "opus.Encode")
		h.press("esc", "home", "down", "down", "enter")
		h.contains("session call-c", "ended 03:12:33 (error)", "stalls 0", "none")
		h.press("q")
		if !h.quit {
			t.Error("q in the drill-down did not quit")
		}
	})
}

func TestDrillDownTimeKeysMoveMarker(t *testing.T) {
	lines := jsonLines(t, scenario())
	h := newHarness(t, newFoldSource(t, lines), Options{Sort: fold.SortSession})
	h.seek(20)
	h.press("home", "enter")
	h.contains("session call-a", "▲ 03:12:20", "now 50.0")
	h.press("t")
	h.contains("▲ 03:12:21")
	h.seek(70)
	h.contains("▲ 03:13:10", "now 5.0")
}

func TestHelp(t *testing.T) {
	lines := jsonLines(t, scenario())
	h := newHarness(t, newFoldSource(t, lines), Options{})
	h.press("?")
	h.contains("keys", "time travel", "jump forward/back", "previous/next stall", "mem_mb → cpu_pct → duration_s → agent → session")
	h.lacks("dur(s)")
	h.press("?")
	h.contains("dur(s)")
	h.press("?", "esc")
	h.contains("dur(s)")
	h.press("?", "q")
	if !h.quit {
		t.Error("q on the help page did not quit")
	}
}

func TestTextFilter(t *testing.T) {
	lines := jsonLines(t, scenario())
	h := newHarness(t, newFoldSource(t, lines), Options{Sort: fold.SortSession})
	h.seek(20)
	h.press("/")
	if !strings.Contains(h.last(), "filter (session, agent, tenant): ") {
		t.Fatalf("/ opened no prompt: %q", h.last())
	}
	h.typeText("acme")
	if got := h.tableOrder(); !sameOrder(got, []string{"call-a", "call-d"}) {
		t.Errorf("typing acme: rows %v", got)
	}
	h.press("backspace", "backspace", "backspace", "backspace")
	h.typeText("chat")
	h.press("enter")
	if got := h.tableOrder(); !sameOrder(got, []string{"call-c"}) {
		t.Errorf("filter chat: rows %v", got)
	}
	if !strings.Contains(h.status(), `text "chat"`) || !strings.Contains(h.status(), "1 of 4 sessions") {
		t.Errorf("status line %q", h.status())
	}
	// esc in the prompt restores the filter as it was.
	h.press("/")
	h.typeText("zzz")
	if got := h.tableOrder(); len(got) != 0 {
		t.Errorf("filter chatzzz: rows %v", got)
	}
	h.press("esc")
	if got := h.tableOrder(); !sameOrder(got, []string{"call-c"}) {
		t.Errorf("after esc in the prompt: rows %v", got)
	}
	// esc on the table clears it.
	h.press("esc")
	if got := h.tableOrder(); len(got) != 4 {
		t.Errorf("after esc: rows %v", got)
	}
	// Keys typed into the prompt are text, not commands.
	h.press("/")
	h.typeText("q")
	if h.quit {
		t.Error("q typed in the filter quit")
	}
	h.press("enter")
}

func TestJumpPrompt(t *testing.T) {
	sources(t, func(t *testing.T, src Source) {
		h := newHarness(t, src, Options{})
		h.seek(0)
		steps := []struct {
			key, text string
			want      string // on screen after
		}{
			{"j", "30s", "+30s of"},
			{"J", "10s", "+20s of"},
			{"j", "03:13:10", "+1m10s of"},
			{"j", "+90s", "+1m30s of"},
			{"J", "-5s", "+1m55s of"},
			{"j", "1h", "+2m00s of"}, // a move from now stops at the end
			{"J", "2026-11-27T03:12:07Z", "+7s of"},
			{"j", "5", "+12s of"},
		}
		for _, s := range steps {
			h.press(s.key)
			if !strings.Contains(h.last(), "jump") {
				t.Fatalf("%s opened no prompt: %q", s.key, h.last())
			}
			h.typeText(s.text)
			h.press("enter")
			h.contains(s.want)
		}
		for _, bad := range []struct{ text, want string }{
			{"soon", "want a duration"},
			{"05:00:00", "outside the recording"},
			{"+1h", "outside the recording"},
		} {
			h.press("j")
			h.typeText(bad.text)
			h.press("enter")
			if !strings.Contains(h.last(), bad.want) {
				t.Errorf("j %s: last line %q, want %q", bad.text, h.last(), bad.want)
			}
			h.contains("+12s of") // and the cursor stays
		}
		h.press("j")
		h.typeText("xx")
		h.press("esc")
		h.contains("+12s of")
	})
}

func TestPlay(t *testing.T) {
	lines := jsonLines(t, scenario())
	h := newHarness(t, newFoldSource(t, lines), Options{})
	h.seek(0)
	h.press("space")
	h.contains("▶ 1×")
	h.wall = h.wall.Add(2 * time.Second)
	h.send(playTickMsg{gen: h.m.playGen})
	h.contains("+2s of")
	h.press("+", "+") // 5×
	if !strings.Contains(h.last(), "play speed 5×") {
		t.Errorf("+ +: %q", h.last())
	}
	h.wall = h.wall.Add(2 * time.Second)
	h.send(playTickMsg{gen: h.m.playGen})
	h.contains("+12s of", "▶ 5×")
	h.press("-")
	h.contains("▶ 2×")
	// A key that moves the cursor moves playback with it.
	h.press("t")
	h.wall = h.wall.Add(time.Second)
	h.send(playTickMsg{gen: h.m.playGen})
	h.contains("+15s of")
	// A tick of an earlier play is ignored.
	h.press("space")
	h.contains("⏸ 2×")
	h.press("space")
	h.wall = h.wall.Add(time.Second)
	h.send(playTickMsg{gen: h.m.playGen - 1})
	h.contains("+15s of")
	// Playing to the end stops.
	h.wall = h.wall.Add(time.Hour)
	h.send(playTickMsg{gen: h.m.playGen})
	h.contains("+2m00s of", "⏸")
	if h.m.playing {
		t.Error("still playing at the end")
	}
	h.press("space")
	if !strings.Contains(h.last(), "at the end") {
		t.Errorf("space at the end: %q", h.last())
	}
}

func TestSelectionFollowsSession(t *testing.T) {
	lines := jsonLines(t, scenario())
	h := newHarness(t, newFoldSource(t, lines), Options{Sort: fold.SortSession})
	h.seek(40)
	h.press("home", "down", "down") // call-d
	if h.m.selID != "call-d" {
		t.Fatalf("selected %q", h.m.selID)
	}
	h.press("s") // cpu_seconds: d moves
	if h.m.rows[h.m.sel].SessionID != "call-d" {
		t.Errorf("after re-sorting, selection is on %q", h.m.rows[h.m.sel].SessionID)
	}
	h.press("t", "t")
	if h.m.rows[h.m.sel].SessionID != "call-d" {
		t.Errorf("after stepping, selection is on %q", h.m.rows[h.m.sel].SessionID)
	}
}

func TestInitialOptions(t *testing.T) {
	lines := jsonLines(t, scenario())
	h := newHarness(t, newFoldSource(t, lines), Options{Sort: fold.SortCPU, Status: fold.StatusSlow, Agent: "voice", Title: "scenario.jsonl"})
	h.seek(34)
	if got := h.tableOrder(); !sameOrder(got, []string{"call-b"}) {
		t.Errorf("rows %v", got)
	}
	for _, w := range []string{"sort cpu_pct ▼", "status slow", "agent voice", "1 of 4 sessions"} {
		if !strings.Contains(h.status(), w) {
			t.Errorf("status line %q lacks %q", h.status(), w)
		}
	}
	h.contains("worker w1 · scenario.jsonl")
	h.press("f")
	if !strings.Contains(h.status(), "status draining") {
		t.Errorf("f after slow: %q", h.status())
	}
	if err := (Options{Sort: "bogus"}).validate(); err == nil {
		t.Error("a bad sort key was accepted")
	}
	if err := (Options{Status: "bogus"}).validate(); err == nil {
		t.Error("a bad status filter was accepted")
	}

	// --status ended is not in the f cycle; f goes on to all.
	h = newHarness(t, newFoldSource(t, lines), Options{Status: fold.StatusEnded})
	h.seek(34)
	if got := h.tableOrder(); !sameOrder(got, nil) || !strings.Contains(h.status(), "status ended ") {
		t.Errorf("status ended at 34s: rows %v, status %q", got, h.status())
	}
	h.seek(102) // call-a ended ok at 100s
	if got := h.tableOrder(); !sameOrder(got, []string{"call-a"}) {
		t.Errorf("status ended at 102s: rows %v", got)
	}
	h.press("f")
	if !strings.Contains(h.status(), "status all ") {
		t.Errorf("f after ended: %q", h.status())
	}
}

func TestScreenFits(t *testing.T) {
	lines := jsonLines(t, scenario())
	for _, size := range [][2]int{{1, 1}, {20, 5}, {40, 10}, {80, 24}, {240, 70}} {
		h := newHarness(t, newFoldSource(t, lines), Options{Width: size[0], Height: size[1]})
		for _, keys := range [][]string{nil, {"g", "]"}, {"enter"}, {"esc", "?"}, {"esc", "/"}} {
			h.press(keys...)
			rows := strings.Split(h.screen(), "\n")
			if len(rows) > size[1] {
				t.Errorf("%v after %v: %d lines", size, keys, len(rows))
			}
			for _, r := range rows {
				if w := ansi.StringWidth(r); w > size[0] {
					t.Errorf("%v after %v: line %d cells wide: %q", size, keys, w, r)
				}
			}
		}
		h.send(tea.WindowSizeMsg{Width: 100, Height: 30})
		if h.m.width != 100 {
			t.Error("resize ignored")
		}
	}
}

func TestLocation(t *testing.T) {
	lines := jsonLines(t, scenario())
	cet := time.FixedZone("CET", 3600)
	h := newHarness(t, newFoldSource(t, lines), Options{Location: cet})
	h.contains("2026-11-27 04:14:00", "04:12:00 ─") // the header and the strip's ends
	h.press("j")
	h.typeText("04:13:10") // typed in the zone shown
	h.press("enter")
	h.contains("+1m10s of")
	h.press("g", "]")
	if !strings.Contains(h.last(), "04:12:30 call-b held room") {
		t.Errorf("stall note: %q", h.last())
	}
}

// TestClearFilters: --agent and --tenant are filters like the others: x
// clears every one, esc the text and then them.
func TestClearFilters(t *testing.T) {
	lines := jsonLines(t, scenario())
	h := newHarness(t, newFoldSource(t, lines), Options{Agent: "voice", Tenant: "acme", Sort: fold.SortSession})
	h.seek(34)
	if got := h.tableOrder(); !sameOrder(got, []string{"call-a"}) {
		t.Fatalf("--agent voice --tenant acme: rows %v", got)
	}
	h.press("x")
	if got := h.tableOrder(); len(got) != 4 || strings.Contains(h.status(), "agent voice") {
		t.Errorf("after x: rows %v, status %q", got, h.status())
	}
	h = newHarness(t, newFoldSource(t, lines), Options{Agent: "voice", Sort: fold.SortSession})
	h.seek(34)
	h.press("/")
	h.typeText("call-b")
	h.press("enter", "esc")
	if got := h.tableOrder(); !sameOrder(got, []string{"call-a", "call-b"}) {
		t.Errorf("esc clears the text first: rows %v", got)
	}
	h.press("esc")
	if got := h.tableOrder(); len(got) != 4 {
		t.Errorf("esc again clears --agent: rows %v", got)
	}
}

// TestSortKeysAndReverse: < and > step through the sort keys, I reverses
// the order and the column head's arrow, and the picker sorts by number.
func TestSortKeysAndReverse(t *testing.T) {
	lines := jsonLines(t, scenario())
	h := newHarness(t, newFoldSource(t, lines), Options{Sort: fold.SortCPU})
	h.seek(40)
	h.contains("cpu%▼")
	h.press("I")
	h.contains("cpu%▲", "sort cpu_pct ▲")
	if got := h.tableOrder(); !sameOrder(got, []string{"call-b", "call-d", "call-a"}) {
		t.Errorf("cpu_pct reversed: %v", got)
	}
	h.press(">")
	h.contains("sort duration_s ▲")
	h.press("<", "<")
	h.contains("sort mem_mb ▲")
	h.press("o")
	h.contains("sort by", "goroutines")
	h.press("9")
	h.contains("gor▼", "sort goroutines ▼")
	if got := h.tableOrder(); !sameOrder(got, []string{"call-d", "call-a", "call-b"}) {
		t.Errorf("goroutines from the picker: %v", got)
	}
}
