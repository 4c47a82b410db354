package recorder

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
)

// t0 is the start of the test recordings.
var t0 = time.Date(2026, 11, 27, 3, 12, 0, 0, time.UTC)

// testLine is a slog JSON record at t; keyframe records carry the keyframe
// message so that plain logs are cut at them.
func testLine(t time.Time, msg string, n int) string {
	return fmt.Sprintf(`{"time":%q,"level":"DEBUG","msg":%q,"v":1,"n":%d,"pad":"%s"}`,
		t.Format(time.RFC3339Nano), msg, n, strings.Repeat("x", n%7))
}

// testFrames returns nFrames frames of perFrame records each, one record per
// step from start; every keyEvery-th frame (0: none) starts with a keyframe.
func testFrames(start time.Time, step time.Duration, nFrames, perFrame, keyEvery int) [][]string {
	var out [][]string
	n := 0
	for f := range nFrames {
		var lines []string
		for r := range perFrame {
			msg := "sample"
			if r == 0 && keyEvery > 0 && f%keyEvery == 0 {
				msg = "keyframe"
			}
			lines = append(lines, testLine(start.Add(time.Duration(n)*step), msg, n))
			n++
		}
		out = append(out, lines)
	}
	return out
}

// recBuilder writes a recording with the format.go helpers and klauspost
// zstd directly, independent of the writer: header, index+data frames,
// footer.
type recBuilder struct {
	t       testing.TB
	buf     []byte
	entries []FrameEntry
	enc     *zstd.Encoder
}

func newRecBuilder(t testing.TB) *recBuilder {
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { enc.Close() })
	b := &recBuilder{t: t, enc: enc}
	b.buf = appendSkippable(b.buf, magicFileHeader, appendFileHeader(nil, fileHeader{schema: 1, created: t0}))
	return b
}

// frame appends one index frame and its data frame; a frame whose first
// line is a keyframe record is flagged.
func (b *recBuilder) frame(lines []string) FrameEntry {
	var raw []byte
	e := FrameEntry{Offset: int64(len(b.buf))}
	for _, l := range lines {
		raw = append(raw, l...)
		raw = append(raw, '\n')
		if tm, err := recordTime([]byte(l)); err == nil {
			e.Records++
			if e.MinTime.IsZero() || tm.Before(e.MinTime) {
				e.MinTime = tm
			}
			if tm.After(e.MaxTime) {
				e.MaxTime = tm
			}
		}
	}
	if len(lines) > 0 && isKeyframe([]byte(lines[0])) {
		e.Flags |= FlagKeyframe
	}
	comp := b.enc.EncodeAll(raw, nil)
	e.CompLen, e.RawLen = uint32(len(comp)), uint32(len(raw))
	e.DataOffset = e.Offset + skipHeaderLen + frameEntryLen
	b.buf = appendSkippable(b.buf, magicFrameIndex, appendFrameEntry(nil, e))
	b.buf = append(b.buf, comp...)
	b.entries = append(b.entries, e)
	return e
}

func (b *recBuilder) frames(frames [][]string) *recBuilder {
	for _, f := range frames {
		b.frame(f)
	}
	return b
}

func (b *recBuilder) footer() *recBuilder {
	b.buf = appendSkippable(b.buf, magicFooter, appendFooter(nil, b.entries))
	return b
}

// write saves data as name in a fresh temporary directory (or dir) and
// returns the path.
func writeTemp(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func jsonl(lines ...[]string) []byte {
	var b []byte
	for _, ls := range lines {
		for _, l := range ls {
			b = append(b, l...)
			b = append(b, '\n')
		}
	}
	return b
}

func mustOpen(t testing.TB, paths ...string) *Set {
	t.Helper()
	s, err := Open(paths...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// readAll scans sc to the end and returns the lines, failing on Err.
func readAll(t testing.TB, sc *Scanner) []string {
	t.Helper()
	var out []string
	for sc.Next() {
		r := sc.Record()
		tm, err := recordTime(r.Line)
		if err != nil || !tm.Equal(r.Time) {
			t.Fatalf("record %q: time %v, parsed %v %v", r.Line, r.Time, tm, err)
		}
		out = append(out, string(r.Line))
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func flatten(frames [][]string) []string {
	var out []string
	for _, f := range frames {
		out = append(out, f...)
	}
	return out
}

func equalLines(t testing.TB, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d records, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("record %d:\n got %s\nwant %s", i, got[i], want[i])
		}
	}
}

// setLimit lowers a reader limit for one test.
func setLimit[T any](t testing.TB, p *T, v T) {
	old := *p
	*p = v
	t.Cleanup(func() { *p = old })
}
