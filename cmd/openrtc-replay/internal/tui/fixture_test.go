package tui

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/openrtc-go/introspect/fixtures"
)

// fixture returns the path of a committed recording, written by the real
// recorder.
func fixture(name string) string {
	return filepath.Join("..", "..", "..", "..", "fixtures", name)
}

// TestFixtureStalls walks the stalls of a real recording through the real
// cursor: each ] lands on the next stall, selects its session and names
// its frame; enter shows the session's life with that frame.
func TestFixtureStalls(t *testing.T) {
	cur := openCursor(t, fixture(fixtures.Stalls))
	stalls, err := cur.Stalls()
	if err != nil {
		t.Fatal(err)
	}
	if len(stalls) < 2 {
		t.Fatalf("%s holds %d stalls; the test wants a few", fixtures.Stalls, len(stalls))
	}
	h := newHarness(t, cur, Options{Title: fixtures.Stalls})
	strip := strings.Split(h.screen(), "\n")[3]
	if !strings.Contains(strip, "▲") || !strings.Contains(strip, "●") {
		t.Errorf("timeline strip without stalls or cursor: %q", strip)
	}
	h.press("g")
	for i, st := range stalls {
		h.press("]")
		if want := h.m.clock(st.At); !strings.Contains(h.screen(), want) {
			t.Errorf("stall %d: the header does not show %s", i+1, want)
		}
		// The note on screen may be cut at the screen's width.
		if !strings.Contains(h.m.note, st.Frame) || !strings.HasPrefix(h.last(), "stall ") {
			t.Errorf("stall %d: note %q, want its frame %q", i+1, h.m.note, st.Frame)
		}
		if st.SessionID != "" && h.m.selID != st.SessionID {
			t.Errorf("stall %d: selected %q, want %q", i+1, h.m.selID, st.SessionID)
		}
	}
	h.press("]")
	if !strings.Contains(h.last(), "no later stall") {
		t.Errorf("] after the last stall: %q", h.last())
	}

	// Drill into the holder of the longest stall.
	worst := stalls[0]
	for _, st := range stalls {
		if st.BlockedMs > worst.BlockedMs && st.SessionID != "" {
			worst = st
		}
	}
	h.press("g")
	for {
		h.press("]")
		if h.m.view.Time.Equal(worst.At) || strings.Contains(h.last(), "no later stall") {
			break
		}
	}
	h.press("enter")
	h.contains("session "+worst.SessionID+" · drill-down", "cpu%", "mem MiB")
	if worst.Frame != "" {
		h.contains(worst.Frame)
	}
	h.press("esc")
	h.contains("dur(s)")
}

// TestFixtureNormalSteps steps through a recording and checks that the
// screen shows the cursor's own view at each step.
func TestFixtureNormalSteps(t *testing.T) {
	cur := openCursor(t, fixture(fixtures.Normal))
	h := newHarness(t, cur, Options{})
	h.press("g")
	for range 20 {
		h.press("t")
		v := cur.View()
		h.contains(v.Time.Format("2006-01-02 15:04:05"))
		if len(h.m.rows) != len(v.Sessions) {
			t.Fatalf("at %v: %d rows, the view has %d", v.Time, len(h.m.rows), len(v.Sessions))
		}
		for _, r := range v.Sessions {
			h.contains(r.SessionID)
		}
	}
}
