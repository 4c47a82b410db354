package tui

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

var update = flag.Bool("update", false, "rewrite the golden screens in testdata/golden")

// TestGoldenScreens draws the bundled incident (fixtures/incident.zst,
// written by the real recorder) as the operator meets it, at the sizes
// of real terminals, and compares each screen with its golden file: the
// first screen at 80×24, a finding's moment, the drill-down of the
// culprit, the sort picker, a 60-column table and the help at 60×12,
// scrolled to its end.
func TestGoldenScreens(t *testing.T) {
	incident := fixture("incident.zst")
	screens := []struct {
		name          string
		width, height int
		keys          []string
	}{
		{"first-80x24", 80, 24, nil},
		{"finding-2-80x24", 80, 24, []string{"2"}},
		{"drill-blocker-100x30", 100, 30, []string{"1", "enter"}},
		{"drill-follows-stall-100x30", 100, 30, []string{"1", "enter", "[", "["}},
		{"sort-picker-80x24", 80, 24, []string{"o", "down", "down"}},
		{"reversed-cpu-80x24", 80, 24, []string{"o", "3", "I"}},
		{"narrow-60x24", 60, 24, nil},
		{"help-60x12", 60, 12, []string{"?"}},
		{"help-end-60x12", 60, 12, []string{"?", "end"}},
		{"findings-hidden-80x24", 80, 24, []string{"p"}},
		{"filter-hides-stall-80x24", 80, 24, []string{"/", "call-00", "enter", "["}},
	}
	for _, sc := range screens {
		t.Run(sc.name, func(t *testing.T) {
			h := newHarness(t, openCursor(t, incident), Options{Title: "incident.zst", Width: sc.width, Height: sc.height})
			for _, k := range sc.keys {
				if len(k) > 1 && k != "enter" && k != "down" && k != "end" {
					h.typeText(k)
					continue
				}
				h.press(k)
			}
			got := h.screen()
			for i, l := range strings.Split(got, "\n") {
				if w := ansi.StringWidth(l); w > sc.width {
					t.Errorf("line %d is %d cells wide, more than %d: %q", i+1, w, sc.width, l)
				}
			}
			path := filepath.Join("testdata", "golden", sc.name+".golden")
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to write it)", err)
			}
			if got != string(want) {
				t.Errorf("screen differs from %s (run with -update if intended):\n--- got\n%s\n--- want\n%s", path, got, want)
			}
		})
	}
}

// TestDrillDownMemoryIsTheTables checks that the drill-down's memory now is
// the table's for the same session at the same moment: the timeline folds
// one session, and its share must still be RSS over all live sessions.
func TestDrillDownMemoryIsTheTables(t *testing.T) {
	h := newHarness(t, openCursor(t, fixture("incident.zst")), Options{Width: 120, Height: 40})
	h.press("1")
	var mem float64
	for _, r := range h.m.rows {
		if r.SessionID == "call-blocker" {
			mem = r.MemMB
		}
	}
	h.press("enter")
	want := fmt.Sprintf("now %.1f · peak", mem)
	if !strings.Contains(h.screen(), want) || mem == 0 {
		t.Errorf("drill-down lacks %q, the table's share:\n%s", want, h.screen())
	}
}

// TestFindingKeysInDrillDown: a finding's number in the drill-down goes to
// that finding's session.
func TestFindingKeysInDrillDown(t *testing.T) {
	h := newHarness(t, openCursor(t, fixture("incident.zst")), Options{Width: 120, Height: 40})
	h.press("1", "enter")
	h.contains("session call-blocker · drill-down")
	for i, f := range h.m.findings {
		if f.SessionID == "call-leaker" {
			h.press(fmt.Sprint(i + 1))
			h.contains("session call-leaker · drill-down", "gor")
			return
		}
	}
	t.Fatal("no finding of call-leaker in the incident")
}
