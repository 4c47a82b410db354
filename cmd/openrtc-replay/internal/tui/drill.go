package tui

import (
	"fmt"
	"sort"
	"strings"

	"github.com/openrtc-go/introspect/fold"
)

// maxStackLines is how much of a stall's stack the drill-down shows.
const maxStackLines = 4

// drillLines draws one session's life: what it is, its cpu% and memory
// share as sparklines with the moment shown marked, and its stalls with
// their frames, scrolled by ↑ and ↓.
func (m *model) drillLines(h int) []string {
	d := m.drill
	title := styleTitle.Render("session "+clean(d.id)) + styleDim.Render(" · drill-down (esc back)")
	switch {
	case d.err != nil:
		return []string{title, styleNoteErr.Render(clean(d.err.Error()))}
	case d.loading && d.tl.Row.SessionID == "" && len(d.tl.Points) == 0:
		return []string{title, styleDim.Render("loading the session's timeline…")}
	}
	tl := d.tl
	r := tl.Row
	lines := []string{title}

	var b strings.Builder
	tenant := "-"
	if r.Tenant != nil && *r.Tenant != "" {
		tenant = *r.Tenant
	}
	fmt.Fprintf(&b, "agent %s · tenant %s", clean(r.AgentName), clean(tenant))
	if r.Pinned {
		b.WriteString(" · pinned")
	}
	if !r.Start.IsZero() {
		b.WriteString(" · started " + m.stamp(r.Start))
	}
	if !r.End.IsZero() {
		b.WriteString(" · ended " + m.clock(r.End))
		if r.Outcome != "" {
			b.WriteString(" (" + clean(r.Outcome) + ")")
		}
	} else if m.live != nil {
		b.WriteString(" · live")
	} else {
		b.WriteString(" · still running at the end of the recording")
	}
	fmt.Fprintf(&b, " · %.1fs", r.DurationS)
	lines = append(lines, b.String())

	cpu := make([]float64, len(tl.Points))
	mem := make([]float64, len(tl.Points))
	gor := make([]float64, len(tl.Points))
	topCPU, topMem, topGor := 0.0, 0.0, 0.0
	for i, p := range tl.Points {
		cpu[i], mem[i], gor[i] = p.CPUPct, p.MemMB, float64(p.Goroutines)
		topCPU, topMem, topGor = max(topCPU, p.CPUPct), max(topMem, p.MemMB), max(topGor, float64(p.Goroutines))
	}
	// The moment shown, on the session's life.
	now := sort.Search(len(tl.Points), func(i int) bool { return tl.Points[i].At.After(m.view.Time) }) - 1
	cur := func(f func(fold.TimelinePoint) string) string {
		if now < 0 {
			return "-"
		}
		return f(tl.Points[now])
	}
	chartW := max(min(m.width-48, len(tl.Points)), 1)
	const label = "%-7s "
	lines = append(lines,
		fmt.Sprintf(label, "cpu%")+styleSpark.Render(pad(sparkline(cpu, chartW, max(topCPU, 1)), chartW, false))+
			fmt.Sprintf("  now %s · max %.1f · cpu_s %.2f", cur(func(p fold.TimelinePoint) string { return fmt.Sprintf("%.1f", p.CPUPct) }), r.MaxCPUPct, r.CPUSeconds),
		fmt.Sprintf(label, "mem MB")+styleSpark.Render(pad(sparkline(mem, chartW, max(topMem, 1)), chartW, false))+
			fmt.Sprintf("  now %s · peak %.1f", cur(func(p fold.TimelinePoint) string { return fmt.Sprintf("%.1f", p.MemMB) }), r.PeakMB),
	)
	if topGor > 0 {
		lines = append(lines, fmt.Sprintf(label, "gor")+styleSpark.Render(pad(sparkline(gor, chartW, topGor), chartW, false))+
			fmt.Sprintf("  now %s · peak %d", cur(func(p fold.TimelinePoint) string { return fmt.Sprint(p.Goroutines) }), r.GorPeak))
	}
	if len(tl.Points) > 0 {
		first, last := tl.Points[0].At, tl.Points[len(tl.Points)-1].At
		axis := fmt.Sprintf(label, "") + styleDim.Render(m.clock(first)+" → "+m.clock(last))
		if now >= 0 {
			cell := now * chartW / len(tl.Points)
			axis = fmt.Sprintf(label, "") + strings.Repeat(" ", cell) + styleCursor.Render("▲ "+m.clock(m.view.Time)) +
				styleDim.Render(fmt.Sprintf("  (%s → %s)", m.clock(first), m.clock(last)))
		}
		lines = append(lines, axis)
	} else {
		lines = append(lines, styleDim.Render("no samples in the session's life"))
	}

	// The stalls, scrolled.
	lines = append(lines, "")
	head := fmt.Sprintf("stalls %d", max(r.Stalls, len(tl.Stalls)))
	if r.WorstStall > 0 {
		head += fmt.Sprintf(" · worst %.0fms", r.WorstStall)
	}
	lines = append(lines, styleTitle.Render(head))
	var sl []string
	for _, st := range tl.Stalls {
		rel := ""
		if !r.Start.IsZero() {
			rel = "+" + dur(st.At.Sub(r.Start))
		}
		frame := clean(st.Frame)
		if st.FrameFrom == "leave" && frame != "" {
			frame = "left at " + frame + " (no stack caught)" // not the line that blocked
		}
		line := fmt.Sprintf("  %s %-8s %7s  %-12s %s", m.clock(st.At), rel, millis(st.Blocked()), clean(st.Source), frame)
		if st.Ongoing {
			line += " (ongoing)"
		}
		if !st.At.After(m.view.Time) {
			line = styleStall.Render(line) // already happened at the moment shown
		}
		sl = append(sl, line)
		for i, f := range st.Stack {
			if i == maxStackLines {
				sl = append(sl, styleDim.Render(fmt.Sprintf("      … %d more frames", len(st.Stack)-i)))
				break
			}
			sl = append(sl, styleDim.Render("      "+clean(f)))
		}
	}
	if len(tl.Stalls) == 0 {
		if r.Stalls > 0 {
			sl = append(sl, styleDim.Render("  frames are in the recording: openrtc-replay slow --session "+clean(r.SessionID)))
		} else {
			sl = append(sl, styleDim.Render("  none"))
		}
	}
	room := max(h-len(lines), 1)
	d.scroll = min(d.scroll, max(len(sl)-room, 0))
	return append(lines, sl[d.scroll:]...)
}
