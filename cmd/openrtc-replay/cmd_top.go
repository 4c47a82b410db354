package main

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/openrtc-go/introspect/cmd/openrtc-replay/internal/tui"
	"github.com/openrtc-go/introspect/fold"
)

// rowFlags select and order a view's rows, as in openrtc top.
type rowFlags struct {
	sort, status, agent, tenant string
	reverse                     bool
}

// statusValues are the values of --status: the f key's cycle, and ended.
var statusValues = append(slices.Clone(fold.StatusFilters), fold.StatusEnded)

// add registers the flags; rows are sorted by defaultSort unless --sort
// says otherwise.
func (r *rowFlags) add(c *cobra.Command, defaultSort string) {
	fs := c.Flags()
	fs.StringVar(&r.sort, "sort", defaultSort, "sort rows by "+strings.Join(fold.SortKeys, ", ")+
		" (numbers descending; attention: slow and stalling sessions, then CPU and goroutine outliers)")
	fs.BoolVar(&r.reverse, "reverse", false, "reverse the order of --sort")
	fs.StringVar(&r.status, "status", "all", "show only rows of this status: "+strings.Join(statusValues, ", "))
	fs.StringVar(&r.agent, "agent", "", "show only the sessions of this agent")
	fs.StringVar(&r.tenant, "tenant", "", "show only the sessions of this tenant")
	complete(c, "sort", fold.SortKeys...)
	complete(c, "status", statusValues...)
}

func (r rowFlags) check(c *cobra.Command) error {
	if !fold.ValidSort(r.sort) {
		return usageErr(c, "--sort %q: want one of %s", r.sort, strings.Join(fold.SortKeys, ", "))
	}
	if !slices.Contains(statusValues, r.status) {
		return usageErr(c, "--status %q: want one of %s", r.status, strings.Join(statusValues, ", "))
	}
	return nil
}

// apply filters and sorts rows in place.
func (r rowFlags) apply(rows []fold.Row) []fold.Row {
	rows = fold.FilterRows(rows, fold.Filter{Status: r.status, Agent: r.agent, Tenant: r.tenant})
	fold.SortRows(rows, r.sort)
	if r.reverse {
		slices.Reverse(rows)
	}
	return rows
}

// complete registers the fixed values of a flag for shell completion.
func complete(c *cobra.Command, flag string, values ...string) {
	_ = c.RegisterFlagCompletionFunc(flag, cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp))
}

type topFlags struct {
	once, json, follow bool
	at                 string
	rows               rowFlags
}

func (a *app) topCmd(use string) *cobra.Command {
	var f topFlags
	c := &cobra.Command{
		Use:   use,
		Short: "The view of the worker at a moment: interactive on a terminal, a table with --once",
		Long: `top shows the worker at one moment of the recording, as openrtc top showed it
live: the header (the moment and where it sits in the recording, live
sessions, stalls, the process's CPU in cores (2.00: two cores busy) and how
much of it sessions used, RSS, scheduling latency, a CPU sparkline of the last minute)
and one row per session: session, agent, tenant, dur(s), mem(MiB), peak,
cpu%, cpu_s, gor, stalls, status, pin.

cpu% (JSON cpu_pct) is a session's share of the process's CPU time in the
latest CPU window: the rows plus the unlabelled rest (runtime, GC, goroutines
outside any session) make 100, and the header's cpu% is the rows' sum, the
same share ("in sessions"). The process's own CPU (JSON process_cpu_pct) is in percent of one
core, 200 for two busy cores, measured with getrusage. cpu_s (cpu_seconds) is
a session's cumulative CPU time: what its samples stand for, 10 ms each, so
the sessions' cpu_s add up to the process's CPU time less the unlabelled part
and less what no sample covered (the header says how much when it matters). mem(MiB) (JSON mem_mb, OpenRTC's name; exact in
mem_bytes) is RSS divided equally among the live sessions, so the rows sum
to RSS.

On a terminal it is interactive and opens on the problem: under the header,
the findings of the whole recording (those of summary), each with a number
key that goes to its moment with its session selected; the rows sorted by
attention (slow and stalling sessions, then CPU and goroutine outliers).
t/→ and T/← step a sample, j/J jump, [ and ] go to the previous or next
stall, g/G to the ends, space plays, enter drills into a session, r reopens
a recording that is still being written and F follows its end, ? lists
every key. With --once it prints the view at --at (default: the end) as a
plain table and exits; not on a terminal (piped) and without --once, it
prints the same table with the numbered findings under the header, as the
screen opens; with --json it prints the view as JSON, with the
session rows in OpenRTC's field names (--once --json is the same).`,
		Example: `  openrtc-replay                                 # the bundled incident
  openrtc-replay top rec.zst                     # interactive, at the end
  openrtc-replay top --once --at 03:12 rec.zst   # the table at 03:12
  openrtc-replay top --json --at +90s rec/ | jq '.sessions[0]'
  openrtc-replay top --once --sort cpu_pct --status slow rec.zst
  openrtc-replay top --follow /var/lib/worker/rec/   # follow a recording being written`,
		// Any argument is an input: the root takes them too, so that
		// `openrtc-replay REC` is top.
		Args: cobra.ArbitraryArgs,
		RunE: func(c *cobra.Command, args []string) error { return a.top(c, args, f) },
	}
	fs := c.Flags()
	fs.BoolVar(&f.once, "once", false, "print the view at --at as a table and exit")
	fs.BoolVar(&f.json, "json", false, "print the view at --at as JSON and exit")
	fs.BoolVar(&f.follow, "follow", false, "interactive: follow the end of a recording that is still being written (F toggles)")
	fs.StringVar(&f.at, "at", "", "the moment to show: RFC 3339, \"2006-01-02 15:04:05\" as the screen shows it, 15:04[:05], +90s from the start, -5m before the end (default: the end)")
	f.rows.add(c, fold.SortAttention)
	a.addWorkerFlag(c)
	return c
}

func (a *app) top(c *cobra.Command, args []string, f topFlags) error {
	if err := f.rows.check(c); err != nil {
		return err
	}
	if f.follow && (f.once || f.json) {
		return usageErr(c, "--follow is for the interactive screen, not --once or --json (see slow --follow for a script)")
	}
	in, err := a.openEvents(c, args)
	if err != nil {
		return err
	}
	defer in.close()
	at := in.last
	if f.at != "" {
		if at, err = in.moment(c, "at", f.at); err != nil {
			return err
		}
	}
	if a.outTTY && !f.once && !f.json {
		cur, err := fold.NewCursorAt(in.set, at)
		if err != nil {
			return err
		}
		err = a.interactive(a.ctx, cur, tui.Options{Sort: f.rows.sort, Reverse: f.rows.reverse, Status: f.rows.status,
			Agent: f.rows.agent, Tenant: f.rows.tenant, Title: in.title(), Location: in.loc,
			Reopen: in.reopener(), Follow: f.follow})
		a.warnDamage(in)
		return err
	}
	state, err := fold.StateAt(in.set, at)
	if err != nil {
		return err
	}
	v := state.View(at)
	v.Sessions = f.rows.apply(v.Sessions)
	if f.json {
		err = writeJSON(a.out, v)
	} else {
		place := viewPlace{title: in.title(), first: in.first, last: in.last, loc: in.loc}
		if !f.once {
			// The screen without a terminal (a pipe, a script): it opens
			// on the findings of the whole recording, so print them under
			// the header as the screen does. --once prints the moment only.
			if place.findings, err = in.findings(); err != nil {
				return err
			}
		}
		err = writeView(a.out, v, place)
	}
	a.warnDamage(in)
	return err
}

// findings are the findings of the whole input, those of summary and of the
// screen's strip.
func (in *input) findings() ([]fold.Finding, error) {
	r, err := fold.ReadReport(in.set.Scan(), nil)
	if err != nil {
		return nil, err
	}
	return r.Summary().Findings, nil
}

// writeJSON prints v as indented JSON and a newline.
func writeJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("json: %w", err)
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}
