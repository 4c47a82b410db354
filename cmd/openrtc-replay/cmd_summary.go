package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/openrtc-go/introspect/fold"
	"github.com/openrtc-go/introspect/recorder"
)

type summaryFlags struct {
	json bool
	at   string
}

func (a *app) summaryCmd() *cobra.Command {
	var f summaryFlags
	c := &cobra.Command{
		Use:   "summary [REC...]",
		Short: "The post-mortem page: what happened, who did it, and which runbook section to read",
		Long: `summary reads the whole input once and prints the post-mortem page: the inputs
and their time range, damage found, the worker's runs, peak concurrency and
when, RSS low and high and its trend, the top sessions by CPU seconds, the
stalls grouped by where they happened (count, total, worst, who, the stack
once), and the findings, each with the section of runbook/density-debugging.md
it points to and the top command to look at it.

With --at FROM..TO, summary prints one table instead, across every worker
of the inputs (a directory, or a bucket prefix such as s3://recordings/prod/
under which workers upload; --worker keeps one): who stalled, on which
worker, on which loop and line, worst first, reading of each worker's files
only the frames of the window.

An input without a single introspection record (an application's own slog
log) has nothing to judge: summary says so in one line on standard error
and exits with status 2, as for any input that is not a recording; with
--json it prints the summary with its one finding (section no-records),
and exits with status 2 too.

The findings name every session that caused a blocking stall: the three
that blocked longest a finding each, the others in one finding ("N more
holders also blocked ..."). Holds whose holder only waited for a CPU are not
among them (a finding of their own names who had the CPU), nor are holds
whose cause is unknown (one finding counts them). "stalls by place" lists
at most 5 places and says how many more there are.`,
		Example: `  openrtc-replay summary rec.zst
  openrtc-replay summary /var/lib/worker/rec/
  openrtc-replay summary --json rec.zst | jq -r '.findings[].runbook'
  openrtc-replay summary --at 03:10..03:15 's3://recordings/prod/?region=eu-west-1'`,
		RunE: func(c *cobra.Command, args []string) error { return a.summary(c, args, f) },
	}
	c.Flags().BoolVar(&f.json, "json", false, "print the summary as JSON")
	c.Flags().StringVar(&f.at, "at", "", "FROM..TO: one table of who stalled, on which worker, and where in that window, across the workers of a directory or bucket prefix")
	a.addWorkerFlag(c)
	return c
}

func (a *app) summary(c *cobra.Command, args []string, f summaryFlags) error {
	if f.at != "" {
		return a.summaryFleet(c, args, f)
	}
	in, err := a.open(c, args)
	if err != nil {
		return err
	}
	defer in.close()
	bar := a.newProgress(in, "reading the recording")
	r, err := fold.ReadReport(in.set.Scan(), bar.update)
	bar.done()
	if err != nil {
		return err
	}
	s := r.Summary()
	s.Inputs, s.Damage = in.inputs(), in.damageNotes()
	if len(s.Findings) == 1 && s.Findings[0].Section == fold.SectionNoRecords {
		// Nothing to judge: not a recording of introspection.
		if !f.json {
			return noEvents(in.title(), int(s.Lines))
		}
		a.code = exitBadArgs
	}
	if f.json {
		err = writeJSON(a.out, s)
	} else {
		err = writeSummary(a.out, s, in)
	}
	a.warnDamage(in)
	return err
}

// displayPath is the name of an input file for people: the bundled
// incident is spooled to a temporary file that nobody should see.
func (in *input) displayPath(p string) string {
	if len(in.names) == 1 && in.names[0] == bundledName {
		return bundledName
	}
	return p
}

func (in *input) inputs() []fold.Input {
	var out []fold.Input
	for _, fi := range in.set.Files() {
		out = append(out, fold.Input{Path: in.displayPath(fi.Path), Bytes: fi.Size, Start: fi.First, End: fi.Last})
	}
	return out
}

// damageNotes lists the structural damage of every file, and its bad lines
// as one note per file.
func (in *input) damageNotes() []fold.DamageNote {
	out := []fold.DamageNote{}
	for _, fi := range in.set.Files() {
		var firstBad *recorder.Damage
		for i, d := range fi.Damage {
			if d.Kind == recorder.BadLine {
				if firstBad == nil {
					firstBad = &fi.Damage[i]
				}
				continue
			}
			detail := ""
			if d.Err != nil {
				detail = d.Err.Error()
			}
			out = append(out, fold.DamageNote{Path: in.displayPath(fi.Path), Kind: d.Kind.String(),
				Offset: d.Offset, Bytes: d.Bytes, Detail: detail})
		}
		if fi.BadLines > 0 && firstBad != nil {
			out = append(out, fold.DamageNote{Path: in.displayPath(fi.Path), Kind: recorder.BadLine.String(),
				Offset: firstBad.Offset, Bytes: fi.BadLines,
				Detail: fmt.Sprintf("%s skipped, the first at offset %d", plural(int(fi.BadLines), "line"), firstBad.Offset)})
		}
	}
	return out
}

// writeSummary prints the post-mortem page.
func writeSummary(w io.Writer, s fold.Summary, in *input) error {
	loc := in.loc
	at := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.In(loc).Format(timeLayout)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "openrtc-replay summary · %s\n\n", in.title())

	b.WriteString("inputs\n")
	for _, i := range s.Inputs {
		fmt.Fprintf(&b, "  %s  %s, %s → %s\n", i.Path, size(i.Bytes), at(i.Start), at(i.End))
	}
	fmt.Fprintf(&b, "  time range  %s → %s (%s)\n", at(s.Start), at(s.End), clock(secs(s.DurationS)))
	if len(s.Damage) == 0 {
		b.WriteString("  damage      none\n")
	}
	for i, d := range s.Damage {
		label := "  damage      "
		if i > 0 {
			label = "              "
		}
		what := fmt.Sprintf("%s at offset %d (%d bytes)", d.Kind, d.Offset, d.Bytes)
		if d.Kind == recorder.BadLine.String() {
			what = "bad lines: " + d.Detail
		} else if d.Detail != "" {
			what += ": " + d.Detail
		}
		fmt.Fprintf(&b, "%s%s: %s\n", label, d.Path, what)
	}
	kinds := make([]string, 0, len(s.Events))
	for k := range s.Events {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	var counts []string
	for _, k := range kinds {
		counts = append(counts, fmt.Sprintf("%s %d", k, s.Events[k]))
	}
	fmt.Fprintf(&b, "  records     %d lines, %s of JSON: %s\n", s.Lines, size(s.Bytes), strings.Join(counts, ", "))
	if s.BadLines > 0 {
		fmt.Fprintf(&b, "  malformed   %s skipped\n", plural(int(s.BadLines), "event line"))
	}
	if s.NewerSchema {
		b.WriteString("  schema      some records are of a newer schema: their unknown fields were skipped\n")
	}
	for _, wl := range s.Workers {
		end := "no stop recorded (still being written, or the worker crashed or was killed)"
		switch {
		case wl.Stopped:
			end = "stopped cleanly"
			if wl.StopReason != "" {
				end += " (" + wl.StopReason + ")"
			}
		case wl.StoppedFailing && strings.Contains(wl.StopReason, "no space left"):
			end = fmt.Sprintf("stopped, %d records dropped for lack of space", wl.Dropped)
		case wl.StoppedFailing:
			end = fmt.Sprintf("stopped, %d records dropped because writing failed (%s)", wl.Dropped, wl.StopReason)
		}
		fmt.Fprintf(&b, "  worker      %s pid %d on %s, %s, %s → %s, %s", orDash(wl.Name), wl.PID, orDash(wl.Host),
			orDash(wl.GoVersion), at(wl.Start), at(wl.End), end)
		if wl.Dropped > 0 && !wl.StoppedFailing {
			fmt.Fprintf(&b, ", %d events dropped by the recorder", wl.Dropped)
		}
		b.WriteString("\n")
	}

	b.WriteString("\nworker\n")
	fmt.Fprintf(&b, "  sessions    %d (%d failed), peak %d live at %s\n", s.Sessions, s.Failed, s.PeakLive, at(s.PeakLiveAt))
	if s.RSS.Trend == "unknown" {
		b.WriteString("  rss         no samples\n")
	} else {
		fmt.Fprintf(&b, "  rss         low %s at %s, high %s at %s\n", mib(s.RSS.LowBytes), at(s.RSS.LowAt), mib(s.RSS.HighBytes), at(s.RSS.HighAt))
		fmt.Fprintf(&b, "  rss trend   %s\n", rssTrendText(s.RSS))
	}
	fmt.Fprintf(&b, "  stalls      %d\n", s.Stalls)
	if s.CPU != nil && s.CPU.Text() != "" {
		t := s.CPU.Text()
		fmt.Fprintf(&b, "  cpu         %s\n", t)
	}

	b.WriteString("\ntop sessions by CPU\n")
	if len(s.TopCPU) == 0 {
		b.WriteString("  none on CPU\n")
	} else {
		t := newTable("session", "agent", "tenant", ">cpu_s", ">max_cpu%", ">dur(s)", ">gor_peak", ">stalls", "outcome")
		for _, r := range s.TopCPU {
			t.add(r.SessionID, r.AgentName, tenantOf(r), f2(r.CPUSeconds), f1(r.MaxCPUPct), f1(r.DurationS),
				fmt.Sprint(r.GorPeak), fmt.Sprint(r.Stalls), outcome(r))
		}
		indent(&b, t)
	}

	fmt.Fprintf(&b, "\nstalls by place (holders' own stalls first, the most blocked time first; %d at most: slow --group lists them all)\n", fold.SummaryTop)
	if len(s.StallGroups) == 0 {
		b.WriteString("  none\n")
	}
	for _, g := range s.StallGroups {
		writeGroup(&b, g, loc)
	}
	if s.MoreStallGroups > 0 {
		fmt.Fprintf(&b, "  and %s more (%s): slow --group lists them all\n", plural(s.MoreStallGroups, "place"), plural(s.MoreStalls, "stall"))
	}

	b.WriteString("\nfindings\n")
	for i, fd := range s.Findings {
		fmt.Fprintf(&b, "  %d. %s\n     → %s", i+1, fd.Title, fd.Runbook)
		if !fd.At.IsZero() {
			fmt.Fprintf(&b, " · look: openrtc-replay top --at %s%s", ceilMilli(fd.At).In(loc).Format(timeLayout), in.argsText())
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// ceilMilli rounds t up to the millisecond: a moment shown to the
// millisecond must not fall before the event it points at.
func ceilMilli(t time.Time) time.Time {
	if r := t.Truncate(time.Millisecond); !r.Equal(t) {
		return r.Add(time.Millisecond)
	}
	return t
}

// argsText is the inputs as a command line's arguments, for the commands
// the summary suggests; nothing for the bundled incident.
func (in *input) argsText() string {
	if len(in.names) == 1 && in.names[0] == bundledName {
		return ""
	}
	s := " " + strings.Join(in.names, " ")
	if in.worker != "" {
		s = " --worker " + in.worker + s
	}
	return s
}

// indent writes t with every line indented by two spaces.
func indent(b *strings.Builder, t *table) {
	var tb strings.Builder
	t.write(&tb)
	for _, l := range strings.SplitAfter(tb.String(), "\n") {
		if l != "" {
			b.WriteString("  " + l)
		}
	}
}

func size(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// rssTrendText says how RSS and the share per session moved along their
// trend lines. Rates per hour are given only over a span long enough (ten
// minutes) for them not to be an extrapolation of seconds.
func rssTrendText(r fold.RSSSummary) string {
	span := time.Duration(r.SpanSeconds * float64(time.Second))
	if span < 10*time.Minute {
		return fmt.Sprintf("%s, %+.1f MiB over %s (fit %.2f); per session %s, %+.2f MiB",
			r.Trend, r.RiseMiB, clock(span), r.Fit, r.ShareTrend, r.ShareRiseMiB)
	}
	return fmt.Sprintf("%s, %+.1f MiB/h over %s (fit %.2f); per session %s, %+.2f MiB/h",
		r.Trend, r.SlopeMiBPerHour, clock(span), r.Fit, r.ShareTrend, r.ShareSlopeMiBPerHour)
}
