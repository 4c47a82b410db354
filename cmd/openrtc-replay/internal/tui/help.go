package tui

import "fmt"

// helpLines is the help page: every key, and what the jump prompt reads.
func (m *model) helpLines() []string {
	keys := [][2]string{
		{"q, ctrl+c", "quit"},
		{"?", "this help; ? or esc closes it"},
		{"r", "refresh now (live), reload (recording)"},
		{"s", "sort: mem_mb → cpu_pct → duration_s → agent → session → cpu_seconds → stalls → goroutines"},
		{"f", "status filter: all → active → slow → draining → errored"},
		{"/", "filter by text in session, agent or tenant; esc clears"},
		{"↑ ↓ pgup pgdn", "select a session"},
		{"enter", "drill into the selected session: its cpu%, memory and stalls over its life"},
		{"esc", "back"},
	}
	travel := [][2]string{
		{"t →", "next sample"},
		{"T ←", "previous sample"},
		{"j J", "jump forward/back by a duration (30s, 5m, 1h) or to a time (15:04:05, +90s from the start, -5m before the end)"},
		{"[ ]", "previous/next stall, selecting the session held responsible"},
		{"g G", "start/end of the recording"},
		{"space", "play/pause"},
		{"+ -", "play faster/slower (1× is real time)"},
	}
	lines := []string{styleTitle.Render("keys"), ""}
	add := func(kv [][2]string) {
		for _, k := range kv {
			lines = append(lines, fmt.Sprintf("  %s %s", styleKey.Render(pad(k[0], 14, false)), k[1]))
		}
	}
	add(keys)
	lines = append(lines, "", styleTitle.Render("time travel")+styleDim.Render(" (recordings only)"))
	add(travel)
	lines = append(lines, "", styleDim.Render("Rows: slow sessions in red, errored in magenta, ended ones faint. mem_mb is an equal share of RSS; cpu% is the share of the latest CPU window's samples."))
	return lines
}
