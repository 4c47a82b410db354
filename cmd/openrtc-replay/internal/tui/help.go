package tui

import "fmt"

// helpLines is the help page: every key, what the columns mean and what
// the jump prompt reads. It scrolls (↑↓ pgup pgdn), so a small terminal
// reaches all of it.
func (m *model) helpLines() []string {
	keys := [][2]string{
		{"q, ctrl+c", "quit"},
		{"?", "this help; ↑↓ pgup pgdn scroll it, ? or esc closes it"},
		{"1 … 9", "go to finding N of the strip under the header: its moment, its session selected"},
		{"p", "show/hide the findings"},
		{"r", "refresh now (live); reopen the recording, to see what was written since (recording)"},
		{"F", "follow the end of a recording that is still being written, like less +F; F again stops"},
		{"s", "next sort key: attention → mem_mb → cpu_pct → duration_s → agent → session → cpu_seconds → stalls → goroutines"},
		{"< >", "previous/next sort key, keeping the direction"},
		{"o", "sort picker: every key and what it orders by"},
		{"I", "reverse the order"},
		{"f", "status filter: all → active → slow → draining → errored → ended"},
		{"/", "filter by text in session, agent or tenant; esc clears"},
		{"x", "clear every filter (status, text, --agent, --tenant)"},
		{"↑ ↓ pgup pgdn", "select a session"},
		{"enter", "drill into the selected session: its cpu%, memory and stalls over its life"},
		{"esc", "back; clears the text filter, then --agent/--tenant"},
	}
	travel := [][2]string{
		{"t →", "next sample"},
		{"T ←", "previous sample"},
		{"j J", "jump forward/back by a duration (30s, 5m, 1h) or to a time (15:04:05, 2026-11-27 15:04:05, +90s from the start, -5m before the end)"},
		{"[ ]", "previous/next stall, selecting the session held responsible; the drill-down follows"},
		{"g G", "first sample/end of the recording"},
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
	lines = append(lines, "", styleTitle.Render("what the numbers mean"), "")
	add([][2]string{
		{"mem(MiB)", "the session's equal share of the process's RSS (RSS / live sessions), in MiB (2^20 bytes); peak: its highest share so far"},
		{"cpu%", "the session's share of the process's CPU in the latest window (its labelled CPU samples / all samples); the rows sum to the header's \"in sessions\""},
		{"header cpu", "the process's CPU in the latest window in cores (1.15 cores: 115% of one core), and the share of it sessions used"},
		{"cpu_s", "CPU seconds the session used over its life"},
		{"gor", "the session's goroutines now"},
		{"stalls", "stalls of a shared loop or section the session was held responsible for"},
		{"status", "slow for a few seconds after a stall; ended, errored for a few seconds after the end"},
		{"rows", "slow in red, errored in magenta, ended faint"},
		{"attention", "the default order: slow and stalling sessions, then CPU outliers (≥25% and 4× the median), then goroutine outliers (≥16 and 3× the median)"},
	})
	return lines
}
