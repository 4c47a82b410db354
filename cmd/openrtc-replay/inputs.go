package main

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/tidwall/gjson"

	"github.com/openrtc-go/introspect/cmd/openrtc-replay/internal/tui"
	"github.com/openrtc-go/introspect/events"
	"github.com/openrtc-go/introspect/fold"
	"github.com/openrtc-go/introspect/recorder"
)

// input is what a replay command reads: the inputs opened as one stream,
// their time range and the time zone their records are written in.
type input struct {
	set         *recorder.Set
	paths       []string // the files or directories opened
	names       []string // as given, or the bundled incident's name
	worker      string   // --worker, as given
	first, last time.Time
	loc         *time.Location
	cleanup     func()
	warned      bool
}

// open opens the command's inputs, or the bundled incident when there are
// none. A missing file, a file that is not a recording and an empty
// recording are bad input (exit status 2).
func (a *app) open(c *cobra.Command, args []string) (*input, error) {
	in := &input{names: args, worker: a.worker, cleanup: func() {}}
	paths := args
	if len(args) == 0 {
		path, remove, err := spoolBundled()
		if err != nil {
			return nil, badInput(err)
		}
		in.cleanup, in.names, paths = remove, []string{bundledName}, []string{path}
	}
	if len(paths) > 1 {
		for _, p := range paths {
			if p == "-" {
				return nil, usageErr(c, "- (standard input) cannot be read with other inputs")
			}
		}
	}
	// Files of different workers are never stitched (recorder.GroupWorkers).
	set, release, err := openSet(a.worker, paths)
	if err != nil {
		in.cleanup()
		return nil, a.openError(c, args, err)
	}
	spooled := in.cleanup
	in.cleanup = func() { release(); spooled() }
	in.set, in.paths = set, paths
	in.first, in.last = set.Span()
	if in.first.IsZero() {
		in.close()
		return nil, badInput(fmt.Errorf("%s: %w", strings.Join(in.names, ", "), fold.ErrEmpty))
	}
	in.loc = a.loc
	if in.loc == nil {
		// Show times as the recording writes them: what zstdcat | jq shows.
		in.loc = time.UTC
		sc := set.Scan()
		if sc.Next() {
			in.loc = sc.Record().Time.Location()
		}
	}
	return in, nil
}

// openEvents is open for a command that shows what introspection recorded:
// inputs that hold none of its events (an application's own slog log) are
// bad input, said in one line, not an empty table.
func (a *app) openEvents(c *cobra.Command, args []string) (*input, error) {
	in, err := a.open(c, args)
	if err != nil {
		return nil, err
	}
	if n, ok := in.holdsEvents(); !ok {
		in.close()
		return nil, noEvents(in.title(), n)
	}
	return in, nil
}

// noEvents is the bad input of inputs that hold no event of introspection.
func noEvents(title string, lines int) error {
	return badInput(fmt.Errorf("%s: no introspection records: none of its %s is an event of openrtc-introspect (an application's own log?); replay the recording the worker wrote (Options.Record)",
		title, plural(lines, "line")))
}

// holdsEvents reports whether the inputs hold an event of introspection,
// and how many lines it read to find out: a recording's first record is
// one, so only a file that holds none is read through.
func (in *input) holdsEvents() (lines int, ok bool) {
	sc := in.set.Scan()
	for sc.Next() {
		lines++
		if slices.Contains(events.Kinds, gjson.GetBytes(sc.Record().Line, "msg").Str) {
			return lines, true
		}
	}
	return lines, false
}

// addWorkerFlag adds --worker to a command that reads inputs.
func (a *app) addWorkerFlag(c *cobra.Command) {
	c.Flags().StringVar(&a.worker, "worker", "", "read this worker's files when the inputs hold several workers (name, name@host, or as listed)")
}

// openError turns the reader's error into one line that names the input.
func (a *app) openError(c *cobra.Command, args []string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		msg := fmt.Sprintf("%s: %v", pe.Path, pe.Err)
		if errors.Is(err, fs.ErrNotExist) && len(args) > 0 && !c.HasParent() {
			// `openrtc-replay sumary` reaches the root as an input name.
			if s := c.SuggestionsFor(args[0]); len(s) > 0 && !strings.ContainsAny(args[0], `./\`) {
				msg = fmt.Sprintf("%s is neither a file nor a command (did you mean %s?)", args[0], s[0])
			}
		}
		return badInput(errors.New(msg))
	}
	return badInput(err)
}

func (in *input) close() {
	if in.set != nil {
		in.set.Close()
	}
	in.cleanup()
}

// title names the inputs for headers: base names, joined.
func (in *input) title() string {
	var parts []string
	for _, n := range in.names {
		if n == bundledName || n == "-" {
			parts = append(parts, n)
			continue
		}
		parts = append(parts, filepath.Base(filepath.Clean(n)))
	}
	return strings.Join(parts, " + ")
}

// moment reads the value of a time flag; a bad one is a usage error, one
// outside the recording bad input.
func (in *input) moment(c *cobra.Command, flag, s string) (time.Time, error) {
	t, err := parseMoment(s, in.first, in.last, in.loc)
	if errors.Is(err, errOutside) {
		return t, badInput(fmt.Errorf("--%s %s: %w", flag, s, err))
	}
	if err != nil {
		return t, usageErr(c, "--%s: %v", flag, err)
	}
	return t, nil
}

// rangeFlags reads --since and --until; unset ones are zero.
func (in *input) rangeFlags(c *cobra.Command, since, until string) (from, to time.Time, err error) {
	if since != "" {
		if from, err = in.moment(c, "since", since); err != nil {
			return
		}
	}
	if until != "" {
		if to, err = in.moment(c, "until", until); err != nil {
			return
		}
	}
	if !from.IsZero() && !to.IsZero() && to.Before(from) {
		err = usageErr(c, "--until %s is before --since %s", until, since)
	}
	return
}

// warnDamage prints, once, one line on standard error that says what of the
// inputs could not be read; nothing when they are intact.
func (a *app) warnDamage(in *input) {
	if in.warned {
		return
	}
	in.warned = true
	if line := damageLine(in.set.Files()); line != "" {
		fmt.Fprintf(a.err, "openrtc-replay: warning: damaged input, the rest was read: %s\n", line)
	}
}

// damageLine sums up the damage of each file in a few words.
func damageLine(files []recorder.FileInfo) string {
	var parts []string
	for _, f := range files {
		var torn, corrupt, mismatch []recorder.Damage
		for _, d := range f.Damage {
			switch d.Kind {
			case recorder.TruncatedTail:
				torn = append(torn, d)
			case recorder.CorruptFrame:
				corrupt = append(corrupt, d)
			case recorder.IndexMismatch:
				mismatch = append(mismatch, d)
			}
		}
		var what []string
		for _, d := range torn {
			what = append(what, fmt.Sprintf("torn tail at offset %d (%d bytes lost)", d.Offset, d.Bytes))
		}
		if n := len(corrupt); n > 0 {
			var offs []string
			var bytes int64
			for i, d := range corrupt {
				bytes += d.Bytes
				if i < 3 {
					offs = append(offs, fmt.Sprint(d.Offset))
				}
			}
			if n > 3 {
				offs = append(offs, "…")
			}
			what = append(what, fmt.Sprintf("%s skipped at offset %s (%d bytes)",
				plural(n, "corrupt frame"), strings.Join(offs, ", "), bytes))
		}
		if n := len(mismatch); n > 0 {
			var offs []string
			for i, d := range mismatch {
				if i < 3 {
					offs = append(offs, fmt.Sprint(d.Offset))
				}
			}
			if n > 3 {
				offs = append(offs, "…")
			}
			what = append(what, fmt.Sprintf("%s at offset %s (its frames were read; openrtc-replay verify names them)",
				plural(n, "index disagreement"), strings.Join(offs, ", ")))
		}
		if f.BadLines > 0 {
			what = append(what, plural(int(f.BadLines), "bad line")+" skipped")
		}
		if len(what) > 0 {
			parts = append(parts, filepath.Base(f.Path)+": "+strings.Join(what, ", "))
		}
	}
	return strings.Join(parts, "; ")
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// reopener returns a function that opens the inputs again at their end,
// for the screen's r and F on a recording that is still being written;
// nil for standard input, which cannot be read twice.
func (in *input) reopener() func() (tui.Source, error) {
	if slices.Contains(in.paths, "-") {
		return nil
	}
	paths, worker := slices.Clone(in.paths), in.worker
	return func() (tui.Source, error) {
		// The same worker as the first open; a bucket prefix is listed
		// again, so files uploaded since are read too.
		set, release, err := openSet(worker, paths)
		if err != nil {
			return nil, err
		}
		cur, err := fold.NewCursor(set)
		if err != nil {
			set.Close()
			release()
			return nil, err
		}
		return &reopened{Cursor: cur, set: set, release: release}, nil
	}
}

// reopened is a cursor over a set opened again, which the screen closes
// when it is done with it.
type reopened struct {
	*fold.Cursor
	set     *recorder.Set
	release func()
}

func (r *reopened) Close() error {
	err := r.set.Close()
	r.release()
	return err
}
