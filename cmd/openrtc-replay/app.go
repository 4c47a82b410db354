package main

import (
	"context"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/openrtc-go/introspect/cmd/openrtc-replay/internal/tui"
)

// stdio is where a run reads and writes, and whether those are terminals.
// Tests pass buffers, which are not.
type stdio struct {
	in          io.Reader
	out, err    io.Writer
	outTTY      bool // standard output is a terminal: top is interactive
	errTTY      bool // standard error is a terminal: long scans show progress
	interactive func(ctx context.Context, src tui.Source, opts tui.Options) error
}

func newStdio() stdio {
	s := stdio{in: os.Stdin, out: os.Stdout, err: os.Stderr, interactive: tui.Run}
	s.outTTY = term.IsTerminal(int(os.Stdout.Fd()))
	s.errTTY = term.IsTerminal(int(os.Stderr.Fd()))
	return s
}

// app is one run of the command: its stdio, and what the commands decide
// about the exit status.
type app struct {
	stdio
	ctx  context.Context
	code int // exit status of a run that returned no error (verify's 1 and 2)

	// loc, when set, replaces the recording's own time zone for showing
	// and reading times; tests pin it.
	loc *time.Location

	// worker is --worker: which worker's files to read when the inputs
	// hold several (recorder.GroupWorkers).
	worker string
}

// run executes the command line args and returns the exit status.
func run(ctx context.Context, args []string, io stdio) int {
	a := &app{stdio: io, ctx: ctx}
	root := a.rootCmd()
	root.SetArgs(args)
	root.SetIn(io.in)
	root.SetOut(io.out)
	root.SetErr(io.err)
	err := root.ExecuteContext(ctx)
	return a.exit(err)
}

// rootCmd builds the command tree. The root command is top, so that
// `openrtc-replay REC` shows the recording.
func (a *app) rootCmd() *cobra.Command {
	root := a.topCmd("openrtc-replay [REC...]")
	root.Short = "Replay recordings of a dense Go worker: who ate the memory, the CPU, and who stalled everyone"
	root.Long = `openrtc-replay shows what openrtc-introspect recorded of a worker that hosts
many sessions in one process, at any moment of the recording, and a running
worker live (ours, or OpenRTC's Python worker, which record can also poll
into a recording).

Without a command it runs top. Without an input it opens the bundled incident
recording, so that the first run shows something.

Inputs (every command but live and record): recordings (.zst), directories
of rotated recordings, plain slog JSON logs (.jsonl), or - for standard
input. Several inputs of one worker are stitched into one time line; inputs
of several workers are not: choose one with --worker NAME (or NAME@HOST, as
listed). A worker is its name and host: a restart (new pid) continues its
history, two processes of one name running at once are two workers. Damaged
inputs are read as far as they go, with one warning line on standard error.

Times (--at, --since, --until):
  2026-11-27T03:12:00Z   RFC 3339
  "2026-11-27 03:12:00"  as the screen shows it, in the recording's time zone
  03:12, 03:12:30        a clock time on the recording's day, in its time zone
  +90s, +1h30m           from the start of the recording
  -5m                    before its end
  start, end             the ends

Without a command on a terminal, the screen opens on the problem: the
findings of the whole recording under the header (a number key goes to
each), the sessions that need attention first. Units: memory in MiB (the
JSON keeps OpenRTC's field names, mem_mb); the header's CPU is the
process's in cores, cpu% a session's share of it.

Exit status: 0 done, 1 failed (live: no worker; verify: damaged but
readable), 2 bad input (missing file, not a recording, time outside the
recording, bad flag, no introspection records; verify: unreadable).`
	root.Version = version()
	root.SilenceErrors = true
	root.SilenceUsage = true
	root.SuggestionsMinimumDistance = 2
	root.CompletionOptions.HiddenDefaultCmd = false
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageErr(c, "%v", err)
	})
	root.AddCommand(
		a.topCmd("top [REC...]"),
		a.slowCmd(),
		a.sessionsCmd(),
		a.summaryCmd(),
		a.exportCmd(),
		a.verifyCmd(),
		a.liveCmd(),
		a.recordCmd(),
		a.workersCmd(),
	)
	return root
}
