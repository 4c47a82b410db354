package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/openrtc-go/introspect/bucket"
	"github.com/openrtc-go/introspect/events"
	"github.com/openrtc-go/introspect/fold"
	"github.com/openrtc-go/introspect/recorder"
)

type slowFlags struct {
	session             string
	min                 time.Duration
	since, until        string
	json, follow, group bool
}

func (a *app) slowCmd() *cobra.Command {
	var f slowFlags
	c := &cobra.Command{
		Use:   "slow [REC...]",
		Short: "Every stall in time order, one grep-friendly line each, with its frame",
		Long: `slow lists every stall of the recording in time order: a session that held a
shared loop or section, or a scheduler lag, longer than the threshold. Each
stall is one line in the form operators grep for, with its time (its last
report: the end of the stall), the loop or "scheduler", and the holder's frame:

  2026-11-27T03:12:04.210Z [slow-session] session_id=job-c1d550 blocked room-loop for 320ms at agent/loop.go:42 main.(*Room).mix

A stall reported while ongoing and again when it ended is listed once, with
its full length. "left at FRAME (no stack caught)" means no goroutine
profile caught the holder: the frame is where it let go, not the line that
blocked. The line ends with why the hold lasted: cause=blocked (and on
what), cause=running, or cause=waiting-for-cpu, not the holder's fault, with
the sessions that had the CPU; cause=unknown when nothing decided (no
goroutine profile caught the holder and its CPU samples did not say). A
scheduler stall has no cause, nor has an ongoing one yet.

With --group, each place says how many of its stalls were victims (their
holder waited for a CPU, and who had it) and how many have no known cause,
and the places whose stalls count against their holders come first.

With --follow, slow keeps reading a recording (or a directory of rotated
ones, or a log) that is still being written, like tail -f, and prints each
report as it arrives: an ongoing one says "so far".`,
		Example: `  openrtc-replay slow rec.zst
  openrtc-replay slow --min 100ms --since 03:10 --until 03:15 rec.zst
  openrtc-replay slow --session job-c1d550 --json rec.zst | jq .frame
  openrtc-replay slow --group rec.zst             # one entry per place, its stack once
  openrtc-replay slow --follow /var/lib/worker/rec/
  openrtc-replay slow --follow --worker w17 's3://recordings/prod/?region=eu-west-1'`,
		RunE: func(c *cobra.Command, args []string) error { return a.slow(c, args, f) },
	}
	fs := c.Flags()
	fs.StringVar(&f.session, "session", "", "only the stalls held by this session")
	fs.DurationVar(&f.min, "min", 0, "only stalls at least this long, such as 100ms")
	fs.StringVar(&f.since, "since", "", "only stalls reported at or after this time")
	fs.StringVar(&f.until, "until", "", "only stalls reported at or before this time")
	fs.BoolVar(&f.json, "json", false, "print one JSON object per stall (JSON lines)")
	fs.BoolVar(&f.group, "group", false, "group the stalls by where they happened (loop, frame and stack): count, total, worst, who, and the stack once")
	fs.BoolVarP(&f.follow, "follow", "f", false, "keep reading as the recording grows, across rotations (or, on a bucket prefix, as workers upload files), until interrupted")
	a.addWorkerFlag(c)
	return c
}

func (a *app) slow(c *cobra.Command, args []string, f slowFlags) error {
	if f.min < 0 {
		return usageErr(c, "--min %s is negative", f.min)
	}
	if f.follow {
		if f.group {
			return usageErr(c, "--group and --follow: a group is known once the stalls are read; drop one")
		}
		return a.follow(c, args, f)
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
	if !to.IsZero() {
		to = to.Add(time.Nanosecond) // --until is inclusive
	}
	bar := a.newProgress(in, "reading stalls")
	stalls, err := fold.CollectStalls(in.set.ScanRange(from, to), bar.update)
	bar.done()
	if err != nil {
		return err
	}
	kept := stalls[:0]
	for _, s := range stalls {
		if f.keep(s) {
			kept = append(kept, s)
		}
	}
	if f.group {
		err = writeGroups(a.out, fold.GroupStalls(kept), f.json, in.loc)
		a.warnDamage(in)
		return err
	}
	for _, s := range kept {
		if err := writeStall(a.out, s, f.json, in.loc); err != nil {
			return err
		}
	}
	a.warnDamage(in)
	return nil
}

func (f slowFlags) keep(s fold.Stall) bool {
	return (f.session == "" || s.SessionID == f.session) && s.Blocked() >= f.min
}

// follow prints stall reports as they are appended to one recording, log
// or directory of rotated recordings, until interrupted or --until.
func (a *app) follow(c *cobra.Command, args []string, f slowFlags) error {
	if len(args) != 1 || args[0] == "-" {
		return usageErr(c, "--follow reads one recording, log or directory, not standard input or several")
	}
	var since, until time.Time
	loc := a.loc
	if loc == nil {
		loc = time.Local
	}
	for _, fl := range []struct {
		name, val string
		t         *time.Time
	}{{"since", f.since, &since}, {"until", f.until, &until}} {
		if fl.val == "" {
			continue
		}
		// A growing recording has no end yet: only absolute times apply.
		t, err := time.Parse(time.RFC3339Nano, fl.val)
		if err != nil {
			return usageErr(c, "--%s with --follow: want an RFC 3339 time (2026-11-27T03:12:00Z), got %q", fl.name, fl.val)
		}
		*fl.t = t
	}
	ctx, cancel := context.WithCancel(a.ctx)
	defer cancel()
	if bucket.IsURL(args[0]) {
		return a.followBucket(ctx, args[0], f, since, until)
	}
	fw, err := recorder.Follow(ctx, args[0], recorder.FollowOptions{Since: since, Worker: a.worker})
	if err != nil {
		return a.openError(c, args, err)
	}
	defer fw.Close()
	for fw.Next() {
		r := fw.Record()
		if !until.IsZero() && r.Time.After(until) {
			break
		}
		s, ok := fold.ParseStall(r.Line)
		if !ok || !f.keep(s) {
			continue
		}
		if a.loc == nil {
			loc = r.Time.Location()
		}
		if err := writeStall(a.out, s, f.json, loc); err != nil {
			return err
		}
	}
	if d := fw.Damage(); len(d) > 0 {
		fmt.Fprintf(a.err, "openrtc-replay: warning: damaged input, the rest was read: %s\n",
			damageLine([]recorder.FileInfo{{Path: fw.Path(), Damage: d, BadLines: countBad(d)}}))
	}
	if err := fw.Err(); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

func countBad(ds []recorder.Damage) (n int64) {
	for _, d := range ds {
		if d.Kind == recorder.BadLine {
			n++
		}
	}
	return n
}

// writeGroups prints stall groups as text, or as JSON lines, one a group.
func writeGroups(w io.Writer, groups []fold.StallGroup, asJSON bool, loc *time.Location) error {
	var b strings.Builder
	for _, g := range groups {
		if asJSON {
			j, err := json.Marshal(g)
			if err != nil {
				return err
			}
			b.Write(j)
			b.WriteByte('\n')
			continue
		}
		writeGroup(&b, g, loc)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeStall prints one stall as its grep-friendly line or as JSON.
func writeStall(w io.Writer, s fold.Stall, asJSON bool, loc *time.Location) error {
	if asJSON {
		b, err := json.Marshal(s)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	}
	_, err := io.WriteString(w, stallLine(s, loc)+"\n")
	return err
}

// stallLine is OpenRTC's log line, "[slow-session] session_id=… blocked
// event loop for 320ms", with the time in front and the loop and frame
// named.
func stallLine(s fold.Stall, loc *time.Location) string {
	var b strings.Builder
	id := s.SessionID
	if id == "" {
		id = "-"
	}
	if s.Derived && s.BlockedMs == 0 {
		fmt.Fprintf(&b, "%s [slow-session] session_id=%s blocked %s (derived from a polled snapshot: duration and line unknown)",
			s.At.In(loc).Format(timeLayout), id, orDash(s.Source))
		return b.String()
	}
	fmt.Fprintf(&b, "%s [slow-session] session_id=%s blocked %s for %s", s.At.In(loc).Format(timeLayout), id,
		orDash(s.Source), msText(s.BlockedMs))
	if s.Ongoing {
		b.WriteString(" so far")
	}
	if s.Derived {
		b.WriteString(" (derived from a polled snapshot: line unknown)")
	}
	if s.Frame != "" {
		if s.FrameFrom == events.FrameLeave {
			// Not the line that blocked: no profile caught the holder.
			b.WriteString(" left at " + s.Frame + " (no stack caught)")
		} else {
			b.WriteString(" at " + s.Frame)
		}
	}
	if s.Confidence > 0 && s.Confidence < 1 {
		fmt.Fprintf(&b, " (confidence %.2f)", s.Confidence)
	}
	if c := causeText(s); c != "" {
		b.WriteString(" cause=" + c)
	}
	return b.String()
}

// causeText says why a hold lasted, for the end of its line: blocked on
// what, running for how long, or waiting for a CPU that others had, which is
// not the holder's fault.
func causeText(s fold.Stall) string {
	switch s.Cause {
	case events.CauseBlocked:
		if s.Wait != "" {
			return "blocked (" + s.Wait + ")"
		}
		return "blocked"
	case events.CauseRunning:
		if s.HoldCPUMs != nil {
			return "running (" + msText(*s.HoldCPUMs) + " on CPU)"
		}
		return "running"
	case events.CauseWaitingForCPU:
		t := "waiting-for-cpu, not the holder's fault"
		if who := fold.StarvedByText(s.StarvedBy); who != "" {
			t += ": " + who + " had the CPU"
		}
		return t
	}
	if s.Undecided() {
		return "unknown"
	}
	return ""
}

// timeLayout is how the line-oriented outputs write a moment: RFC 3339 to
// the millisecond, as sortable as the recording's own.
const timeLayout = "2006-01-02T15:04:05.000Z07:00"

func msText(ms float64) string {
	if ms >= 10000 {
		return fmt.Sprintf("%.1fs", ms/1000)
	}
	return fmt.Sprintf("%.0fms", ms)
}

// writeGroup prints one place where stalls happened: how often, how long
// in all and at worst, who held it, and the stack once.
func writeGroup(b *strings.Builder, g fold.StallGroup, loc *time.Location) {
	var who []string
	for i, id := range g.Sessions {
		if i == 3 {
			who = append(who, fmt.Sprintf("%d more", len(g.Sessions)-i))
			break
		}
		if id == "" {
			id = "(unattributed)"
		}
		who = append(who, fmt.Sprintf("%s %d", id, g.SessionStalls[i]))
	}
	fmt.Fprintf(b, "  %s %s, %s in all, worst %s at %s; %s → %s; by %s%s\n", orDash(g.Source), timesText(g.Count),
		msText(g.TotalMs), msText(g.Worst.BlockedMs), g.Worst.At.In(loc).Format(timeLayout),
		g.First.In(loc).Format("15:04:05"), g.Last.In(loc).Format("15:04:05"), strings.Join(who, ", "), groupCauseText(g))
	if g.Frame != "" {
		fmt.Fprintf(b, "      at %s\n", g.Frame)
	}
	for _, fr := range g.Stack {
		fmt.Fprintf(b, "      %s\n", fr)
	}
}

// groupCauseText says, for a place's line, how many of its stalls were not
// their holders' fault (they waited for a CPU, and who had it) and how many
// nothing decided; "" when every stall counts against its holder.
func groupCauseText(g fold.StallGroup) string {
	var parts []string
	switch {
	case g.AllVictims():
		parts = append(parts, "all waited for a CPU (victims, not the holders' fault)")
	case g.Victims > 0:
		parts = append(parts, fmt.Sprintf("%d waited for a CPU (victims, not the holders' fault)", g.Victims))
	}
	if g.Victims > 0 && len(g.StarvedBy) > 0 {
		parts[len(parts)-1] += ": " + strings.Join(g.StarvedBy, ", ") + " had it"
	}
	if g.Undecided > 0 {
		parts = append(parts, fmt.Sprintf("%d with no cause known", g.Undecided))
	}
	if len(parts) == 0 {
		return ""
	}
	return "; " + strings.Join(parts, "; ")
}

func timesText(n int) string {
	if n == 1 {
		return "once"
	}
	return fmt.Sprintf("%d times", n)
}
