package main

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/openrtc-go/introspect/fold"
)

// sortStart keeps the sessions in start order, the default of sessions.
const sortStart = "start"

type sessionsFlags struct {
	json, csv bool
	sort      string
}

func (a *app) sessionsCmd() *cobra.Command {
	var f sessionsFlags
	keys := append([]string{sortStart}, fold.SortKeys...)
	c := &cobra.Command{
		Use:   "sessions [REC...]",
		Short: "One row per session over the whole input: life, outcome, memory, CPU, goroutines, stalls",
		Long: `sessions lists every session of the input, one row each: id, agent, tenant,
start, end, duration, outcome, peak memory share, CPU seconds (what its CPU
profiler samples stand for, 10 ms each, window by window), highest
cpu% (share of the process's CPU in one window),
goroutines high-water mark, stalls, the worst stall, and for a session whose
goroutines grew, where the largest group of them was parked when they last
grew (goroutines_at: "425× leaky.go:42 (chan receive)"). A session still live
at the end of the input has no end and the outcome "live". Sort by duration
to rule out a wedged long-lived session. --sort mem_mb and cpu_pct order by
the session's memory share (MiB) and CPU share at its end, or at the end of
the input for a live one (the JSON rows carry both); attention floats the
sessions that stalled, then CPU and goroutine outliers.`,
		Example: `  openrtc-replay sessions rec.zst
  openrtc-replay sessions --sort duration_s rec/ | head
  openrtc-replay sessions --csv rec.zst > sessions.csv
  openrtc-replay sessions --json rec.zst | jq '.[] | select(.stalls > 0)'`,
		RunE: func(c *cobra.Command, args []string) error { return a.sessions(c, args, f) },
	}
	fs := c.Flags()
	fs.BoolVar(&f.json, "json", false, "print the rows as a JSON array")
	fs.BoolVar(&f.csv, "csv", false, "print the rows as CSV with a header line")
	fs.StringVar(&f.sort, "sort", sortStart, "sort by "+strings.Join(keys, ", ")+" (numbers descending)")
	complete(c, "sort", keys...)
	a.addWorkerFlag(c)
	return c
}

func (a *app) sessions(c *cobra.Command, args []string, f sessionsFlags) error {
	if f.json && f.csv {
		return usageErr(c, "--json and --csv: pick one")
	}
	if f.sort != sortStart && !fold.ValidSort(f.sort) {
		return usageErr(c, "--sort %q: want %s or one of %s", f.sort, sortStart, strings.Join(fold.SortKeys, ", "))
	}
	in, err := a.openEvents(c, args)
	if err != nil {
		return err
	}
	defer in.close()
	bar := a.newProgress(in, "reading sessions")
	r, err := fold.ReadReport(in.set.Scan(), bar.update)
	bar.done()
	if err != nil {
		return err
	}
	rows := r.Rows()
	for i := range rows {
		rows[i].Outcome = outcome(rows[i]) // "live" in JSON too, as in the table
	}
	if f.sort != sortStart {
		fold.SortRows(rows, f.sort)
	}
	switch {
	case f.json:
		err = writeJSON(a.out, rows)
	case f.csv:
		err = writeSessionsCSV(a.out, rows)
	default:
		err = sessionsTable(rows, in).write(a.out)
		if t := r.CPU().Text(); t != "" && err == nil {
			_, err = fmt.Fprintf(a.out, "\n%s\n", t)
		}
	}
	if t := r.CPU().Text(); t != "" && (f.json || f.csv) {
		// Rows only on stdout; the reader of the sum is told here.
		fmt.Fprintf(a.err, "openrtc-replay: note: %s\n", t)
	}
	a.warnDamage(in)
	return err
}

// parkedAt says where the largest group of a session's goroutines was when
// their number last grew, "425× leaky.go:42 (chan receive)"; "" for a
// session whose goroutines never grew.
func parkedAt(r fold.Row) string {
	if len(r.GorStacks) == 0 {
		return ""
	}
	g := r.GorStacks[0]
	s := fmt.Sprintf("%d× %s", g.Count, fold.ShortFrame(g.Frame))
	if g.Wait != "" {
		s += " (" + g.Wait + ")"
	}
	return s
}

func outcome(r fold.Row) string {
	if r.End.IsZero() {
		return "live"
	}
	return r.Outcome
}

func sessionsTable(rows []fold.Row, in *input) *table {
	layout := "15:04:05"
	if f, l := in.first.In(in.loc), in.last.In(in.loc); f.YearDay() != l.YearDay() || f.Year() != l.Year() {
		layout = "2006-01-02T15:04:05"
	}
	t := newTable("session", "agent", "tenant", "start", "end", ">dur(s)", "outcome", ">peak(MiB)", ">cpu_s",
		">max_cpu%", ">gor_peak", ">stalls", ">worst(ms)", "goroutines_at")
	for _, r := range rows {
		tenant, end := "", ""
		if r.Tenant != nil {
			tenant = *r.Tenant
		}
		if !r.End.IsZero() {
			end = r.End.In(in.loc).Format(layout)
		}
		t.add(r.SessionID, r.AgentName, tenant, r.Start.In(in.loc).Format(layout), end, f1(r.DurationS), outcome(r),
			f2(r.PeakMB), f2(r.CPUSeconds), f1(r.MaxCPUPct), strconv.Itoa(r.GorPeak), strconv.Itoa(r.Stalls),
			fmt.Sprintf("%.0f", r.WorstStall), parkedAt(r))
	}
	return t
}

// sessionsCSVHeader are the columns of sessions --csv: the JSON field
// names of the rows.
var sessionsCSVHeader = []string{"session_id", "agent_name", "tenant", "start", "end", "duration_s", "outcome",
	"peak_mb", "cpu_seconds", "max_cpu_pct", "goroutines_peak", "stalls", "worst_stall_ms", "peak_bytes"}

func writeSessionsCSV(w io.Writer, rows []fold.Row) error {
	cw := csv.NewWriter(w)
	cw.Write(sessionsCSVHeader)
	for _, r := range rows {
		cw.Write([]string{r.SessionID, r.AgentName, tenantOf(r), csvTime(r.Start), csvTime(r.End), num(r.DurationS),
			outcome(r), num(round2(r.PeakMB)), num(r.CPUSeconds), num(r.MaxCPUPct), strconv.Itoa(r.GorPeak),
			strconv.Itoa(r.Stalls), num(r.WorstStall), strconv.FormatUint(r.PeakBytes, 10)})
	}
	cw.Flush()
	return cw.Error()
}

func tenantOf(r fold.Row) string {
	if r.Tenant == nil {
		return ""
	}
	return *r.Tenant
}

// csvTime writes a time in full, in UTC, for spreadsheets and scripts;
// empty for none.
func csvTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func num(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// round2 rounds MiB to the hundredth for the CSV's mem_mb and peak_mb
// columns; the exact figures are in the bytes columns.
func round2(v float64) float64 { return math.Round(v*100) / 100 }
