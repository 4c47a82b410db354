package recorder

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
)

// zstdLines compresses lines the way `zstd app.jsonl` does: a stream, no
// index frames, no content size in the header.
func zstdLines(t testing.TB, data []byte, opts ...zstd.EOption) []byte {
	var buf bytes.Buffer
	enc, err := zstd.NewWriter(&buf, append([]zstd.EOption{zstd.WithEncoderConcurrency(1)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := enc.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestZstdCompressedLog(t *testing.T) {
	frames := testFrames(t0, time.Millisecond, 4, 2000, 0) // several 128 KiB blocks
	logData := jsonl(frames...)
	stream := zstdLines(t, logData)
	// Two more frames appended, as `cat a.zst b.zst` would: one with a
	// content size (EncodeAll), one without checksum, with a bad line.
	enc, _ := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1))
	defer enc.Close()
	later := testFrames(t0.Add(time.Hour), time.Millisecond, 2, 50, 0)
	withSize := enc.EncodeAll(jsonl(later[0]), nil)
	noCRC := zstdLines(t, append([]byte("garbage line\n"), jsonl(later[1])...), zstd.WithEncoderCRC(false))
	data := slices.Concat(stream, withSize, noCRC)
	p := writeTemp(t, "", "app.jsonl.zst", data)

	s := mustOpen(t, p)
	fi := s.Files()[0]
	if fi.Format != FormatZstd || fi.Frames != 3 || fi.UnknownFrames != 3 || fi.Index != IndexRebuilt {
		t.Fatalf("FileInfo = %+v", fi)
	}
	idx := s.Index(0)
	if idx[1].Offset != int64(len(stream)) || idx[2].Offset != int64(len(stream)+len(withSize)) {
		t.Fatalf("frame offsets %+v, want %d, %d", idx, len(stream), len(stream)+len(withSize))
	}
	equalLines(t, readAll(t, s.Scan()), flatten(append(frames, later...)))
	fi = s.Files()[0]
	if fi.UnknownFrames != 0 || fi.Records != 8100 || fi.BadLines != 1 || !fi.Last.Equal(t0.Add(time.Hour+99*time.Millisecond)) {
		t.Fatalf("after a scan, FileInfo = %+v", fi)
	}
	if d := s.Damage(); len(d) != 1 || d[0].Offset != idx[2].Offset || d[0].Line != 0 || d[0].Kind != BadLine {
		t.Fatalf("damage = %v", d)
	}

	// Span learns the times of a fresh set without a scan.
	s2 := mustOpen(t, p)
	if first, last := s2.Span(); !first.Equal(t0) || !last.Equal(fi.Last) {
		t.Fatalf("Span = %v, %v", first, last)
	}
}

// A frame longer than the in-memory limit is streamed, line by line.
func TestLargeFrameStreams(t *testing.T) {
	setLimit(t, &maxDecodeAll, 64<<10)
	frames := testFrames(t0, time.Millisecond, 1, 3000, 0)
	b := newRecBuilder(t).frames(frames).footer()
	s := mustOpen(t, writeTemp(t, "", "big.zst", b.buf))
	equalLines(t, readAll(t, s.Scan()), frames[0])
}

func TestDirectoryOrderAndOverlapMerge(t *testing.T) {
	dir := t.TempDir()
	// Named against time order: b- holds the first hour, a- the second.
	first := testFrames(t0, time.Second, 3, 10, 1)
	second := testFrames(t0.Add(time.Hour), time.Second, 3, 10, 1)
	writeTemp(t, dir, "a-second.zst", newRecBuilder(t).frames(second).footer().buf)
	writeTemp(t, dir, "b-first.jsonl", jsonl(first...))
	writeTemp(t, dir, "notes.txt", []byte("ignored"))
	writeTemp(t, dir, "empty.zst", nil)
	s := mustOpen(t, dir)
	fis := s.Files()
	if len(fis) != 2 || filepath.Base(fis[0].Path) != "b-first.jsonl" || filepath.Base(fis[1].Path) != "a-second.zst" {
		t.Fatalf("files %v", fis)
	}
	equalLines(t, readAll(t, s.Scan()), append(flatten(first), flatten(second)...))

	// Two inputs over the same minutes, one every even second, one every odd.
	even := testFrames(t0, 2*time.Second, 4, 10, 0)
	odd := testFrames(t0.Add(time.Second), 2*time.Second, 4, 10, 0)
	pe := writeTemp(t, "", "even.zst", newRecBuilder(t).frames(even).footer().buf)
	po := writeTemp(t, "", "odd.jsonl", jsonl(odd...))
	// and one that starts later, overlapping the end.
	late := testFrames(t0.Add(70*time.Second), time.Second, 1, 5, 0)
	pl := writeTemp(t, "", "late.jsonl", jsonl(late...))
	m := mustOpen(t, pl, po, pe)
	got := readAll(t, m.Scan())
	want := flatten(slices.Concat(even, odd, late))
	sort.SliceStable(want, func(i, j int) bool {
		a, _ := recordTime([]byte(want[i]))
		b, _ := recordTime([]byte(want[j]))
		return a.Before(b)
	})
	equalLines(t, got, want)
}

func TestScanRangeSkipsFrames(t *testing.T) {
	frames := testFrames(t0, time.Second, 10, 10, 0) // frame k covers [10k s, 10k+9 s]
	b := newRecBuilder(t).frames(frames).footer()
	data := b.buf
	// Break frame 8's data: a scan that decodes it reports damage.
	e := b.entries[8]
	data[e.DataOffset+int64(e.CompLen)/2] ^= 0xff
	s := mustOpen(t, writeTemp(t, "", "r.zst", data))

	since, until := t0.Add(25*time.Second), t0.Add(42*time.Second)
	got := readAll(t, s.ScanRange(since, until))
	all := flatten(frames)
	equalLines(t, got, all[25:42])
	if d := s.Damage(); len(d) != 0 {
		t.Fatalf("range scan decoded a frame outside the range: %v", d)
	}
	// An open end reaches the broken frame, which is reported and skipped.
	got = readAll(t, s.ScanRange(t0.Add(75*time.Second), time.Time{}))
	equalLines(t, got, append(all[75:80], all[90:]...))
	if d := s.Damage(); len(d) != 1 || d[0].Offset != e.Offset || d[0].Kind != CorruptFrame {
		t.Fatalf("damage %v, want corrupt frame at %d", d, e.Offset)
	}
}

func TestKeyframeAtOrBeforeAndScanFrom(t *testing.T) {
	frames := testFrames(t0, time.Second, 9, 10, 3) // keyframes open frames 0, 3, 6
	for _, tc := range []struct {
		name string
		open func(t *testing.T) *Set
	}{
		{"recording", func(t *testing.T) *Set {
			return mustOpen(t, writeTemp(t, "", "k.zst", newRecBuilder(t).frames(frames).footer().buf))
		}},
		{"jsonl", func(t *testing.T) *Set {
			return mustOpen(t, writeTemp(t, "", "k.jsonl", jsonl(frames...)))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.open(t)
			if _, ok := s.KeyframeAtOrBefore(t0.Add(-time.Second)); ok {
				t.Fatal("keyframe before the start")
			}
			at := t0.Add(65 * time.Second)
			pos, ok := s.KeyframeAtOrBefore(at)
			if !ok {
				t.Fatal("no keyframe")
			}
			idx := s.Index(pos.File)
			if !idx[pos.Frame].Keyframe() || !idx[pos.Frame].MinTime.Equal(t0.Add(60*time.Second)) || pos.Offset != idx[pos.Frame].Offset {
				t.Fatalf("pos %v, entry %+v", pos, idx[pos.Frame])
			}
			sc := s.ScanFrom(pos, at.Add(time.Nanosecond))
			got := readAll(t, sc)
			all := flatten(frames)
			equalLines(t, got, all[60:66])
			if !isKeyframe([]byte(got[0])) {
				t.Fatalf("first record %s is not the keyframe", got[0])
			}
			// Record positions lead back to their records.
			sc = s.ScanFrom(pos, time.Time{})
			for i := 0; i < 4 && sc.Next(); i++ {
			}
			r := sc.Record()
			line := string(r.Line)
			again := s.ScanFrom(r.Pos, time.Time{})
			if !again.Next() || string(again.Record().Line) != line {
				t.Fatalf("ScanFrom(%v) does not start at %s", r.Pos, line)
			}
			if bad := s.ScanFrom(Position{File: 5}, time.Time{}); bad.Next() || bad.Err() == nil {
				t.Fatal("ScanFrom a bad position: no error")
			}
		})
	}
}

func TestOpenedFileIsReadNotRenamed(t *testing.T) {
	// Reading goes through the open descriptor: a file removed after Open
	// (retention deleting it) is still read whole.
	frames := testFrames(t0, time.Second, 3, 10, 0)
	p := writeTemp(t, "", "gone.zst", newRecBuilder(t).frames(frames).footer().buf)
	s := mustOpen(t, p)
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	equalLines(t, readAll(t, s.Scan()), flatten(frames))
}

// Scanners of one Set run at once, learning frame times and reporting
// damage concurrently.
func TestConcurrentScans(t *testing.T) {
	frames := testFrames(t0, time.Millisecond, 3, 200, 0)
	data := slices.Concat(zstdLines(t, jsonl(frames[0])), zstdLines(t, append([]byte("bad\n"), jsonl(frames[1])...)), zstdLines(t, jsonl(frames[2])))
	s := mustOpen(t, writeTemp(t, "", "c.zst", data))
	want := flatten(frames)
	errs := make(chan []string, 4)
	for range 4 {
		go func() {
			var got []string
			sc := s.Scan()
			for sc.Next() {
				got = append(got, string(sc.Record().Line))
			}
			errs <- got
		}()
	}
	for range 4 {
		equalLines(t, <-errs, want)
	}
	if d := s.Damage(); len(d) != 1 {
		t.Fatalf("damage %v, want the bad line once", d)
	}
	if fi := s.Files()[0]; fi.UnknownFrames != 0 || fi.Records != 600 {
		t.Fatalf("FileInfo = %+v", fi)
	}
}
