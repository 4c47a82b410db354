package recorder

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// benchRecording writes a recording of about rawMB of JSON lines in frames of
// about 256 KiB (the writer's default), a keyframe every 8 frames; it returns
// the file path, the same lines as a .jsonl, and the raw size.
func benchRecording(b *testing.B, rawMB int) (rec, log string, raw int64, end time.Time) {
	b.Helper()
	dir := b.TempDir()
	rb := newRecBuilder(b)
	var all [][]string
	var frame []string
	size, n, frameBytes := int64(0), 0, 0
	for size < int64(rawMB)<<20 {
		tm := t0.Add(time.Duration(n) * 10 * time.Millisecond)
		msg := "sample"
		if len(frame) == 0 && len(all)%8 == 0 {
			msg = "keyframe"
		}
		l := fmt.Sprintf(`{"time":%q,"level":"DEBUG","msg":%q,"v":1,"rss_bytes":%d,"sessions":%d,"goroutines":%d,"cpu":{"dur_ms":1000,"period_ms":10,"total":%d,"sessions":{"job-%d":%d,"job-%d":%d}},"pad":%q}`,
			tm.Format(time.RFC3339Nano), msg, 512<<20+n, 40+n%7, 900+n%50, n%100, n%40, n%13, (n+1)%40, n%11, strings.Repeat("p", n%32))
		frame = append(frame, l)
		frameBytes += len(l) + 1
		size += int64(len(l) + 1)
		n++
		if frameBytes >= 256<<10 {
			rb.frame(frame)
			all = append(all, frame)
			frame, frameBytes = nil, 0
		}
	}
	if len(frame) > 0 {
		rb.frame(frame)
		all = append(all, frame)
	}
	rec = writeTemp(b, dir, "bench.zst", rb.footer().buf)
	log = writeTemp(b, dir, "bench.jsonl", jsonl(all...))
	return rec, log, size, t0.Add(time.Duration(n) * 10 * time.Millisecond)
}

// BenchmarkScan reads every record of a 32 MiB recording (and of the same
// lines as a plain log); MB/s is of decompressed JSON. decompress-only is the
// floor: the same frames decompressed with nothing else done.
func BenchmarkScan(b *testing.B) {
	rec, log, raw, _ := benchRecording(b, 32)
	for _, in := range []struct{ name, path string }{{"recording", rec}, {"jsonl", log}} {
		b.Run(in.name, func(b *testing.B) {
			s := mustOpen(b, in.path)
			b.SetBytes(raw)
			b.ReportAllocs()
			for b.Loop() {
				sc := s.Scan()
				n := 0
				for sc.Next() {
					n++
				}
				if sc.Err() != nil || n == 0 {
					b.Fatal(sc.Err(), n)
				}
			}
		})
	}
	// The baseline: only decompressing the frames, no lines, no times.
	b.Run("decompress-only", func(b *testing.B) {
		s := mustOpen(b, rec)
		f := s.files[0]
		zd, err := newDecoder()
		if err != nil {
			b.Fatal(err)
		}
		defer zd.Close()
		var comp, out []byte
		b.SetBytes(raw)
		for b.Loop() {
			for _, fr := range f.frames {
				comp = grow(comp, fr.dataLen)
				if _, err := f.r.ReadAt(comp, fr.DataOffset); err != nil {
					b.Fatal(err)
				}
				if out, err = zd.DecodeAll(comp, out[:0]); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}

// BenchmarkSeek compares reaching the records just before a point late in
// a recording: from the latest keyframe (KeyframeAtOrBefore + ScanFrom)
// against folding from the start (a scan up to the point).
func BenchmarkSeek(b *testing.B) {
	rec, _, _, end := benchRecording(b, 32)
	s := mustOpen(b, rec)
	at := end.Add(-3 * time.Minute)
	b.Run("keyframe", func(b *testing.B) {
		for b.Loop() {
			pos, ok := s.KeyframeAtOrBefore(at)
			if !ok {
				b.Fatal("no keyframe")
			}
			sc := s.ScanFrom(pos, at)
			for sc.Next() {
			}
		}
	})
	b.Run("fullscan", func(b *testing.B) {
		for b.Loop() {
			sc := s.ScanRange(time.Time{}, at)
			for sc.Next() {
			}
		}
	})
}

// BenchmarkOpen compares indexing a closed recording from its footer with
// rebuilding the index of a crashed one by walking its frames.
func BenchmarkOpen(b *testing.B) {
	rec, _, _, _ := benchRecording(b, 32)
	for _, tc := range []struct {
		name   string
		footer bool
	}{{"footer", true}, {"rebuild", false}} {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				f, err := openFile(rec)
				if err != nil {
					b.Fatal(err)
				}
				if !tc.footer {
					f.frames = nil
					f.rebuild()
				}
				f.close()
			}
		})
	}
}
