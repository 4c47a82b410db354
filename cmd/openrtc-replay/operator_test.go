package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/openrtc-go/introspect/fold"
)

// TestSummaryNoRecords: an application's own slog log holds nothing of
// ours; summary says there is nothing to judge and exits 2, in text and in
// JSON.
func TestSummaryNoRecords(t *testing.T) {
	log := filepath.Join(t.TempDir(), "app.jsonl")
	writeFile(t, log, []byte(`{"time":"2026-11-27T03:00:00Z","level":"INFO","msg":"listening","addr":":8080"}
{"time":"2026-11-27T03:00:01Z","level":"WARN","msg":"slow upstream","ms":900}
`))
	r := runArgs(t, "summary", log)
	if r.code != exitBadArgs || !strings.Contains(r.err, "app.jsonl: no introspection records: none of its 2 lines is an event of openrtc-introspect") {
		t.Errorf("summary of an app log: exit %d\n%s", r.code, r.err)
	}
	// One clear line, not a page of dashes ("time range - → - (0s)").
	if r.out != "" || strings.Count(r.err, "\n") != 1 {
		t.Errorf("an app log's summary printed a page:\n%s%s", r.out, r.err)
	}
	// The other views say so too, rather than print an empty table.
	for _, args := range [][]string{{"top", "--once"}, {"slow"}, {"sessions"}, {"export"}} {
		r := runArgs(t, append(args, log)...)
		if r.code != exitBadArgs || r.out != "" || !strings.Contains(r.err, "app.jsonl: no introspection records") {
			t.Errorf("%v of an app log: exit %d\n%s%s", args, r.code, r.out, r.err)
		}
	}
	r = runArgs(t, "summary", "--json", log)
	var s fold.Summary
	if err := json.Unmarshal([]byte(r.out), &s); err != nil {
		t.Fatal(err)
	}
	if r.code != exitBadArgs || len(s.Findings) != 1 || s.Findings[0].Section != fold.SectionNoRecords {
		t.Errorf("summary --json of an app log: exit %d, findings %+v", r.code, s.Findings)
	}
}

// TestSessionsSortByMemAndCPU: sessions --sort mem_mb and cpu_pct order by
// real figures (each session's at its end, or at the end of the input),
// and a live session says so in JSON as in the table.
func TestSessionsSortByMemAndCPU(t *testing.T) {
	for _, key := range []string{fold.SortMem, fold.SortCPU} {
		r := runArgs(t, "sessions", "--json", "--sort", key, fixture("incident.zst"))
		var rows []fold.Row
		if err := json.Unmarshal([]byte(r.out), &rows); err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		val := func(r fold.Row) float64 {
			if key == fold.SortMem {
				return r.MemMB
			}
			return r.CPUPct
		}
		nonzero := 0
		for i, row := range rows {
			if val(row) > 0 {
				nonzero++
			}
			if i > 0 && val(rows[i-1]) < val(row) {
				t.Errorf("--sort %s: row %d (%s %.2f) after a lower one (%.2f)", key, i, row.SessionID, val(row), val(rows[i-1]))
			}
			if row.End.IsZero() && row.Outcome != "live" {
				t.Errorf("%s is live but its JSON outcome is %q", row.SessionID, row.Outcome)
			}
		}
		// Every session had a share of memory; few were on CPU in
		// their last window, but the hog was.
		if key == fold.SortMem && nonzero < len(rows)*9/10 {
			t.Errorf("--sort %s: only %d of %d rows have a value", key, nonzero, len(rows))
		}
		if key == fold.SortCPU && (len(rows) == 0 || rows[0].SessionID != "call-cpuhog") {
			t.Errorf("--sort cpu_pct: first row %+v, want call-cpuhog", rows[:min(1, len(rows))])
		}
	}
}

// TestTimesAsOnScreen: --at takes the time as the screen shows it, and an
// error shows times that way too.
func TestTimesAsOnScreen(t *testing.T) {
	r := runArgs(t, "top", "--once", "--at", "2026-11-27 03:12:30", fixture("normal.zst"))
	if r.code != 0 || !strings.Contains(r.out, "2026-11-27 03:12:30") {
		t.Errorf("--at as on screen: exit %d %s\n%s", r.code, r.err, r.out)
	}
	r = runArgs(t, "top", "--once", "--at", "2026-11-27 05:00:00", fixture("normal.zst"))
	if r.code != exitBadArgs || !strings.Contains(r.err, "2026-11-27 05:00:00 is outside the recording, which runs from 2026-11-27 03:10:00") {
		t.Errorf("outside: exit %d %q", r.code, r.err)
	}
}
