package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/openrtc-go/introspect/bucket"
	"github.com/openrtc-go/introspect/fold"
	"github.com/openrtc-go/introspect/recorder"
)

// Verdicts of verify, with their exit statuses.
const (
	verdictIntact     = "intact"
	verdictDamaged    = "damaged"
	verdictUnreadable = "unreadable"
)

type verifyFlags struct {
	json bool
}

// fileReport is verify's report on one file.
type fileReport struct {
	Path      string           `json:"path"`
	Verdict   string           `json:"verdict"` // intact, damaged (but readable), unreadable
	Error     string           `json:"error,omitempty"`
	Format    string           `json:"format,omitempty"` // recording, zstd, jsonl
	Index     string           `json:"index,omitempty"`  // footer, rebuilt
	Bytes     int64            `json:"bytes"`
	Frames    int              `json:"frames"`
	Keyframes int              `json:"keyframes"`
	Records   int64            `json:"records"`
	First     time.Time        `json:"first,omitzero"`
	Last      time.Time        `json:"last,omitzero"`
	TornTail  int64            `json:"truncated_tail_bytes"` // bytes lost to a torn tail
	Corrupt   []corruptFrame   `json:"corrupt_frames"`
	Mismatch  []corruptFrame   `json:"index_mismatches"` // copies of the index that disagree; nothing lost
	BadLines  int64            `json:"bad_lines"`
	LostBytes int64            `json:"lost_bytes"`
	Events    map[string]int64 `json:"events"`
	loc       *time.Location
	footer    bool
}

type corruptFrame struct {
	Offset int64  `json:"offset"`
	Bytes  int64  `json:"bytes"`
	Error  string `json:"error"`
}

func (a *app) verifyCmd() *cobra.Command {
	var f verifyFlags
	c := &cobra.Command{
		Use:   "verify REC...",
		Short: "An integrity report per file; exit 0 intact, 1 damaged but readable, 2 unreadable",
		Long: `verify reads every frame of every file and reports, per file: the frames
read, the time range, whether the index came from the footer or was rebuilt,
a truncated tail and the bytes lost, corrupt frames and their offsets, bad
lines, and the count of records by event type.

Every copy of the index is checked: each footer entry against the index
frame at its offset, each index frame against the data frame after it, and
each entry against the records its frame holds (count, time range, length,
keyframe). A disagreement loses nothing (the frame that decodes is read) but
makes the file damaged, and each one is named with its offset.

A recording without a footer whose every frame is complete is intact: it was
not closed cleanly (or is still being written), but nothing is lost.

Exit status: 0 when every file is intact, 1 when one is damaged but
readable, 2 when one cannot be read at all.`,
		Example: `  openrtc-replay verify rec.zst
  openrtc-replay verify /var/lib/worker/rec/ && echo all intact
  openrtc-replay verify 's3://recordings/prod/w17@host-a/?region=eu-west-1'
  openrtc-replay verify --json crash.zst | jq .[0].truncated_tail_bytes`,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageErr(c, "verify needs at least one recording, directory or -")
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error { return a.verify(c, args, f) },
	}
	c.Flags().BoolVar(&f.json, "json", false, "print the reports as a JSON array")
	return c
}

func (a *app) verify(c *cobra.Command, args []string, f verifyFlags) error {
	var reports []fileReport
	for _, arg := range args {
		if bucket.IsURL(arg) {
			reports = append(reports, a.verifyBucket(arg)...)
			continue
		}
		paths, err := verifyPaths(arg)
		if err != nil {
			reports = append(reports, fileReport{Path: arg, Verdict: verdictUnreadable, Error: oneLine(err.Error())})
			continue
		}
		for _, p := range paths {
			reports = append(reports, a.verifyFile(p))
		}
	}
	a.code = exitOK
	for _, r := range reports {
		switch r.Verdict {
		case verdictUnreadable:
			a.code = exitBadArgs
		case verdictDamaged:
			a.code = max(a.code, exitFailed)
		}
	}
	if f.json {
		return writeJSON(a.out, reports)
	}
	for i, r := range reports {
		if i > 0 {
			fmt.Fprintln(a.out)
		}
		if err := r.write(a.out); err != nil {
			return err
		}
	}
	return nil
}

// verifyPaths expands a directory into the files the reader would take
// from it, so that each is verified on its own and one unreadable file
// does not hide the others.
func verifyPaths(arg string) ([]string, error) {
	st, err := os.Stat(arg)
	if arg == "-" || err != nil || !st.IsDir() {
		return []string{arg}, nil
	}
	ents, err := os.ReadDir(arg)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		n := e.Name()
		if e.Type().IsRegular() && !strings.HasPrefix(n, ".") && (strings.HasSuffix(n, ".zst") || strings.HasSuffix(n, ".jsonl")) {
			out = append(out, filepath.Join(arg, n))
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: %w", arg, recorder.ErrNoInputs)
	}
	slices.Sort(out)
	return out, nil
}

// verifyFile reads one file in full and reports on it.
func (a *app) verifyFile(path string) fileReport {
	return a.verifySet(path, func() (*recorder.Set, error) { return recorder.Open(path) })
}

// verifyBucket verifies every recording under a bucket prefix, each read
// whole with every copy of its index checked.
func (a *app) verifyBucket(rawURL string) []fileReport {
	ctx := context.Background()
	unreadable := func(err error) []fileReport {
		return []fileReport{{Path: rawURL, Verdict: verdictUnreadable, Error: oneLine(err.Error())}}
	}
	loc, err := bucket.Open(ctx, rawURL)
	if err != nil {
		return unreadable(err)
	}
	defer loc.Close()
	objs, err := loc.Recordings(ctx)
	if err != nil {
		return unreadable(err)
	}
	if len(objs) == 0 {
		return unreadable(fmt.Errorf("no recordings (*.zst, *.jsonl) under this prefix"))
	}
	var out []fileReport
	for _, o := range objs {
		ins, _ := loc.Inputs(ctx, []bucket.Object{o})
		ins[0].CheckIndex = true
		out = append(out, a.verifySet(ins[0].Name, func() (*recorder.Set, error) { return recorder.OpenInputs(ins...) }))
	}
	return out
}

func (a *app) verifySet(path string, open func() (*recorder.Set, error)) fileReport {
	r := fileReport{Path: path, Corrupt: []corruptFrame{}, Mismatch: []corruptFrame{}, Events: map[string]int64{}, loc: a.loc}
	set, err := open()
	if err != nil {
		r.Verdict, r.Error = verdictUnreadable, oneLine(a.openErrorText(err))
		return r
	}
	defer set.Close()
	if r.loc == nil {
		r.loc = time.UTC
		if sc := set.Scan(); sc.Next() {
			r.loc = sc.Record().Time.Location()
		}
	}
	in := &input{set: set, names: []string{path}}
	in.first, in.last = set.Span()
	bar := a.newProgress(in, "verifying "+filepath.Base(path))
	counts, err := fold.CountKinds(set.Scan(), bar.update)
	bar.done()
	if err != nil {
		r.Verdict, r.Error = verdictUnreadable, oneLine(err.Error())
		return r
	}
	fi := set.Files()[0]
	r.Format, r.Index, r.Bytes, r.footer = fi.Format.String(), fi.Index.String(), fi.Size, fi.Footer
	r.Frames, r.Keyframes, r.First, r.Last = fi.Frames, fi.Keyframes, fi.First, fi.Last
	r.BadLines, r.LostBytes = fi.BadLines, fi.LostBytes
	for k, n := range counts[0] {
		r.Events[k] = n
		r.Records += n // records read, not those the index promised
	}
	for _, d := range fi.Damage {
		switch d.Kind {
		case recorder.TruncatedTail:
			r.TornTail += d.Bytes
		case recorder.CorruptFrame:
			msg := ""
			if d.Err != nil {
				msg = d.Err.Error()
			}
			r.Corrupt = append(r.Corrupt, corruptFrame{Offset: d.Offset, Bytes: d.Bytes, Error: msg})
		case recorder.IndexMismatch:
			r.Mismatch = append(r.Mismatch, corruptFrame{Offset: d.Offset, Error: d.Err.Error()})
		}
	}
	switch {
	case r.Records == 0:
		r.Verdict, r.Error = verdictUnreadable, "no record could be read"
	case r.TornTail > 0 || len(r.Corrupt) > 0 || len(r.Mismatch) > 0 || r.BadLines > 0:
		r.Verdict = verdictDamaged
	default:
		r.Verdict = verdictIntact
	}
	return r
}

// openErrorText is the reader's error without the operation in front.
func (a *app) openErrorText(err error) string {
	if e, ok := a.openError(nil, nil, err).(*exitError); ok {
		return e.err.Error()
	}
	return err.Error()
}

func (r fileReport) write(w io.Writer) error {
	var b strings.Builder
	verdict := r.Verdict
	if verdict == verdictDamaged {
		verdict = "damaged, readable"
	}
	fmt.Fprintf(&b, "%s: %s\n", r.Path, verdict)
	if r.Verdict == verdictUnreadable && r.Format == "" {
		fmt.Fprintf(&b, "  error       %s\n", r.Error)
		_, err := io.WriteString(w, b.String())
		return err
	}
	if r.Error != "" {
		fmt.Fprintf(&b, "  error       %s\n", r.Error)
	}
	index, unit := "index from the footer", "frame"
	switch {
	case r.Format == "jsonl":
		index, unit = "indexed by reading its lines", "chunk"
	case r.Index == "rebuilt" && r.footer:
		index = "index rebuilt by walking the frames (the footer disagrees with them)"
	case r.Index == "rebuilt" && r.Format == "recording":
		index = "index rebuilt by walking the frames (no footer: not closed cleanly)"
	case r.Index == "rebuilt":
		index = "index rebuilt by walking the frames"
	}
	fmt.Fprintf(&b, "  format      %s, %s, %s\n", r.Format, size(r.Bytes), index)
	fmt.Fprintf(&b, "  %-11s %d of %d read (%s), %d records\n", unit+"s", r.Frames-len(r.Corrupt), r.Frames,
		plural(r.Keyframes, "keyframe"), r.Records)
	if !r.First.IsZero() {
		fmt.Fprintf(&b, "  time        %s → %s (%s)\n", r.First.In(r.loc).Format(timeLayout),
			r.Last.In(r.loc).Format(timeLayout), clock(r.Last.Sub(r.First)))
	}
	if r.TornTail > 0 {
		fmt.Fprintf(&b, "  tail        truncated: %d bytes lost\n", r.TornTail)
	} else {
		b.WriteString("  tail        complete\n")
	}
	if len(r.Corrupt) == 0 {
		b.WriteString("  corrupt     none\n")
	}
	for i, c := range r.Corrupt {
		label := "  corrupt     "
		if i > 0 {
			label = "              "
		}
		fmt.Fprintf(&b, "%sframe at offset %d (%d bytes skipped): %s\n", label, c.Offset, c.Bytes, orDash(c.Error))
	}
	if len(r.Mismatch) == 0 {
		b.WriteString("  index       consistent\n")
	}
	for i, m := range r.Mismatch {
		label := "  index       "
		if i > 0 {
			label = "              "
		}
		fmt.Fprintf(&b, "%sat offset %d: %s\n", label, m.Offset, m.Error)
	}
	fmt.Fprintf(&b, "  bad lines   %d\n", r.BadLines)
	kinds := make([]string, 0, len(r.Events))
	for k := range r.Events {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	var counts []string
	for _, k := range kinds {
		counts = append(counts, fmt.Sprintf("%s %d", k, r.Events[k]))
	}
	fmt.Fprintf(&b, "  events      %s\n", orDash(strings.Join(counts, ", ")))
	_, err := io.WriteString(w, b.String())
	return err
}
