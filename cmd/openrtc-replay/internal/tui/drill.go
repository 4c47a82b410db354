package tui

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/openrtc-go/introspect/events"
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
	fmt.Fprintf(&b, " · %s", dur(secs(r.DurationS)))
	lines = append(lines, b.String())

	// The moment shown, on the session's life; the figures are as of it.
	now := sort.Search(len(tl.Points), func(i int) bool { return tl.Points[i].At.After(m.view.Time) }) - 1
	cpu := make([]float64, len(tl.Points))
	mem := make([]float64, len(tl.Points))
	gor := make([]float64, len(tl.Points))
	var peakCPU, peakMem float64
	peakGor := -1
	for i, p := range tl.Points {
		cpu[i], mem[i], gor[i] = p.CPUPct, p.MemMB, float64(max(p.Goroutines, 0))
		if i <= now {
			peakCPU, peakMem, peakGor = max(peakCPU, p.CPUPct), max(peakMem, p.MemMB), max(peakGor, p.Goroutines)
		}
	}
	// The view's own row is the session at the moment shown: its peak is
	// the table's.
	for i := range m.view.Sessions {
		if vr := &m.view.Sessions[i]; vr.SessionID == d.id {
			peakMem = max(peakMem, vr.PeakMB)
		}
	}
	cur := func(f func(fold.TimelinePoint) string) string {
		if now < 0 {
			return "-"
		}
		return f(tl.Points[now])
	}
	asOf := "as of " + m.clock(m.view.Time)
	chartW := max(min(m.width-56, len(tl.Points)), 1)
	const label = "%-8s "
	lines = append(lines,
		fmt.Sprintf(label, "cpu%")+styleSpark.Render(pad(sparkRange(cpu, chartW, 0), chartW, false))+
			fmt.Sprintf("  now %s · max %.1f %s · cpu_s %.2f", cur(func(p fold.TimelinePoint) string { return fmt.Sprintf("%.1f", p.CPUPct) }), peakCPU, asOf, r.CPUSeconds),
		fmt.Sprintf(label, "mem MiB")+styleSpark.Render(pad(sparkRange(mem, chartW, -1), chartW, false))+
			fmt.Sprintf("  now %s · peak %.1f %s (an equal share of RSS)", cur(func(p fold.TimelinePoint) string { return fmt.Sprintf("%.1f", p.MemMB) }), peakMem, asOf),
	)
	if r.GorPeak > 0 || peakGor > 0 {
		lines = append(lines, fmt.Sprintf(label, "gor")+styleSpark.Render(pad(sparkRange(gor, chartW, -1), chartW, false))+
			fmt.Sprintf("  now %s · peak %d %s", cur(func(p fold.TimelinePoint) string { return fmt.Sprint(p.Goroutines) }), max(peakGor, 0), asOf))
	}
	for _, g := range r.GorStacks { // where they were when their number last grew
		lines = append(lines, fmt.Sprintf(label, "")+styleDim.Render(clean(fold.GoroutineGroupText(g))))
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

	// The stalls, grouped by where they happened, scrolled.
	lines = append(lines, "")
	groups := fold.GroupStalls(tl.Stalls)
	head := fmt.Sprintf("stalls %d", max(r.Stalls, len(tl.Stalls)))
	if len(groups) > 0 {
		head += fmt.Sprintf(" at %d %s", len(groups), plural(len(groups), "place", "places"))
	}
	if r.WorstStall > 0 {
		head += fmt.Sprintf(" · worst %.0fms", r.WorstStall)
	}
	lines = append(lines, styleTitle.Render(head))
	// The stall [ and ] went to last, when it is this session's.
	curGroup, curStall := -1, fold.Stall{}
	if m.stallIdx >= 0 && m.stallIdx < len(m.stalls) && m.stalls[m.stallIdx].SessionID == d.id {
		curStall = m.stalls[m.stallIdx]
		curGroup = fold.GroupOf(groups, curStall)
	}
	var sl []string
	groupLine := make([]int, len(groups))
	for gi, g := range groups {
		groupLine[gi] = len(sl)
		past := 0 // stalls of the group at or before the moment shown
		for _, st := range tl.Stalls {
			if fold.GroupOf(groups[gi:gi+1], st) == 0 && !st.At.After(m.view.Time) {
				past++
			}
		}
		line := fmt.Sprintf("%s %s · %s in all · worst %s at %s · %s → %s", clean(g.Source), timesWord(g.Count),
			totalText(g.TotalMs), millis(g.Worst.Blocked()), m.clock(g.Worst.At), m.clock(g.First), m.clock(g.Last))
		if past < g.Count {
			line += fmt.Sprintf(" · %d of them by %s", past, m.clock(m.view.Time))
		}
		if g.Worst.Ongoing {
			line += " (ongoing)"
		}
		switch {
		case g.Victims == g.Count:
			line += " · every one waited for a CPU: a victim"
		case g.Victims > 0:
			line += fmt.Sprintf(" · %d waited for a CPU", g.Victims)
		default:
			line += causeText(g.Worst)
		}
		switch {
		case gi == curGroup:
			line = styleCursor.Render("▶ this stall " + m.clock(curStall.At) + " " + millis(curStall.Blocked()) + " · " + line)
		case past > 0:
			line = styleStall.Render("  " + line) // already happened at the moment shown
		default:
			line = "  " + line
		}
		sl = append(sl, line)
		switch {
		case g.Frame != "" && g.Worst.FrameFrom == events.FrameLeave:
			sl = append(sl, "      left at "+clean(g.Frame)+styleDim.Render(" (no stack caught: where the hold ended, not the line that blocked)"))
		case g.Frame != "":
			sl = append(sl, "      at "+clean(g.Frame))
		}
		for i, f := range g.Stack {
			if i == maxStackLines {
				sl = append(sl, styleDim.Render(fmt.Sprintf("      … %d more frames", len(g.Stack)-i)))
				break
			}
			sl = append(sl, styleDim.Render("      "+clean(f)))
		}
	}
	if len(tl.Stalls) == 0 {
		switch {
		case r.Stalls > 0 && m.live != nil:
			where := "the worker's recording (Options.Record)"
			if m.opts.Recording != "" {
				where = m.opts.Recording
			}
			sl = append(sl, styleDim.Render("  the live socket carries no frames; they are in "+clean(where)+": openrtc-replay slow --session "+clean(r.SessionID)+" REC"))
		case r.Stalls > 0:
			sl = append(sl, styleDim.Render("  frames are in the recording: openrtc-replay slow --session "+clean(r.SessionID)))
		default:
			sl = append(sl, styleDim.Render("  none"))
		}
	}
	room := max(h-len(lines), 1)
	if d.follow && curGroup >= 0 {
		d.scroll = groupLine[curGroup]
		d.follow = false
	}
	d.scroll = min(d.scroll, max(len(sl)-room, 0))
	return append(lines, sl[d.scroll:]...)
}

// totalText is the total blocked time of a group: 850ms, 11.6s, 2m05s.
func totalText(ms float64) string {
	switch {
	case ms < 1000:
		return fmt.Sprintf("%.0fms", ms)
	case ms < 60000:
		return fmt.Sprintf("%.1fs", ms/1000)
	}
	return dur(time.Duration(ms * float64(time.Millisecond)))
}

// timesWord is a count of stalls in words: once, 29 times.
func timesWord(n int) string {
	if n == 1 {
		return "once"
	}
	return fmt.Sprintf("%d times", n)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
