package tui

import (
	"fmt"
	"strconv"
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/openrtc-go/introspect/fold"
)

// footerHeight is the status line and the key line.
const footerHeight = 2

// render draws the whole screen: header, body (table, drill-down or help),
// footer. Its cost is bounded by the screen's size, not by the number of
// sessions: only the rows on screen are formatted.
func (m *model) render() string {
	lines := make([]string, 0, m.height)
	for _, l := range m.header()[:m.headerHeight()] {
		lines = append(lines, fit(l, m.width))
	}
	bodyH := max(m.height-len(lines)-footerHeight, 1)
	var body []string
	switch {
	case m.help:
		body = m.helpLines()
	case m.drill != nil:
		body = m.drillLines(bodyH)
	default:
		body = m.tableLines(bodyH) // fitted already, row by row before styling
	}
	if len(body) > bodyH {
		body = body[:bodyH]
	}
	for _, l := range body {
		if m.help || m.drill != nil {
			l = fit(l, m.width)
		}
		lines = append(lines, l)
	}
	for len(lines) < m.height-footerHeight {
		lines = append(lines, "")
	}
	for _, l := range m.footer() {
		lines = append(lines, fit(l, m.width))
	}
	if len(lines) > m.height {
		// A tiny terminal: the key line and the prompt matter most.
		lines = lines[len(lines)-max(m.height, 1):]
	}
	return strings.Join(lines, "\n")
}

// headerHeight is the number of header lines: a live screen has no
// timeline strip, and a short terminal keeps room for a row or two.
func (m *model) headerHeight() int {
	n := 4
	if m.live != nil {
		n = 3
	}
	return min(n, max(m.height-footerHeight-2, 1))
}

// tableHeight is the number of session rows on screen.
func (m *model) tableHeight() int {
	return max(m.height-m.headerHeight()-footerHeight-1, 1)
}

func (m *model) header() []string {
	h := m.view.Worker
	var b strings.Builder

	// The moment, and where it sits.
	b.WriteString(styleTitle.Render("openrtc-replay"))
	if m.opts.Title != "" {
		b.WriteString(" " + clean(m.opts.Title))
	}
	if h.Name != "" {
		b.WriteString(" · worker " + clean(h.Name))
	}
	b.WriteString(" · " + styleTitle.Render(m.stamp(m.view.Time)))
	if m.live != nil {
		fmt.Fprintf(&b, " · up %s · %s", dur(secs(h.UptimeS)), styleLiveMark.Render(fmt.Sprintf("● live %g Hz", 1/m.opts.refreshInterval().Seconds())))
	} else {
		fmt.Fprintf(&b, " · +%s of %s", dur(m.view.Time.Sub(m.start)), dur(m.end.Sub(m.start)))
		if m.playing {
			b.WriteString(" · " + styleCursor.Render("▶ "+speedLabel(m.speedIdx)))
		} else {
			b.WriteString(styleDim.Render(" · ⏸ " + speedLabel(m.speedIdx)))
		}
	}
	if h.SampleAgeS > 5 {
		b.WriteString(styleNote.Render(fmt.Sprintf(" · sample %s old", dur(secs(h.SampleAgeS)))))
	}
	if h.Stopped {
		b.WriteString(styleNote.Render(" · worker stopped"))
	}
	if h.Dropped > 0 {
		b.WriteString(styleNoteErr.Render(fmt.Sprintf(" · %d events dropped", h.Dropped)))
	}
	lines := []string{b.String()}

	// The worker's vitals.
	b.Reset()
	fmt.Fprintf(&b, "RSS %s · heap %s · sessions %d", mb(h.RSSBytes), mb(h.HeapBytes), h.ActiveSessions)
	if h.MaxSessions > 0 {
		fmt.Fprintf(&b, "/%d", h.MaxSessions)
	}
	if h.CPUUnavailable != "" {
		b.WriteString(" · cpu unavailable: " + clean(h.CPUUnavailable))
	} else {
		fmt.Fprintf(&b, " · cpu %.1f%% process, %.1f%% of it in sessions", h.ProcessCPUPct, h.CPUPct)
	}
	fmt.Fprintf(&b, " · sched p99 %.2fms · gor %d · stalls %d", h.SchedP99Ms, h.Goroutines, h.Stalls)
	if h.OngoingStalls > 0 {
		b.WriteString(styleStall.Render(fmt.Sprintf(" (%d ongoing)", h.OngoingStalls)))
	}
	lines = append(lines, b.String())

	// The last minute of CPU.
	top := 100.0
	for _, v := range h.CPUHistory {
		top = max(top, v)
	}
	lines = append(lines, "cpu 1m "+styleSpark.Render(sparkline(h.CPUHistory, len(h.CPUHistory), top))+
		styleDim.Render(fmt.Sprintf(" 0–%.0f%%", top)))

	if m.live == nil {
		lines = append(lines, m.strip())
	}
	return lines
}

// strip draws the whole recording on one line: its stalls and the cursor.
func (m *model) strip() string {
	left, right := m.clock(m.start)+" ", " "+m.clock(m.end)
	w := m.width - len(left) - len(right)
	if w < 8 {
		return ""
	}
	cells := timelineCells(w, m.start, m.end, m.view.Time, m.stalls)
	var b strings.Builder
	b.WriteString(styleDim.Render(left))
	b.WriteString(renderCells(cells))
	b.WriteString(styleDim.Render(right))
	return b.String()
}

// columns of the table, in OpenRTC's order with ours added; key is the sort
// key the column shows.
var columns = []struct {
	name  string
	width int // minimum; session, agent and tenant grow to fit
	right bool
	key   string
}{
	{"session", 8, false, fold.SortSession},
	{"agent", 6, false, fold.SortAgent},
	{"tenant", 7, false, ""},
	{"dur(s)", 8, true, fold.SortDuration},
	{"mem(MB)", 8, true, fold.SortMem},
	{"peak", 8, true, ""},
	{"cpu%", 6, true, fold.SortCPU},
	{"cpu_s", 8, true, fold.SortCPUSeconds},
	{"gor", 5, true, fold.SortGoroutines},
	{"stalls", 7, true, fold.SortStalls},
	{"status", 7, false, ""},
	{"pin", 3, false, ""},
}

// Caps on the text columns, so one long id does not push the numbers off
// screen.
const (
	maxSessionW = 36
	maxAgentW   = 16
	maxTenantW  = 14
)

// widths returns the width of every column for the rows on screen.
func (m *model) widths(rows []fold.Row) []int {
	ws := make([]int, len(columns))
	for i, c := range columns {
		ws[i] = c.width
	}
	for i := range rows {
		r := &rows[i]
		ws[0] = max(ws[0], min(len(r.SessionID), maxSessionW))
		ws[1] = max(ws[1], min(len(r.AgentName), maxAgentW))
		if r.Tenant != nil {
			ws[2] = max(ws[2], min(len(*r.Tenant), maxTenantW))
		}
	}
	return ws
}

func (m *model) tableLines(h int) []string {
	h-- // the column heads
	end := min(m.top+h, len(m.rows))
	visible := m.rows[m.top:end]
	ws := m.widths(visible)
	lines := make([]string, 0, h+1)

	key := fold.SortKeys[m.sortIdx]
	var b strings.Builder
	for i, c := range columns {
		name := c.name
		if c.key == key {
			if c.right {
				name += "▼"
			} else {
				name += "▲"
			}
		}
		b.WriteString(pad(name, ws[i], c.right))
		b.WriteByte(' ')
	}
	lines = append(lines, styleHead.Render(fit(strings.TrimRight(b.String(), " "), m.width)))

	if len(m.rows) == 0 {
		if m.total == 0 {
			return append(lines, styleDim.Render(fit("no sessions at this moment", m.width)))
		}
		return append(lines, styleDim.Render(fit(fmt.Sprintf("none of the %d sessions match the filter (f, /, esc)", m.total), m.width)))
	}
	buf := make([]byte, 0, 160)
	for i := range visible {
		buf = appendRow(buf[:0], &visible[i], ws)
		line := fit(string(buf), m.width)
		if pad := m.width - len(line); pad > 0 && isASCII(line) {
			line += strings.Repeat(" ", pad) // so the selection bar spans the screen
		}
		lines = append(lines, rowStyle(&visible[i], m.top+i == m.sel).Render(line))
	}
	return lines
}

// appendRow formats one session row.
func appendRow(b []byte, r *fold.Row, ws []int) []byte {
	tenant := "-"
	if r.Tenant != nil && *r.Tenant != "" {
		tenant = *r.Tenant
	}
	text := func(s string, w int) {
		n := len(s)
		if !isASCII(s) {
			s = clean(s)
			n = ansi.StringWidth(s)
		}
		if n > w {
			s, n = ansi.Truncate(s, w, "…"), w
		}
		b = append(b, s...)
		for ; n <= w; n++ {
			b = append(b, ' ')
		}
	}
	// A number wider than its column pushes the row right rather than
	// being cut, which would make it lie.
	num := func(f float64, prec, w int) {
		var n [32]byte
		digits := strconv.AppendFloat(n[:0], f, 'f', prec, 64)
		for i := len(digits); i < w; i++ {
			b = append(b, ' ')
		}
		b = append(b, digits...)
		b = append(b, ' ')
	}
	text(r.SessionID, ws[0])
	text(r.AgentName, ws[1])
	text(tenant, ws[2])
	num(r.DurationS, 1, ws[3])
	num(r.MemMB, 1, ws[4])
	num(r.PeakMB, 1, ws[5])
	num(r.CPUPct, 1, ws[6])
	num(r.CPUSeconds, 2, ws[7])
	if r.Goroutines == nil {
		text(strings.Repeat(" ", ws[8]-1)+"-", ws[8])
	} else {
		num(float64(*r.Goroutines), 0, ws[8])
	}
	num(float64(r.Stalls), 0, ws[9])
	text(r.Status, ws[10])
	if r.Pinned {
		b = append(b, "yes"...)
	}
	for len(b) > 0 && b[len(b)-1] == ' ' {
		b = b[:len(b)-1]
	}
	return b
}

// Row styles: slow rows stand out, ended ones step back.
var (
	rowSlowSel    = newPaint(lipgloss.NewStyle().Foreground(lipgloss.Red).Bold(true).Reverse(true))
	rowErroredSel = newPaint(lipgloss.NewStyle().Foreground(lipgloss.Magenta).Reverse(true))
	rowEndedSel   = newPaint(lipgloss.NewStyle().Faint(true).Reverse(true))
)

func rowStyle(r *fold.Row, sel bool) paint {
	switch {
	case r.Status == fold.StatusSlow && sel:
		return rowSlowSel
	case r.Status == fold.StatusSlow:
		return styleSlow
	case r.Status == fold.StatusErrored && sel:
		return rowErroredSel
	case r.Status == fold.StatusErrored:
		return styleErrored
	case r.Status == fold.StatusEnded && sel:
		return rowEndedSel
	case r.Status == fold.StatusEnded:
		return styleEnded
	case sel:
		return styleSel
	}
	return paint{}
}

func (m *model) footer() []string {
	var b strings.Builder
	key := fold.SortKeys[m.sortIdx]
	dir := "▼"
	if key == fold.SortAgent || key == fold.SortSession {
		dir = "▲"
	}
	fmt.Fprintf(&b, "sort %s %s · status %s", key, dir, m.status())
	if m.opts.Agent != "" {
		b.WriteString(" · agent " + clean(m.opts.Agent))
	}
	if m.opts.Tenant != "" {
		b.WriteString(" · tenant " + clean(m.opts.Tenant))
	}
	if m.text != "" {
		fmt.Fprintf(&b, " · text %q", m.text)
	}
	fmt.Fprintf(&b, " · %d of %d sessions", len(m.rows), m.total)
	switch {
	case m.live != nil:
	case !m.stallsRead:
		b.WriteString(" · reading the stalls…")
	case len(m.stalls) > 0:
		fmt.Fprintf(&b, " · %d stalls in recording", len(m.stalls))
	}
	status := styleDim.Render(b.String())

	var last string
	switch {
	case m.prompt != nil:
		last = m.prompt.label() + m.prompt.buf + "█"
	case m.note != "" && m.noteErr:
		last = styleNoteErr.Render(clean(m.note))
	case m.note != "":
		last = styleNote.Render(clean(m.note))
	default:
		last = m.keyHints()
	}
	return []string{status, last}
}

func (m *model) keyHints() string {
	var hints [][2]string
	switch {
	case m.help:
		hints = [][2]string{{"?/esc", "back"}, {"q", "quit"}}
	case m.drill != nil:
		hints = [][2]string{{"esc", "back"}, {"↑↓", "scroll"}, {"r", "reload"}, {"q", "quit"}, {"?", "help"}}
		if m.live == nil {
			hints = append(hints, [2]string{"t/T", "step"}, [2]string{"[/]", "stall"})
		}
	case m.live != nil:
		hints = [][2]string{{"q", "quit"}, {"?", "help"}, {"r", "refresh"}, {"s", "sort"}, {"f", "filter"}, {"/", "search"}, {"↑↓", "select"}, {"enter", "drill"}}
	default:
		hints = [][2]string{{"q", "quit"}, {"?", "help"}, {"s", "sort"}, {"f", "filter"}, {"/", "search"}, {"↑↓", "select"}, {"enter", "drill"},
			{"t/T", "step"}, {"j/J", "jump"}, {"[/]", "stall"}, {"g/G", "ends"}, {"space", "play"}, {"+/-", "speed"}}
	}
	var b strings.Builder
	for i, h := range hints {
		if i > 0 {
			b.WriteString("  ")
		}
		b.WriteString(styleKey.Render(h[0]) + " " + h[1])
	}
	return b.String()
}
