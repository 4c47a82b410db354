package recorder

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/openrtc-go/introspect/events"
)

var updateSeeds = flag.Bool("update-seeds", false, "rewrite the seed corpora under testdata/fuzz from generated recordings")

// openData opens bytes as a one-file Set, without a file.
func openData(name string, data []byte) (*Set, error) {
	f := &recFile{path: name, r: bytes.NewReader(data), size: int64(len(data))}
	if err := f.index(); err != nil {
		return nil, err
	}
	return &Set{files: []*recFile{f}}, nil
}

// fuzzLimits lowers the reader's limits so that a fuzzer explores them
// instead of allocating up to them.
func fuzzLimits(t testing.TB) {
	setLimit(t, &maxLine, 4<<10)
	setLimit(t, &maxDecodeAll, 1<<20)
	setLimit(t, &maxWindow, 1<<20)
	setLimit(t, &chunkTarget, 512)
}

// FuzzOpen feeds arbitrary bytes to the whole reading path: detection, the
// footer or the frame walk, decoding, line splitting, keyframe lookup.
func FuzzOpen(f *testing.F) {
	fuzzLimits(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := openData("fuzz", data)
		if err != nil {
			if !errors.Is(err, ErrNotRecording) {
				t.Fatalf("open: %v", err)
			}
			return
		}
		defer s.Close()
		n := 0
		sc := s.Scan()
		for sc.Next() {
			n++
			r := sc.Record()
			if tm, err := recordTime(r.Line); err != nil || !tm.Equal(r.Time) {
				t.Fatalf("record %q with time %v: %v", r.Line, r.Time, err)
			}
		}
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
		size := int64(len(data))
		for _, d := range s.Damage() {
			if d.Offset < 0 || d.Offset > size || d.Bytes < 0 || (d.Line < 0 && d.Offset+d.Bytes > size) {
				t.Fatalf("damage outside the file of %d bytes: %v", size, d)
			}
		}
		if fi := s.Files()[0]; fi.UnknownFrames != 0 {
			t.Fatalf("after a full scan, %d frames of unknown times", fi.UnknownFrames)
		}
		first, last := s.Span()
		if pos, ok := s.KeyframeAtOrBefore(last); ok {
			sc := s.ScanFrom(pos, time.Time{})
			for sc.Next() {
			}
			if sc.Err() != nil {
				t.Fatal(sc.Err())
			}
		}
		readAll(t, s.ScanRange(first, last))
	})
}

// FuzzWalkZstdFrame checks the block walker that rebuilds an index without
// decompressing: it must stay inside its input, and agree with the decoder on
// frames the decoder accepts.
func FuzzWalkZstdFrame(f *testing.F) {
	fuzzLimits(f)
	dec, err := newDecoder()
	if err != nil {
		f.Fatal(err)
	}
	defer dec.Close()
	f.Fuzz(func(t *testing.T, data []byte) {
		zi, err := walkZstdFrame(bytes.NewReader(data), 0, int64(len(data)))
		if err == nil && (zi.end < 5 || zi.end > int64(len(data))) {
			t.Fatalf("frame end %d outside %d bytes", zi.end, len(data))
		}
		if _, derr := dec.DecodeAll(data, nil); derr == nil && len(data) >= 4 && err != nil {
			// The decoder read it whole: the first frame must walk.
			if m := uint32(data[0]) | uint32(data[1])<<8 | uint32(data[2])<<16 | uint32(data[3])<<24; m == magicZstd {
				t.Fatalf("decoder accepts a frame the walker rejects: %v", err)
			}
		}
	})
}

// FuzzFollowFrames feeds arbitrary bytes to the Follower's frame parser, as
// if they had been appended to a file being followed.
func FuzzFollowFrames(f *testing.F) {
	fuzzLimits(f)
	dec, err := newDecoder()
	if err != nil {
		f.Fatal(err)
	}
	defer dec.Close()
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, format := range []Format{FormatRecording, FormatJSONL} {
			fl := &Follower{path: "fuzz", dec: dec, format: format, buf: append([]byte(nil), data...)}
			for range len(data) + 2 {
				for fl.nextLine() {
				}
				var progressed bool
				if format == FormatJSONL {
					progressed = fl.stepLines()
				} else {
					progressed = fl.stepFrames()
				}
				if !progressed {
					break
				}
			}
			if fl.off+int64(len(fl.buf)) != int64(len(data)) {
				t.Fatalf("consumed %d + kept %d of %d bytes", fl.off, len(fl.buf), len(data))
			}
		}
	})
}

// FuzzDecodeLine runs a line through both the reader's time check and
// events.Decode, which the fold applies to every record: neither may panic,
// and a line events.Decode accepts is a record with the same time.
func FuzzDecodeLine(f *testing.F) {
	f.Fuzz(func(t *testing.T, line []byte) {
		tm, terr := recordTime(line)
		d, derr := events.Decode(line)
		if derr != nil && !errors.Is(derr, events.ErrMalformed) {
			t.Fatalf("Decode error %v does not wrap ErrMalformed", derr)
		}
		if derr == nil && (terr != nil || !tm.Equal(d.Time)) {
			t.Fatalf("Decode accepts %q at %v; reader: %v, %v", line, d.Time, tm, terr)
		}
	})
}

// TestFuzzSeeds writes the seed corpora when run with -update-seeds: small
// real recordings (builder and writer), damaged copies, logs, zstd frames
// and lines. Without the flag it checks the corpora are there.
func TestFuzzSeeds(t *testing.T) {
	seeds := fuzzSeeds(t)
	for name, inputs := range seeds {
		dir := filepath.Join("testdata", "fuzz", name)
		if !*updateSeeds {
			if ents, err := os.ReadDir(dir); err != nil || len(ents) < len(inputs) {
				t.Errorf("%s: %d seeds, want %d; run go test -run TestFuzzSeeds -update-seeds", dir, len(ents), len(inputs))
			}
			continue
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for i, in := range inputs {
			body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", in)
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed-%02d", i)), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func fuzzSeeds(t *testing.T) map[string][][]byte {
	frames := testFrames(t0, 250*time.Millisecond, 3, 4, 2)
	b := newRecBuilder(t).frames(frames)
	noFooter := bytes.Clone(b.buf)
	clean := b.footer().buf

	// The writer's own output: streamed frames (format version 2), also
	// as a kill leaves it (a frame open), and independent frames.
	writeFile := func(independent bool) (closed, open []byte) {
		p := filepath.Join(t.TempDir(), "w.zst")
		now := t0
		rec, err := Create(p, &Options{Clock: clockAt(&now), FlushInterval: time.Second,
			KeyframeInterval: 2 * time.Second, Keyframer: &countKeyframer{}, IndependentFrames: independent})
		if err != nil {
			t.Fatal(err)
		}
		recordThrough(t, rec, t0, 300*time.Millisecond, 12)
		if err := rec.Flush(); err != nil {
			t.Fatal(err)
		}
		open, err = os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := rec.Close(); err != nil {
			t.Fatal(err)
		}
		closed, err = os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return closed, open
	}
	written, writtenOpen := writeFile(false)
	independent, _ := writeFile(true)
	hdr := skipHeaderLen + int(binary.LittleEndian.Uint32(written[4:]))

	log := jsonl(frames...)
	corrupt := bytes.Clone(clean)
	corrupt[b.entries[1].DataOffset+5] ^= 0x55
	enc, _ := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1))
	defer enc.Close()
	single := enc.EncodeAll(log, nil)
	stream := zstdLines(t, log)
	rle := enc.EncodeAll(bytes.Repeat([]byte("a"), 5000), nil)
	raw := zstdLines(t, []byte("{\"time\":\"2026-11-27T03:12:00Z\"}\n"), zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderCRC(false))

	return map[string][][]byte{
		"FuzzOpen": {clean, noFooter, written, written[:len(written)-7], noFooter[:len(noFooter)-9],
			corrupt, log, append(bytes.Clone(log), "bad\n{\"time\":1}\n"...), stream, single,
			[]byte("\x89PNG\r\n\x1a\n"), writtenOpen, writtenOpen[:len(writtenOpen)-3], independent},
		"FuzzWalkZstdFrame": {single, stream, rle, raw, single[:len(single)-1], clean[b.entries[0].DataOffset:],
			written[hdr:], writtenOpen[hdr:]},
		"FuzzFollowFrames": {clean, noFooter[:len(noFooter)-9], written, corrupt, log, log[:len(log)-5], stream,
			writtenOpen, independent},
		"FuzzDecodeLine": {[]byte(frames[0][0]), []byte(frames[0][1]), []byte(`{"time":"2026-11-27T03:12:00Z","level":"WARN","msg":"slow-session","v":1,"session_id":"a","blocked_ms":12.5,"stack":["main.f"]}`),
			[]byte(`{"level":"INFO","time":"2026-11-27T03:12:00.5+01:00","msg":"hello"}`), []byte(`{"time":"nope","msg":"x"}`),
			[]byte(`{"time":"2026-11-27T03:12:00Z","msg":"sample","v":1,"cpu":{"sessions":{"a":3}}}`), []byte(`[1,2]`), []byte(`{"time":"\u0032026-11-27T03:12:00Z","msg":"m"}`)},
	}
}
