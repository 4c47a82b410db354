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

// fleetRow is who stalled, on which worker, and where: the stalls of one
// session on one loop or section in the window, with the worst of them.
type fleetRow struct {
	Worker    string    `json:"worker"`
	SessionID string    `json:"session_id"` // "" when the stalls could not be attributed
	Agent     string    `json:"agent_name,omitempty"`
	Source    string    `json:"source"`
	Stalls    int       `json:"stalls"`
	WorstMs   float64   `json:"worst_ms"`
	WorstID   uint64    `json:"worst_stall_id"`
	WorstAt   time.Time `json:"worst_at"`
	Cause     string    `json:"cause,omitempty"`
	Frame     string    `json:"frame,omitempty"`
}

// fleetSummary is `summary --at FROM..TO`: one table across the workers
// of the inputs.
type fleetSummary struct {
	From    time.Time  `json:"from"`
	To      time.Time  `json:"to"`
	Workers []string   `json:"workers"`
	Rows    []fleetRow `json:"stalls"`
	Quiet   []string   `json:"workers_without_stalls"`
}

// summaryFleet answers "which session on which worker stalled, and where"
// for a window: each worker's files are read separately (GroupWorkers keeps
// them apart), only the frames of the window (ScanRange), and the stalls
// are grouped by worker, session and source, the worst first.
func (a *app) summaryFleet(c *cobra.Command, args []string, f summaryFlags) error {
	if len(args) == 0 {
		return usageErr(c, "--at FROM..TO: give the directory or bucket prefix to read")
	}
	all, err := openAll(args)
	if err != nil {
		return a.openError(c, args, err)
	}
	defer all.close()
	first, last := all.set.Span()
	if first.IsZero() {
		return badInput(fmt.Errorf("%s: %w", strings.Join(args, ", "), fold.ErrEmpty))
	}
	loc := a.loc
	if loc == nil {
		loc = time.UTC
		if sc := all.set.Scan(); sc.Next() {
			loc = sc.Record().Time.Location()
		}
	}
	s := fleetSummary{From: first, To: last}
	if f.at != "" {
		fromS, toS, ok := splitRange(f.at)
		if !ok {
			return usageErr(c, "--at %q: want FROM..TO, such as 03:10..03:15 (%s)", f.at, timeSyntax)
		}
		if s.From, err = parseTimeSpec(fromS, first, last, loc); err != nil {
			return usageErr(c, "--at: %v", err)
		}
		if s.To, err = parseTimeSpec(toS, first, last, loc); err != nil {
			return usageErr(c, "--at: %v", err)
		}
		if s.To.Before(s.From) {
			return usageErr(c, "--at %s: the end is before the start", f.at)
		}
		if s.To.Before(first) || s.From.After(last) {
			return badInput(fmt.Errorf("--at %s is %w, which runs from %s to %s", f.at, errOutside, onScreen(first, loc), onScreen(last, loc)))
		}
	}
	groups := all.set.Workers()
	if a.worker != "" {
		g, match, ok := recorder.SelectWorker(groups, a.worker)
		if !ok {
			return badInput(&recorder.WorkersError{Groups: groups, Worker: a.worker, Match: match})
		}
		groups = []recorder.WorkerGroup{g}
	}
	for _, g := range groups {
		s.Workers = append(s.Workers, g.Key)
		if g.Last.Before(s.From) || g.First.After(s.To) {
			s.Quiet = append(s.Quiet, g.Key)
			continue
		}
		rows, err := workerStalls(all, g.Key, s.From, s.To)
		if err != nil {
			return badInput(fmt.Errorf("worker %s: %w", g.Key, err))
		}
		if len(rows) == 0 {
			s.Quiet = append(s.Quiet, g.Key)
		}
		s.Rows = append(s.Rows, rows...)
	}
	sort.SliceStable(s.Rows, func(i, j int) bool { return s.Rows[i].WorstMs > s.Rows[j].WorstMs })
	if s.Quiet == nil {
		s.Quiet = []string{}
	}
	if s.Rows == nil {
		s.Rows = []fleetRow{}
	}
	if f.json {
		return writeJSON(a.out, s)
	}
	return writeFleet(a.out, s, loc)
}

// workerStalls returns the stalls of one worker between from and to,
// grouped by session and source.
func workerStalls(all *allInputs, key string, from, to time.Time) ([]fleetRow, error) {
	set, err := all.worker(key)
	if err != nil {
		return nil, err
	}
	defer set.Close()
	stalls, err := fold.CollectStalls(set.ScanRange(from, to), nil)
	if err != nil {
		return nil, err
	}
	type k struct{ session, source string }
	byKey := map[k]*fleetRow{}
	var order []k
	for _, st := range stalls {
		if st.At.Before(from) || st.First.After(to) {
			continue
		}
		kk := k{st.SessionID, st.Source}
		r := byKey[kk]
		if r == nil {
			r = &fleetRow{Worker: key, SessionID: st.SessionID, Agent: st.Agent, Source: st.Source}
			byKey[kk] = r
			order = append(order, kk)
		}
		r.Stalls++
		if st.BlockedMs > r.WorstMs || r.WorstID == 0 {
			r.WorstMs, r.WorstID, r.WorstAt, r.Cause, r.Frame = st.BlockedMs, st.ID, st.At, st.Cause, st.Frame
		}
	}
	rows := make([]fleetRow, 0, len(order))
	for _, kk := range order {
		rows = append(rows, *byKey[kk])
	}
	return rows, nil
}

func writeFleet(w io.Writer, s fleetSummary, loc *time.Location) error {
	var b strings.Builder
	fmt.Fprintf(&b, "openrtc-replay summary · %s → %s · %s\n\n", onScreen(s.From, loc), onScreen(s.To, loc), plural(len(s.Workers), "worker"))
	if len(s.Rows) == 0 {
		b.WriteString("no stalls in this window\n")
	} else {
		b.WriteString("who stalled, on which worker, and where (worst first)\n")
		t := newTable("worker", "session", "agent", "source", ">stalls", ">worst", "worst at", "cause", "frame")
		for _, r := range s.Rows {
			t.add(r.Worker, orDash(r.SessionID), orDash(r.Agent), r.Source, fmt.Sprint(r.Stalls),
				worstText(r.WorstMs), onScreen(r.WorstAt, loc), orDash(r.Cause), orDash(fold.ShortFrame(r.Frame)))
		}
		var tb strings.Builder
		if err := t.write(&tb); err != nil {
			return err
		}
		for _, l := range strings.SplitAfter(tb.String(), "\n") {
			if l != "" {
				b.WriteString("  " + l)
			}
		}
	}
	if len(s.Quiet) > 0 {
		fmt.Fprintf(&b, "\nno stalls: %s\n", strings.Join(s.Quiet, ", "))
	}
	b.WriteString("\nnext: openrtc-replay slow --worker WORKER --since FROM --until TO INPUT shows each stall's stack\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// worstText shows a stall's length to the millisecond under a second.
func worstText(ms float64) string {
	if ms < 1000 {
		return fmt.Sprintf("%.0fms", ms)
	}
	return fmt.Sprintf("%.2fs", ms/1000)
}
