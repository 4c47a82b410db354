package tui

import (
	"fmt"

	tea "charm.land/bubbletea/v2"

	"github.com/openrtc-go/introspect/fold"
)

// picker is the sort picker (o): every sort key with what it orders by,
// chosen with ↑↓ and enter or with its number.
type picker struct {
	sel int // into fold.SortKeys
}

// sortMeanings says what each sort key orders by, for the picker and the
// help page.
var sortMeanings = map[string]string{
	fold.SortAttention:  "what needs attention: slow and stalling sessions, then CPU and goroutine outliers",
	fold.SortMem:        "memory share (MiB), most first",
	fold.SortCPU:        "cpu%: share of the process's CPU in the latest window, most first",
	fold.SortDuration:   "age, oldest first",
	fold.SortAgent:      "agent name, A to Z",
	fold.SortSession:    "session id, A to Z",
	fold.SortCPUSeconds: "CPU seconds over the session's life, most first",
	fold.SortStalls:     "stalls held responsible for, most first",
	fold.SortGoroutines: "goroutines now, most first",
}

func (m *model) pickerKey(s string) tea.Cmd {
	p := m.picker
	switch s {
	case "ctrl+c", "q":
		return tea.Quit
	case "esc", "o":
		m.picker = nil
	case "up", "k":
		p.sel = (p.sel + len(fold.SortKeys) - 1) % len(fold.SortKeys)
	case "down", "j":
		p.sel = (p.sel + 1) % len(fold.SortKeys)
	case "enter", "space":
		m.picker = nil
		m.setSort(p.sel, false)
	case "I":
		m.picker = nil
		m.setSort(p.sel, true)
	default:
		if len(s) == 1 && s[0] >= '1' && int(s[0]-'1') < len(fold.SortKeys) {
			m.picker = nil
			m.setSort(int(s[0]-'1'), false)
		}
	}
	return nil
}

func (m *model) pickerLines() []string {
	lines := []string{styleTitle.Render("sort by") + styleDim.Render(" (↑↓ enter, or a number; I reversed; esc back)"), ""}
	for i, k := range fold.SortKeys {
		line := fmt.Sprintf(" %d %-12s %s", i+1, k, sortMeanings[k])
		if i == m.picker.sel {
			line = styleSel.Render(line)
		}
		lines = append(lines, line)
	}
	return lines
}
