package fold

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/openrtc-go/introspect/recorder"
)

// The report reads each line once (the scanner leaves the JSON check to
// the decoders), and still never folds a line that is not valid JSON: the
// lines a checking reader would refuse are refused, reported as the same
// damage, and the report is the report of the recording without them.
func TestReadReportChecksEachLineOnce(t *testing.T) {
	set, err := recorder.Open(filepath.Join("..", "fixtures", "normal.zst"))
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for sc := set.Scan(); sc.Next(); {
		lines = append(lines, string(sc.Record().Line))
	}
	set.Close()
	if len(lines) < 100 {
		t.Fatalf("normal.zst: %d records", len(lines))
	}
	// Invalid lines in slog's form (a sample, a keyframe, an application's
	// record), each cut from a real line of the recording, so they carry a
	// time in order.
	var bad []string
	var withBad []string
	for i, l := range lines {
		withBad = append(withBad, l)
		if i%40 != 20 {
			continue
		}
		head := l[:strings.Index(l, `"msg"`)]
		for _, b := range []string{
			head + `"msg":"sample","v":1,"rss_bytes":1,}`,
			head + `"msg":"keyframe","v":1,"sessions":[}`,
			head + `"msg":"an application's record" "n":1}`,
		} {
			bad = append(bad, b)
			withBad = append(withBad, b)
		}
	}
	clean := writeZstd(t, "clean.zst", lines)
	damaged := writeZstd(t, "damaged.zst", withBad)

	for _, workers := range []int{1, 2} {
		want := reportOf(t, clean, workers, 0)
		got := reportOf(t, damaged, workers, len(bad))
		if got != want {
			t.Errorf("%d decoders: the report with the bad lines differs from the report without them\n got %s\nwant %s", workers, got, want)
		}
	}
}

// writeZstd writes lines as one zstd frame, as a recording without an
// index (the reader walks it).
func writeZstd(t *testing.T, name string, lines []string) string {
	t.Helper()
	enc, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, enc.EncodeAll([]byte(strings.Join(lines, "\n")+"\n"), nil), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// reportOf folds path with the given decoders, twice on one set (the
// second read must not report the bad lines again), checks that exactly
// wantBad bad lines are damage, and returns the report as JSON.
func reportOf(t *testing.T, path string, workers, wantBad int) string {
	t.Helper()
	set, err := recorder.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	var out string
	for range 2 {
		r, err := readReport(set.Scan(), nil, workers)
		if err != nil {
			t.Fatal(err)
		}
		s, _ := json.Marshal(r.Summary())
		rows, _ := json.Marshal(r.Rows())
		out = fmt.Sprintf("%s %s", s, rows)
		n := 0
		for _, d := range set.Damage() {
			if d.Kind != recorder.BadLine {
				t.Errorf("%s: unexpected damage %v", filepath.Base(path), d)
				continue
			}
			if !bytes.Contains([]byte(d.Error()), []byte("not valid JSON")) {
				t.Errorf("%s: bad line %v: want the reader's words, not valid JSON", filepath.Base(path), d)
			}
			n++
		}
		if n != wantBad {
			t.Errorf("%s, %d decoders: %d bad lines reported, want %d", filepath.Base(path), workers, n, wantBad)
		}
	}
	return out
}
