package main

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/openrtc-go/introspect/fold"
)

type exportFlags struct {
	format       string
	every        time.Duration
	since, until string
	output       string
	rows         rowFlags
}

func (a *app) exportCmd() *cobra.Command {
	var f exportFlags
	c := &cobra.Command{
		Use:   "export [REC...]",
		Short: "Top views over a range as rows, CSV or JSON lines, for a chart or a ticket",
		Long: `export writes the top view at every --every over a range as rows: one row per
session per moment, the rows top --json shows, each with the moment's time
first. CSV has a header line with the JSON field names; JSON lines have one
object per row. The view is stepped forward through the recording, never
re-read from its start. A session's last row, "ended" or "errored", carries
its final figures (cpu_seconds, peaks, stalls), those sessions prints: the
CPU window a session ended in is read a few seconds after its end.`,
		Example: `  openrtc-replay export --every 10s --format csv -o top.csv rec.zst
  openrtc-replay export --since 03:10 --until 03:15 --status slow rec.zst
  openrtc-replay export --format jsonl --every 1m rec/ | jq -c '{time, session_id, mem_mb}'`,
		RunE: func(c *cobra.Command, args []string) error { return a.export(c, args, f) },
	}
	fs := c.Flags()
	fs.StringVar(&f.format, "format", "csv", "csv or jsonl")
	fs.DurationVar(&f.every, "every", time.Second, "time between two views")
	fs.StringVar(&f.since, "since", "", "first moment (default: the start)")
	fs.StringVar(&f.until, "until", "", "last moment (default: the end)")
	fs.StringVarP(&f.output, "output", "o", "", "write to this file instead of standard output")
	f.rows.add(c, fold.SortMem) // a chart wants rows in a steady order
	complete(c, "format", "csv", "jsonl")
	a.addWorkerFlag(c)
	return c
}

// exportRow is one row of an export: the moment, then the view's row.
type exportRow struct {
	Time time.Time `json:"time"`
	fold.Row
}

// exportCSVHeader are the columns of export --format csv: the JSON field
// names of a row, after the time. mem_mb and peak_mb are rounded to 0.01
// MiB for reading; mem_bytes and peak_bytes, last, are exact and sum back
// to RSS.
var exportCSVHeader = []string{"time", "session_id", "agent_name", "tenant", "duration_s", "mem_mb", "peak_mb",
	"cpu_pct", "cpu_seconds", "goroutines", "goroutines_peak", "max_cpu_pct", "stalls", "worst_stall_ms",
	"status", "pinned", "start", "end", "outcome", "mem_bytes", "peak_bytes"}

func (a *app) export(c *cobra.Command, args []string, f exportFlags) error {
	if err := f.rows.check(c); err != nil {
		return err
	}
	if f.format != "csv" && f.format != "jsonl" {
		return usageErr(c, "--format %q: want csv or jsonl", f.format)
	}
	if f.every <= 0 {
		return usageErr(c, "--every %s: want a positive duration such as 1s", f.every)
	}
	in, err := a.openEvents(c, args)
	if err != nil {
		return err
	}
	defer in.close()
	from, to, err := in.rangeFlags(c, f.since, f.until)
	if err != nil {
		return err
	}
	if from.IsZero() {
		from = in.first
	}
	if to.IsZero() {
		to = in.last
	}

	out := a.out
	var file *os.File
	if f.output != "" && f.output != "-" {
		if file, err = os.Create(f.output); err != nil {
			return err
		}
		defer file.Close()
		out = file
	}
	bw := bufio.NewWriterSize(out, 64<<10)
	var cw *csv.Writer
	var enc *json.Encoder
	if f.format == "csv" {
		cw = csv.NewWriter(bw)
		cw.Write(exportCSVHeader)
	} else {
		enc = json.NewEncoder(bw)
	}
	write := func(t time.Time, r fold.Row) error {
		if cw != nil {
			return cw.Write(exportCSV(t, r))
		}
		return enc.Encode(exportRow{t, r})
	}

	cur, err := fold.NewCursorAt(in.set, from)
	if err != nil {
		return err
	}
	// An ended row carries the session's final figures: the CPU window it
	// ended in is credited to it only when it arrives, after the views
	// that show it ended.
	finals, err := fold.EndedRows(in.set, from, to)
	if err != nil {
		return err
	}
	bar := a.newProgress(in, "exporting")
	for t := from; !t.After(to); t = t.Add(f.every) {
		if err := a.ctx.Err(); err != nil {
			return err
		}
		if err := cur.Seek(t); err != nil {
			return err
		}
		v := cur.View()
		for _, r := range f.rows.apply(v.Sessions) {
			if fin, ok := finals[r.SessionID]; ok && !r.End.IsZero() && fin.End.Equal(r.End) {
				r = withFinalFigures(r, fin)
			}
			if err := write(t, r); err != nil {
				return err
			}
		}
		bar.update(t)
	}
	bar.done()
	if cw != nil {
		if cw.Flush(); cw.Error() != nil {
			return fmt.Errorf("export: %w", cw.Error())
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if file != nil {
		if err := file.Close(); err != nil {
			return fmt.Errorf("export: %w", err)
		}
	}
	a.warnDamage(in)
	return nil
}

// withFinalFigures returns the ended row r with the cumulative figures of
// fin, the session's final row: what it used and held over its whole life.
// The row's moment-bound figures (mem_mb, cpu_pct) stay the view's.
func withFinalFigures(r, fin fold.Row) fold.Row {
	r.CPUSeconds, r.MaxCPUPct, r.GorPeak = fin.CPUSeconds, fin.MaxCPUPct, fin.GorPeak
	r.PeakBytes, r.PeakMB = fin.PeakBytes, fin.PeakMB
	r.Stalls, r.WorstStall, r.StarvedStalls, r.UnknownStalls = fin.Stalls, fin.WorstStall, fin.StarvedStalls, fin.UnknownStalls
	return r
}

func exportCSV(t time.Time, r fold.Row) []string {
	gor := ""
	if r.Goroutines != nil {
		gor = strconv.Itoa(*r.Goroutines)
	}
	return []string{csvTime(t), r.SessionID, r.AgentName, tenantOf(r), num(r.DurationS), num(round2(r.MemMB)), num(round2(r.PeakMB)),
		num(r.CPUPct), num(r.CPUSeconds), gor, strconv.Itoa(r.GorPeak), num(r.MaxCPUPct), strconv.Itoa(r.Stalls),
		num(r.WorstStall), r.Status, strconv.FormatBool(r.Pinned), csvTime(r.Start), csvTime(r.End), r.Outcome,
		strconv.FormatUint(r.MemBytes, 10), strconv.FormatUint(r.PeakBytes, 10)}
}
