package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/openrtc-go/introspect/cmd/openrtc-replay/internal/tui"
	"github.com/openrtc-go/introspect/fold"
	"github.com/openrtc-go/introspect/live"
)

type liveFlags struct {
	socket, worker string
	once, json     bool
	rate           float64
	rows           rowFlags
}

func (a *app) liveCmd() *cobra.Command {
	var f liveFlags
	c := &cobra.Command{
		Use:   "live",
		Short: "The live view of a running worker, from its socket: the same screen as top, now",
		Long: `live shows a running worker's current view, read from its private snapshot
socket: the same screen and keys as top, without time travel. The socket is
--socket, or the default path of --worker, or, when neither is given, the one
worker socket of this user if there is exactly one (several are listed, each
with its kind).

The columns mean what they mean in top (see top --help): cpu% is a
session's share of the process's CPU time in the latest CPU window, cpu_s its
CPU time, what its profiler samples stand for (10 ms each); the header
gives the process's CPU in cores and the share of it in sessions, or says
"cpu: owned by <who>" when another profiler holds the CPU profiler.

It also reads OpenRTC's Python worker (its socket is top.sock: --worker top).
Its header then shows OpenRTC's counts and the host's vitals, and cpu% is
each session's share of the event loop over a recent window, worked out from
OpenRTC's share since the worker started (the header says how long the
window is). To keep a history of such a worker, see record.

The screen opens on what needs attention: the stalling, CPU-hot and
goroutine-heavy sessions of the current view under the header (a number key
selects one) and first in the table. The header says whether the worker
answers: "● live", "◌ stale" when a refresh has not come back for a few
seconds, "✕ disconnected" when its socket refuses (the last view stays, with
its time), "↻ restarted" with the old and new pid when another process
answers.

With no worker listening it prints a one-line hint and exits with status 1.`,
		Example: `  openrtc-replay live
  openrtc-replay live --worker densitydemo
  openrtc-replay live --socket /run/user/1000/openrtc-1000/w1.sock --refresh-rate 2
  openrtc-replay live --once --sort cpu_pct
  openrtc-replay live --json | jq '.sessions | length'`,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageErr(c, "live reads a running worker's socket, not %q: use top for a recording", args[0])
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error { return a.live(c, f) },
	}
	fs := c.Flags()
	fs.StringVar(&f.socket, "socket", "", "the worker's snapshot socket")
	fs.StringVar(&f.worker, "worker", "", "the worker's name: its socket is at the default path for that name")
	fs.BoolVar(&f.once, "once", false, "print the current view as a table and exit")
	fs.BoolVar(&f.json, "json", false, "print the current view as JSON and exit")
	fs.Float64Var(&f.rate, "refresh-rate", tui.DefaultRefreshRate, "refreshes per second, 0.5 to 10")
	f.rows.add(c, fold.SortAttention)
	return c
}

func (a *app) live(c *cobra.Command, f liveFlags) error {
	if err := f.rows.check(c); err != nil {
		return err
	}
	if f.rate < tui.MinRefreshRate || f.rate > tui.MaxRefreshRate {
		return usageErr(c, "--refresh-rate %g: want %g to %g", f.rate, float64(tui.MinRefreshRate), float64(tui.MaxRefreshRate))
	}
	if f.socket != "" && f.worker != "" {
		return usageErr(c, "--socket and --worker: pick one")
	}
	path, err := socketPath(a.ctx, f)
	if err != nil {
		return err
	}
	rd := live.NewReader(path)
	kind := ""
	fetchInfo := func() (fold.View, tui.PollInfo, error) {
		snap, err := rd.Fetch(a.ctx)
		if err != nil {
			return fold.View{}, tui.PollInfo{}, err
		}
		kind = snap.Kind
		return snap.View, tui.PollInfo{PID: snap.Peer.PID, Restarted: snap.Restarted}, nil
	}
	fetch := func() (fold.View, error) {
		v, _, err := fetchInfo()
		return v, err
	}
	if a.outTTY && !f.once && !f.json {
		p, err := tui.NewPollerInfo(fetchInfo)
		if err != nil {
			return noWorker(path, err)
		}
		return a.interactive(a.ctx, p, tui.Options{Sort: f.rows.sort, Reverse: f.rows.reverse, Status: f.rows.status, Agent: f.rows.agent,
			Tenant: f.rows.tenant, Title: "live " + filepath.Base(path) + kindNote(kind), RefreshRate: f.rate})
	}
	v, err := fetch()
	if err != nil {
		return noWorker(path, err)
	}
	v.Sessions = f.rows.apply(v.Sessions)
	if f.json {
		return writeJSON(a.out, v)
	}
	return writeView(a.out, v, viewPlace{title: "live" + kindNote(kind), loc: a.loc})
}

// kindNote names an OpenRTC worker in a title; ours goes without saying.
func kindNote(kind string) string {
	if kind == live.KindOpenRTC {
		return " (" + live.KindName(kind) + ")"
	}
	return ""
}

// socketPath finds the socket to read: the flag's, the named worker's, or
// the only one in this user's socket directory (ours are named for their
// worker, OpenRTC's is top.sock).
func socketPath(ctx context.Context, f liveFlags) (string, error) {
	switch {
	case f.socket != "":
		return f.socket, nil
	case f.worker != "":
		return live.DefaultSocketPath(f.worker), nil
	}
	dir := live.Dir()
	found, _ := filepath.Glob(filepath.Join(dir, "*.sock"))
	switch len(found) {
	case 0:
		return "", &exitError{code: exitFailed, err: fmt.Errorf("no worker is serving a live view in %s: "+
			"start the worker with introspection on, or pass --socket PATH or --worker NAME", dir)}
	case 1:
		return found[0], nil
	}
	// Say what each one is: OpenRTC's Python worker serves top.sock by
	// default, beside ours. A socket nobody answers on is a worker that
	// died without removing it: with one worker answering, that is the one.
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	var names, answering []string
	for _, p := range found {
		name := strings.TrimSuffix(filepath.Base(p), ".sock")
		if b, err := live.Fetch(ctx, p); err != nil {
			name += " (not answering)"
		} else {
			answering = append(answering, p)
			if _, kind, err := live.Decode(b, time.Now()); err == nil {
				name += " (" + live.KindName(kind) + ")"
			}
		}
		names = append(names, name)
	}
	if len(answering) == 1 {
		return answering[0], nil
	}
	if len(answering) == 0 {
		return "", &exitError{code: exitFailed, err: fmt.Errorf("no worker is answering in %s (%s: left by workers that died); start the worker, or pass --socket PATH",
			dir, strings.Join(names, ", "))}
	}
	return "", &exitError{code: exitBadArgs, err: fmt.Errorf("several workers serve a live view in %s: %s; pass --worker NAME or --socket PATH",
		dir, strings.Join(names, ", "))}
}

// noWorker turns a failed first fetch into the one-line hint of live.
func noWorker(path string, err error) error {
	switch {
	case errors.Is(err, live.ErrNoWorker) && errors.Is(err, syscall.ECONNREFUSED):
		return &exitError{code: exitFailed, err: fmt.Errorf("no worker is serving at %s: the socket is there but nobody answers "+
			"(a worker that died without closing left it): start the worker, or pass --socket PATH or --worker NAME", path)}
	case errors.Is(err, live.ErrNoWorker):
		return &exitError{code: exitFailed, err: fmt.Errorf("no worker is serving at %s: "+
			"start the worker with introspection on, or pass --socket PATH or --worker NAME", path)}
	case errors.Is(err, syscall.EACCES):
		return &exitError{code: exitFailed, err: fmt.Errorf("%s: permission denied: the socket is another user's "+
			"(its worker's); run live as that user", path)}
	}
	return err
}
