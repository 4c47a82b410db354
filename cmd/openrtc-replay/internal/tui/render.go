package tui

import (
	"fmt"
	"strconv"
	"strings"
	"time"

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
		m.helpScroll = min(m.helpScroll, max(len(body)-bodyH, 0))
		body = body[m.helpScroll:]
	case m.picker != nil:
		body = m.pickerLines()
	case m.drill != nil:
		body = m.drillLines(bodyH)
	default:
		body = m.tableLines(bodyH) // fitted already, row by row before styling
	}
	if len(body) > bodyH {
		body = body[:bodyH]
	}
	for _, l := range body {
		if m.help || m.drill != nil || m.picker != nil {
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

// headerHeight is the number of header lines: the worker's (a live screen
// has no timeline strip) and the findings; a short terminal keeps room for
// a row or two.
func (m *model) headerHeight() int {
	n := m.vitalsHeight() + m.findingsHeight()
	return min(n, max(m.height-footerHeight-2, 1))
}

// vitalsHeight is the number of lines about the worker.
func (m *model) vitalsHeight() int {
	if m.live != nil {
		return 3
	}
	return 4
}

// maxFindingLines bounds the findings strip, so that it leaves the table
// most of the screen.
const maxFindingLines = 5

// findingsHeight is the number of lines of the findings strip: one per
// finding, as many as fit over a table of at least minTableRows rows.
func (m *model) findingsHeight() int {
	if m.hideFindings || m.help || m.drill != nil || m.picker != nil {
		return 0
	}
	n := len(m.findings)
	if !m.findingsRead || m.findingsErr != nil {
		n = 1
	}
	const minTableRows = 5
	room := m.height - footerHeight - m.vitalsHeight() - 1 - minTableRows
	return max(min(n, maxFindingLines, room), 0)
}

// tableHeight is the number of session rows on screen.
func (m *model) tableHeight() int {
	return max(m.height-m.headerHeight()-footerHeight-1, 1)
}

func (m *model) header() []string {
	h := m.view.Worker
	var b strings.Builder

	// The moment and where it sits first, so a narrow screen cuts the
	// names rather than the time.
	b.WriteString(styleTitle.Render(m.stamp(m.view.Time)))
	if m.live != nil {
		b.WriteString(" · " + m.liveState())
		fmt.Fprintf(&b, " · up %s", dur(secs(h.UptimeS)))
	} else {
		fmt.Fprintf(&b, " · +%s of %s", dur(m.view.Time.Sub(m.start)), dur(m.end.Sub(m.start)))
		switch {
		case m.following:
			b.WriteString(" · " + styleCursor.Render("following"))
		case m.playing:
			b.WriteString(" · " + styleCursor.Render("▶ "+speedLabel(m.speedIdx)))
		default:
			b.WriteString(styleDim.Render(" · ⏸ " + speedLabel(m.speedIdx)))
		}
	}
	if h.Name != "" {
		b.WriteString(" · worker " + clean(h.Name))
	}
	if m.opts.Title != "" {
		b.WriteString(" · " + clean(m.opts.Title))
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

	// The worker's vitals, most telling first: a narrow screen cuts the
	// end of the line.
	b.Reset()
	fmt.Fprintf(&b, "sessions %d", h.ActiveSessions)
	if h.MaxSessions > 0 {
		fmt.Fprintf(&b, "/%d", h.MaxSessions)
	}
	fmt.Fprintf(&b, " · stalls %d", h.Stalls)
	if t := h.OpenStallsText(); t != "" {
		b.WriteString(styleStall.Render(" " + t))
	}
	if h.Kind == fold.KindOpenRTC {
		// A Python worker: no heap, goroutines or scheduler of ours; its
		// RSS is the sum of its sessions' shares, and the host's vitals
		// take the sparkline's place.
		fmt.Fprintf(&b, " · cpu %.1f%% in sessions · RSS %s (sum of shares) · started %d · failed %d",
			h.CPUPct, mib(h.RSSBytes), h.SessionsBegun, h.SessionsFailed)
		if h.Draining {
			b.WriteString(styleNote.Render(" · draining"))
		}
		lines = append(lines, b.String(), HostLine(h))
	} else {
		b.WriteString(" · " + CPUText(h))
		fmt.Fprintf(&b, " · RSS %s · heap %s · gor %d · sched p99 %.2fms", mib(h.RSSBytes), mib(h.HeapBytes), h.Goroutines, h.SchedP99Ms)
		lines = append(lines, b.String())

		// The last minute of CPU, in % of one core.
		top := 100.0
		for _, v := range h.CPUHistory {
			top = max(top, v)
		}
		lines = append(lines, "cpu 1m "+styleSpark.Render(sparkline(h.CPUHistory, len(h.CPUHistory), top))+
			styleDim.Render(fmt.Sprintf(" 0–%.0f%% of a core", top)))
	}

	if m.live == nil {
		lines = append(lines, m.strip())
	}
	return append(lines, m.findingLines()...)
}

// findingLines is the findings strip: what needs attention, a line each,
// with the number key that jumps to it.
func (m *model) findingLines() []string {
	n := m.findingsHeight()
	switch {
	case n == 0:
		return nil
	case !m.findingsRead:
		return []string{styleDim.Render("findings: reading the recording…")}
	case m.findingsErr != nil:
		return []string{styleNoteErr.Render("findings: " + clean(m.findingsErr.Error()))}
	}
	lines := make([]string, 0, n)
	for i, f := range m.findings[:n] {
		text := f.Short
		if text == "" {
			text = f.Title
		}
		st := styleFinding
		switch f.Section {
		case fold.SectionBlocking:
			st = styleStall
		case fold.SectionNothing, fold.SectionNoRecords:
			st = styleDim
		}
		lines = append(lines, styleKey.Render(fmt.Sprintf("%d", i+1))+" "+st.Render(clean(text)))
	}
	if more := len(m.findings) - n; more > 0 {
		last := &lines[len(lines)-1]
		*last += styleDim.Render(fmt.Sprintf("  (+%d more: openrtc-replay summary)", more))
	}
	return lines
}

// liveState says whether a live worker answers: live, stale (no answer
// for a while), disconnected (its socket refuses) or restarted (a new
// process answers).
func (m *model) liveState() string {
	now := m.now()
	hz := fmt.Sprintf("%g Hz", 1/m.opts.refreshInterval().Seconds())
	staleAfter := max(3*m.opts.refreshInterval(), 3*time.Second)
	switch {
	case m.liveErr != nil:
		return styleNoteErr.Render(fmt.Sprintf("✕ disconnected %s ago (%s); showing %s", dur(now.Sub(m.liveErrAt)),
			clean(shortErr(m.liveErr)), m.clock(m.view.Time)))
	case m.refreshing && now.Sub(m.liveAsked) >= staleAfter:
		return styleNote.Render(fmt.Sprintf("◌ stale: no answer for %s", dur(now.Sub(m.liveAsked))))
	case !m.restartedAt.IsZero() && now.Sub(m.restartedAt) < restartShown:
		at := m.view.Worker.Started
		if at.IsZero() {
			at = m.restartedAt
		}
		who := "a new process"
		switch r := m.restart; {
		case r.PID != 0 && r.PrevPID != 0:
			who = fmt.Sprintf("pid %d → %d", r.PrevPID, r.PID)
		case r.PID != 0:
			who = fmt.Sprintf("new pid %d", r.PID)
		}
		return styleNote.Render(fmt.Sprintf("↻ restarted at %s (%s)", m.clock(at), who))
	}
	return styleLiveMark.Render("● live " + hz)
}

// restartShown is how long the header says the worker restarted.
const restartShown = time.Minute

// shortErr cuts an error to its last part, which says what went wrong:
// "dial unix /run/…/w.sock: connect: connection refused" is "connection
// refused".
func shortErr(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 && len(s)-i > 4 {
		return s[i+2:]
	}
	return s
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
// key the column shows, drop the order in which a narrow screen gives
// columns up (0: never).
var columns = []struct {
	name  string
	width int // minimum; session, agent and tenant grow to fit
	right bool
	key   string
	drop  int
}{
	{"session", 8, false, fold.SortSession, 0},
	{"agent", 6, false, fold.SortAgent, 3},
	{"tenant", 7, false, "", 2},
	{"dur(s)", 7, true, fold.SortDuration, 6},
	{"mem(MiB)", 8, true, fold.SortMem, 0},
	{"peak", 7, true, "", 5},
	{"cpu%", 6, true, fold.SortCPU, 0},
	{"cpu_s", 7, true, fold.SortCPUSeconds, 4},
	{"gor", 5, true, fold.SortGoroutines, 8},
	{"stalls", 6, true, fold.SortStalls, 7},
	{"status", 7, false, "", 9},
	{"pin", 3, false, "", 1},
}

// Column indexes, for appendRow.
const (
	colSession = iota
	colAgent
	colTenant
	colDur
	colMem
	colPeak
	colCPU
	colCPUS
	colGor
	colStalls
	colStatus
	colPin
)

// Caps on the text columns, so one long id does not push the numbers off
// screen.
const (
	maxSessionW = 36
	maxAgentW   = 16
	maxTenantW  = 14
)

// growWidths widens the text columns to the widest value of the rows,
// never narrowing them: the table keeps its layout as rows come and go,
// scroll and the cursor moves.
func (m *model) growWidths() {
	for i := range m.rows {
		r := &m.rows[i]
		m.sessW = max(m.sessW, min(len(r.SessionID), maxSessionW))
		m.agentW = max(m.agentW, min(len(r.AgentName), maxAgentW))
		if r.Tenant != nil {
			m.tenantW = max(m.tenantW, min(len(*r.Tenant), maxTenantW))
		}
	}
}

// layout returns the width of every column and which fit on the screen:
// the columns of the highest drop go first.
func (m *model) layout() (ws []int, show []bool) {
	ws = make([]int, len(columns))
	show = make([]bool, len(columns))
	for i, c := range columns {
		// Room for the sort arrow, so the heads do not move with the sort.
		ws[i], show[i] = max(c.width, len(c.name)+1), true
	}
	ws[colSession] = max(ws[colSession], m.sessW)
	ws[colAgent] = max(ws[colAgent], m.agentW)
	ws[colTenant] = max(ws[colTenant], m.tenantW)
	total := func() int {
		n := 0
		for i := range ws {
			if show[i] {
				n += ws[i] + 1
			}
		}
		return n - 1
	}
	for total() > m.width {
		drop := -1
		for i, c := range columns {
			if show[i] && c.drop > 0 && (drop < 0 || c.drop < columns[drop].drop) {
				drop = i
			}
		}
		if drop < 0 {
			break
		}
		show[drop] = false
	}
	// What is left narrows the session column, down to its minimum.
	if over := total() - m.width; over > 0 {
		ws[colSession] = max(columns[colSession].width, ws[colSession]-over)
	}
	return ws, show
}

// sortDesc reports whether the table is sorted in descending order: numbers
// are, text is not, unless reversed.
func (m *model) sortDesc() bool {
	key := fold.SortKeys[m.sortIdx]
	desc := key != fold.SortAgent && key != fold.SortSession
	return desc != m.sortRev
}

func (m *model) tableLines(h int) []string {
	h-- // the column heads
	end := min(m.top+h, len(m.rows))
	visible := m.rows[m.top:end]
	ws, show := m.layout()
	lines := make([]string, 0, h+1)

	key := fold.SortKeys[m.sortIdx]
	arrow := "▲"
	if m.sortDesc() {
		arrow = "▼"
	}
	var b strings.Builder
	for i, c := range columns {
		if !show[i] {
			continue
		}
		name := c.name
		if c.key == key {
			name += arrow
		}
		b.WriteString(pad(name, ws[i], c.right))
		b.WriteByte(' ')
	}
	lines = append(lines, styleHead.Render(fit(strings.TrimRight(b.String(), " "), m.width)))

	if len(m.rows) == 0 {
		if m.total == 0 {
			return append(lines, styleDim.Render(fit("no sessions at this moment", m.width)))
		}
		return append(lines, styleDim.Render(fit(fmt.Sprintf("none of the %d sessions match the filter (f, /, x clears)", m.total), m.width)))
	}
	buf := make([]byte, 0, 160)
	for i := range visible {
		buf = appendRow(buf[:0], &visible[i], ws, show, m.view.Worker.CPUUnavailable == "")
		line := fit(string(buf), m.width)
		if pad := m.width - len(line); pad > 0 && isASCII(line) {
			line += strings.Repeat(" ", pad) // so the selection bar spans the screen
		}
		lines = append(lines, rowStyle(&visible[i], m.top+i == m.sel).Render(line))
	}
	return lines
}

// appendRow formats one session row, the columns shown only. Without a
// CPU window (another profiler owns the profiler, or none was read) cpu% is
// "-", not a row of zeros that would read as idle sessions; the header says
// why.
func appendRow(b []byte, r *fold.Row, ws []int, show []bool, cpuKnown bool) []byte {
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
	for i := range columns {
		if !show[i] {
			continue
		}
		w := ws[i]
		switch i {
		case colSession:
			text(r.SessionID, w)
		case colAgent:
			text(r.AgentName, w)
		case colTenant:
			text(tenant, w)
		case colDur:
			num(r.DurationS, 1, w)
		case colMem:
			num(r.MemMB, 1, w)
		case colPeak:
			num(r.PeakMB, 1, w)
		case colCPU:
			if cpuKnown {
				num(r.CPUPct, 1, w)
			} else {
				text(strings.Repeat(" ", w-1)+"-", w)
			}
		case colCPUS:
			num(r.CPUSeconds, 2, w)
		case colGor:
			if r.Goroutines == nil {
				text(strings.Repeat(" ", w-1)+"-", w)
			} else {
				num(float64(*r.Goroutines), 0, w)
			}
		case colStalls:
			num(float64(r.Stalls), 0, w)
		case colStatus:
			text(r.Status, w)
		case colPin:
			if r.Pinned {
				b = append(b, "yes"...)
			}
		}
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
	dir := "▲"
	if m.sortDesc() {
		dir = "▼"
	}
	if key == fold.SortAttention {
		dir = "" // an order of its own, not of a column
		if m.sortRev {
			dir = "reversed"
		}
	}
	fmt.Fprintf(&b, "sort %s · status %s", strings.TrimSpace(key+" "+dir), m.status())
	if m.agent != "" {
		b.WriteString(" · agent " + clean(m.agent))
	}
	if m.tenant != "" {
		b.WriteString(" · tenant " + clean(m.tenant))
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
		hints = [][2]string{{"?/esc", "back"}, {"↑↓ pgup pgdn", "scroll"}, {"q", "quit"}}
	case m.picker != nil:
		hints = [][2]string{{"↑↓", "choose"}, {"enter", "sort"}, {"I", "reversed"}, {"esc", "back"}}
	case m.drill != nil:
		hints = [][2]string{{"esc", "back"}, {"↑↓", "scroll"}, {"r", "reload"}, {"q", "quit"}, {"?", "help"}}
		if m.live == nil {
			hints = append(hints, [2]string{"[/]", "stall"}, [2]string{"t/T", "step"})
		}
	case m.live != nil:
		hints = [][2]string{{"q", "quit"}, {"?", "help"}, {"1-9", "finding"}, {"enter", "drill"}, {"s/o", "sort"}, {"I", "reverse"},
			{"f", "filter"}, {"/", "search"}, {"r", "refresh"}, {"p", "findings"}}
	default:
		hints = [][2]string{{"q", "quit"}, {"?", "help"}, {"1-9", "finding"}, {"[/]", "stall"}, {"enter", "drill"}, {"s/o", "sort"},
			{"I", "reverse"}, {"f", "filter"}, {"/", "search"}, {"t/T", "step"}, {"j/J", "jump"}, {"g/G", "ends"}, {"F", "follow"},
			{"space", "play"}, {"p", "findings"}}
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
