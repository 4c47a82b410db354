package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/openrtc-go/introspect/cmd/openrtc-replay/internal/tui"
	"github.com/openrtc-go/introspect/fold"
)

// viewPlace says where a view sits: in a recording (first and last set) or
// live (zero).
type viewPlace struct {
	title       string
	first, last time.Time
	loc         *time.Location
	findings    []fold.Finding // printed under the header, numbered, as the screen shows them
}

// writeView prints a top view as the plain text of `top --once`: four
// header lines, a blank line and the session table.
func writeView(w io.Writer, v fold.View, p viewPlace) error {
	h := v.Worker
	loc := p.loc
	if loc == nil {
		loc = time.Local
	}
	var b strings.Builder
	b.WriteString("openrtc-replay")
	if p.title != "" {
		b.WriteString(" " + p.title)
	}
	if h.Name != "" {
		b.WriteString(" · worker " + h.Name)
	}
	fmt.Fprintf(&b, " · %s", v.Time.In(loc).Format("2006-01-02 15:04:05.000 MST"))
	if p.first.IsZero() {
		fmt.Fprintf(&b, " · live, up %s", clock(secs(h.UptimeS)))
	} else {
		fmt.Fprintf(&b, " · +%s of %s", clock(v.Time.Sub(p.first)), clock(p.last.Sub(p.first)))
	}
	b.WriteString("\n")

	sessions := fmt.Sprint(h.ActiveSessions)
	if h.MaxSessions > 0 {
		sessions += fmt.Sprintf("/%d", h.MaxSessions)
	}
	if h.Kind == fold.KindOpenRTC {
		// A Python worker: no heap, scheduler or GC of ours to show.
		fmt.Fprintf(&b, "rss %s (sum of shares) · sessions %s · started %d · failed %d · %s",
			mib(h.RSSBytes), sessions, h.SessionsBegun, h.SessionsFailed, openrtcCPU(h))
		if h.Draining {
			b.WriteString(" · draining")
		}
	} else {
		cpu := tui.CPUText(h)
		fmt.Fprintf(&b, "sessions %s · stalls %d · %s · rss %s · heap %s · sched p99 %s max %s ms · gc %d (%s ms)",
			sessions, h.Stalls, cpu, mib(h.RSSBytes), mib(h.HeapBytes), f2(h.SchedP99Ms), f2(h.SchedMaxMs),
			h.GCCycles, f2(h.GCPauseMs))
	}
	if t := h.OpenStallsText(); t != "" {
		b.WriteString(" " + t)
	}
	if h.Dropped > 0 {
		fmt.Fprintf(&b, " · %d events dropped", h.Dropped)
	}
	if h.Stopped {
		b.WriteString(" · stopped")
	}
	b.WriteString("\n")

	if h.System != nil {
		b.WriteString(tui.HostLine(h) + "\n")
	}
	switch {
	case h.Kind == fold.KindOpenRTC && len(h.HostCPUHistory) == 0:
		// A recording of a Python worker: its process CPU is not known.
	case len(h.CPUHistory) > 0 || len(h.HostCPUHistory) == 0:
		peak := 0.0
		for _, x := range h.CPUHistory {
			peak = max(peak, x)
		}
		fmt.Fprintf(&b, "cpu%% last minute %s peak %s%%\n", orDash(spark(h.CPUHistory, peak)), f1(peak))
	default:
		// OpenRTC's history: the host's CPU, one value per snapshot served.
		fmt.Fprintf(&b, "host cpu%% history %s (0-100%%)\n", spark(h.HostCPUHistory, 100))
	}
	if !p.first.IsZero() {
		fmt.Fprintf(&b, "recording %s %s → %s\n", strip(p.first, p.last, v.Time, 48),
			p.first.In(loc).Format("15:04:05"), p.last.In(loc).Format("15:04:05"))
	}
	for i, f := range p.findings {
		line := f.Short
		if line == "" {
			line = f.Title
		}
		fmt.Fprintf(&b, "%d %s\n", i+1, line)
	}
	b.WriteString("\n")
	if _, err := io.WriteString(w, b.String()); err != nil {
		return err
	}
	return rowsTable(v.Sessions, h.Kind, h.CPUUnavailable == "").write(w)
}

// rowsTable is the session table of top, with OpenRTC's columns and ours.
// An OpenRTC worker counts no stalls: its column shows "-"; without a CPU
// window (cpuKnown false: the header says why) neither has cpu%.
func rowsTable(rows []fold.Row, kind string, cpuKnown bool) *table {
	t := newTable("session", "agent", "tenant", ">dur(s)", ">mem(MiB)", ">peak", ">cpu%", ">cpu_s", ">gor", ">stalls", "status", "pin")
	for _, r := range rows {
		tenant, gor, pin := "", "", ""
		if r.Tenant != nil {
			tenant = *r.Tenant
		}
		if r.Goroutines != nil {
			gor = fmt.Sprint(*r.Goroutines)
		}
		if r.Pinned {
			pin = "yes"
		}
		stalls := fmt.Sprint(r.Stalls)
		if kind == fold.KindOpenRTC {
			stalls = "-"
		}
		cpu := f1(r.CPUPct)
		if !cpuKnown {
			cpu = "-"
		}
		t.add(r.SessionID, r.AgentName, tenant, f1(r.DurationS), f2(r.MemMB), f2(r.PeakMB), cpu,
			f2(r.CPUSeconds), gor, stalls, r.Status, pin)
	}
	return t
}

// sparkLevels are the bars of a sparkline, blank for nothing.
var sparkLevels = []rune(" ▁▂▃▄▅▆▇█")

func spark(vals []float64, top float64) string {
	var b strings.Builder
	for _, v := range vals {
		i := 0
		if v > 0 && top > 0 {
			i = 1 + int(v/top*float64(len(sparkLevels)-2)+0.5)
		}
		b.WriteRune(sparkLevels[min(i, len(sparkLevels)-1)])
	}
	return b.String()
}

// strip is the recording as a bar of width cells with the moment marked.
func strip(first, last, at time.Time, width int) string {
	pos := 0
	if span := last.Sub(first); span > 0 {
		pos = int(float64(at.Sub(first)) / float64(span) * float64(width-1))
	}
	pos = min(max(pos, 0), width-1)
	return "[" + strings.Repeat("─", pos) + "●" + strings.Repeat("─", width-1-pos) + "]"
}

func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "-"
	}
	return s
}

func mib(b uint64) string {
	if b >= 10<<30 {
		return fmt.Sprintf("%.1f GiB", float64(b)/(1<<30))
	}
	return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
}

func secs(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// clock formats a duration as 1h02m03s, 2m03s or 3s, as the screen does.
func clock(d time.Duration) string { return tui.FormatDuration(d) }

// openrtcCPU describes the sessions' CPU of an OpenRTC worker: a share of its
// event loop's time, over the window the figures cover.
func openrtcCPU(h fold.Header) string {
	switch {
	case h.CPUWindowS <= 0: // a recording: the latest poll's window
		return fmt.Sprintf("cpu %s%% of the loop in sessions", f1(h.CPUPct))
	case h.CPUWindowS < h.UptimeS:
		return fmt.Sprintf("cpu %s%% in sessions over the last %s", f1(h.CPUPct), clock(secs(h.CPUWindowS)))
	}
	return fmt.Sprintf("cpu %s%% in sessions since start", f1(h.CPUPct))
}
