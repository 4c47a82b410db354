package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/openrtc-go/introspect/events"
	"github.com/openrtc-go/introspect/fold"
	"github.com/openrtc-go/introspect/live"
	"github.com/openrtc-go/introspect/recorder"
)

type recordFlags struct {
	socket, worker, out string
	rate                float64
	duration            time.Duration
}

// Bounds of record's --rate, in polls per second.
const (
	minRecordRate = 0.1
	maxRecordRate = 10
)

func (a *app) recordCmd() *cobra.Command {
	var f recordFlags
	c := &cobra.Command{
		Use:   "record -o OUT",
		Short: "Record a running worker by polling its live socket: a history for a worker that keeps none (OpenRTC's Python worker)",
		Long: `record polls a running worker's live socket (ours, or OpenRTC's top.sock) and
writes what it sees as a recording that every other command reads: top at
any moment, summary, slow, sessions, export, verify.

A session starts when its row appears and ends when it disappears; each poll
is a sample with RSS and each session's CPU since the previous poll. Stalls
are marked derived and have no line: from our worker, one per stall a row's
count gained (its duration when it raised the row's worst); from OpenRTC's,
one per run of polls that showed a row "slow", its duration unknown (a worker
recording itself has both).

It keeps going when the worker restarts (the new pid is noted) and waits
while none is running. SIGINT or SIGTERM (Ctrl-C) stops it cleanly: the
recording is closed with its index. OUT is a file (.zst) or a directory of
rotated recordings.`,
		Example: `  openrtc-replay record -o worker.zst
  openrtc-replay record --worker top --rate 2 -o /var/log/openrtc/
  openrtc-replay record --socket /run/user/1000/openrtc-1000/top.sock --duration 1h -o incident.zst
  openrtc-replay summary worker.zst`,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageErr(c, "record writes to -o OUT; %q is not a flag", args[0])
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error { return a.record(c, f) },
	}
	fs := c.Flags()
	fs.StringVarP(&f.out, "out", "o", "", "the recording to write: a .zst file, or a directory")
	fs.StringVar(&f.socket, "socket", "", "the worker's snapshot socket")
	fs.StringVar(&f.worker, "worker", "", "the worker's name: its socket is at the default path for that name (OpenRTC's is top)")
	fs.Float64Var(&f.rate, "rate", 1, "polls per second, 0.1 to 10")
	fs.DurationVar(&f.duration, "duration", 0, "stop after this long (0: until interrupted)")
	return c
}

func (a *app) record(c *cobra.Command, f recordFlags) error {
	switch {
	case f.out == "":
		return usageErr(c, "record needs -o OUT: a .zst file or a directory")
	case f.rate < minRecordRate || f.rate > maxRecordRate:
		return usageErr(c, "--rate %g: want %g to %g polls a second", f.rate, float64(minRecordRate), float64(maxRecordRate))
	case f.duration < 0:
		return usageErr(c, "--duration %v: want a positive duration", f.duration)
	case f.socket != "" && f.worker != "":
		return usageErr(c, "--socket and --worker: pick one")
	}
	path, err := socketPath(a.ctx, liveFlags{socket: f.socket, worker: f.worker})
	if err != nil {
		return err
	}
	ctx := a.ctx
	if f.duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, f.duration)
		defer cancel()
	}
	period := time.Duration(float64(time.Second) / f.rate)

	name := f.worker
	if name == "" {
		name = strings.TrimSuffix(filepath.Base(path), ".sock")
	}
	// The recording is created when the first snapshot arrives: waiting
	// for a worker that never comes leaves no empty file behind.
	var rec *recorder.Recorder
	open := func() error {
		if rec != nil {
			return nil
		}
		var err error
		rec, err = createRecording(f.out, name)
		return err
	}
	host, _ := os.Hostname()
	conv := &live.Converter{Host: host, Period: period}
	rd := live.NewReader(path)
	var polls int
	stalls := map[uint64]bool{}
	sessions := map[string]bool{}
	write := func(evs []live.Stamped) {
		for _, e := range evs {
			switch ev := e.Event.(type) {
			case events.SessionStart:
				sessions[ev.SessionID] = true
			case events.SlowSession:
				// One stall may be reported twice (ongoing, then its
				// end) or only once (a derived stall of our worker).
				stalls[ev.StallID] = true
			}
			_ = rec.Handle(context.Background(), events.Record(e.Time, e.Event))
		}
	}

	waiting, warned, pid := false, false, 0
	tick := time.NewTicker(period)
	defer tick.Stop()
	for {
		fctx, cancel := context.WithTimeout(ctx, max(2*period, live.DefaultFetchTimeout))
		snap, err := rd.Fetch(fctx)
		cancel()
		now := time.Now()
		switch {
		case ctx.Err() != nil:
		case err != nil && conv.Running() && !errors.Is(err, live.ErrNoWorker):
			// Busy, or a bad snapshot: skip this poll, the worker is
			// still there.
			if !warned {
				fmt.Fprintf(a.err, "openrtc-replay record: skipped a poll of %s: %v\n", path, err)
				warned = true
			}
		case err != nil:
			if conv.Running() {
				write(conv.Gone(nil, now, "stopped answering"))
				fmt.Fprintf(a.err, "openrtc-replay record: the worker at %s stopped answering (%v); waiting for it\n", path, err)
			} else if !waiting {
				fmt.Fprintf(a.err, "openrtc-replay record: waiting for a worker at %s (%v)\n", path, shortErr(err))
			}
			waiting = true
		default:
			if !conv.Running() || snap.Restarted || (snap.Peer.PID != 0 && pid != 0 && snap.Peer.PID != pid) {
				what := "recording"
				if pid != 0 || polls > 0 {
					what = "worker restarted; recording"
				}
				fmt.Fprintf(a.err, "openrtc-replay record: %s %s %q%s at %s to %s\n", what, live.KindName(snap.Kind),
					snap.View.Worker.Name, pidNote(snap.Peer.PID), path, f.out)
			}
			if err := open(); err != nil {
				return &exitError{code: exitBadArgs, err: err}
			}
			waiting, pid = false, snap.Peer.PID
			write(conv.Snapshot(snap, now))
			polls++
		}
		if ctx.Err() != nil {
			break
		}
		select {
		case <-ctx.Done():
		case <-tick.C:
		}
		if ctx.Err() != nil {
			break
		}
	}
	if rec == nil {
		return &exitError{code: exitFailed, err: fmt.Errorf("no worker answered at %s: nothing recorded, %s not written", path, f.out)}
	}
	write(conv.Stop(nil, time.Now()))
	if err := rec.Close(); err != nil {
		return fmt.Errorf("closing %s: %w", f.out, err)
	}
	fmt.Fprintf(a.err, "openrtc-replay record: wrote %s: %d polls, %d sessions, %d derived stalls\n", f.out, polls, len(sessions), len(stalls))
	return nil
}

func pidNote(pid int) string {
	if pid == 0 {
		return ""
	}
	return fmt.Sprintf(" (pid %d)", pid)
}

// shortErr is the reason without the path the message already names.
func shortErr(err error) string {
	if errors.Is(err, live.ErrNoWorker) {
		return "nothing is listening"
	}
	return err.Error()
}

// createRecording opens OUT as the introspector does: a file when it ends
// in .zst, a directory of rotated recordings otherwise. Its keyframes come
// from a fold of exactly the lines written.
func createRecording(out, worker string) (*recorder.Recorder, error) {
	o := recorder.Options{Worker: worker, Keyframer: fold.New()}
	if strings.HasSuffix(out, ".zst") {
		if dir := filepath.Dir(out); dir != "" {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return nil, fmt.Errorf("recording: %w", err)
			}
		}
		return recorder.Create(out, &o)
	}
	return recorder.CreateDir(out, &o)
}
