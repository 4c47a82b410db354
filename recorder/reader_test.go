package recorder

import (
	"errors"
	"io/fs"
	"math/rand/v2"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestFooterAndRebuiltIndexAgree(t *testing.T) {
	frames := testFrames(t0, time.Millisecond, 12, 40, 4)
	b := newRecBuilder(t).frames(frames)
	noFooter := writeTemp(t, "", "crash.zst", b.buf)
	withFooter := writeTemp(t, "", "clean.zst", b.footer().buf)

	sf, sr := mustOpen(t, withFooter), mustOpen(t, noFooter)
	if got := sf.Files()[0].Index; got != IndexFooter {
		t.Errorf("clean file index from %v, want footer", got)
	}
	if got := sr.Files()[0].Index; got != IndexRebuilt {
		t.Errorf("crashed file index from %v, want rebuilt", got)
	}
	if a, b := sf.Index(0), sr.Index(0); !reflect.DeepEqual(a, b) {
		t.Fatalf("footer index\n%+v\nrebuilt\n%+v", a, b)
	}
	if d := sr.Damage(); len(d) != 0 {
		t.Errorf("damage in a file cut at a frame boundary: %v", d)
	}
	want := flatten(frames)
	equalLines(t, readAll(t, sf.Scan()), want)
	equalLines(t, readAll(t, sr.Scan()), want)

	fi := sf.Files()[0]
	if fi.Format != FormatRecording || fi.Frames != 12 || fi.Keyframes != 3 || fi.Records != 480 ||
		!fi.First.Equal(t0) || !fi.Last.Equal(t0.Add(479*time.Millisecond)) || !fi.Created.Equal(t0) {
		t.Errorf("FileInfo = %+v", fi)
	}
	first, last := sf.Span()
	if !first.Equal(fi.First) || !last.Equal(fi.Last) {
		t.Errorf("Span = %v, %v", first, last)
	}
}

// A crash leaves the last frame cut anywhere: every earlier frame is read
// and the tail is reported where it starts.
func TestTruncatedTailAtEveryOffset(t *testing.T) {
	frames := testFrames(t0, time.Millisecond, 4, 20, 0)
	b := newRecBuilder(t).frames(frames[:3])
	lastOff := int64(len(b.buf))
	b.frame(frames[3][:3])
	full := b.footer().buf
	dir := t.TempDir()
	want := flatten(frames[:3])
	for cut := lastOff; cut < int64(len(full)); cut++ {
		p := writeTemp(t, dir, "cut.zst", full[:cut])
		s := mustOpen(t, p)
		got := readAll(t, s.Scan())
		dmg := s.Damage()
		dataEnd := b.entries[3].DataOffset + int64(b.entries[3].CompLen)
		footerCut := cut >= dataEnd
		wantN := len(want)
		if footerCut {
			wantN += 3 // the last frame is whole; only the footer is torn
		}
		equalLines(t, got, flatten([][]string{want, frames[3][:3]})[:wantN])
		switch {
		case cut == lastOff || cut == dataEnd:
			if len(dmg) != 0 {
				t.Fatalf("cut %d at a frame boundary: damage %v", cut, dmg)
			}
		default:
			tornAt := lastOff
			if footerCut {
				tornAt = dataEnd
			}
			if len(dmg) != 1 || dmg[0].Kind != TruncatedTail || dmg[0].Offset != tornAt || dmg[0].Bytes != cut-tornAt {
				t.Fatalf("cut %d: damage %v, want truncated tail at %d of %d bytes", cut, dmg, tornAt, cut-tornAt)
			}
			var d Damage
			if !errors.As(error(dmg[0]), &d) || d.Path != p {
				t.Fatalf("damage %v not an error naming %s", dmg[0], p)
			}
		}
		s.Close()
	}
}

// Corruption anywhere inside one frame in the middle loses at most that
// frame: every other frame is read, and the damage covers the corrupt bytes.
func TestCorruptFrameRecovery(t *testing.T) {
	frames := testFrames(t0, time.Millisecond, 8, 30, 0)
	for _, footer := range []bool{false, true} {
		b := newRecBuilder(t).frames(frames)
		if footer {
			b.footer()
		}
		clean := b.buf
		rng := rand.New(rand.NewPCG(1, 2))
		dir := t.TempDir()
		for iter := range 100 {
			k := 1 + rng.IntN(len(frames)-2)
			start, end := b.entries[k].Offset, b.entries[k+1].Offset
			data := append([]byte(nil), clean...)
			at := start + rng.Int64N(end-start)
			n := 1 + rng.Int64N(min(16, end-at))
			for i := at; i < at+n; i++ {
				data[i] ^= byte(1 + rng.IntN(255))
			}
			s := mustOpen(t, writeTemp(t, dir, "bad.zst", data))
			got := readAll(t, s.Scan())
			var want []string
			for j, f := range frames {
				if j != k {
					want = append(want, f...)
				}
			}
			// The corrupt frame's records may survive (a flipped time in
			// its index, or an intact data frame after a bad index frame).
			if len(got) != len(want) {
				equalLines(t, got, flatten(frames))
			} else {
				equalLines(t, got, want)
			}
			dmg := s.Damage()
			covered, mismatch := false, false
			for _, d := range dmg {
				switch d.Kind {
				case CorruptFrame:
					covered = covered || (d.Offset <= at && at < d.Offset+d.Bytes)
				case IndexMismatch:
					mismatch = true
				default:
					t.Fatalf("iter %d: unexpected damage %v", iter, d)
				}
			}
			if len(got) == len(want) && !covered {
				t.Fatalf("iter %d (footer %v): frame %d lost, bytes %d..%d changed, damage %v", iter, footer, k, at, at+n, dmg)
			}
			// A frame whose records all survived had its index damaged:
			// that is reported too, unless only bytes no reader looks at
			// (an index entry's reserved bytes) changed and no footer
			// holds a second copy to compare.
			reserved := at >= start+skipHeaderLen+2 && at+n <= start+skipHeaderLen+4
			if len(got) != len(want) && len(dmg) == 0 && !(reserved && !footer) {
				t.Fatalf("iter %d (footer %v): bytes %d..%d of frame %d changed, all records read, nothing reported", iter, footer, at, at+n, k)
			}
			_ = mismatch
			s.Close()
		}
	}
}

func TestNotARecording(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(3, 4))
	random := make([]byte, 4096)
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	cases := map[string][]byte{
		"image.png":     append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), random[:100]...),
		"random.bin":    random,
		"doc.json":      []byte(`{"name": "config", "n": 1}` + "\n"),
		"pretty.json":   []byte("{\n  \"time\": \"2026-01-01T00:00:00Z\"\n}\n"),
		"empty.jsonl":   nil,
		"text.log":      []byte("starting\nlistening on :8080\n"),
		"badtime.jsonl": []byte(`{"time":"yesterday","msg":"x"}` + "\n"),
	}
	cases["random.zst"] = zstdLines(t, random)
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			p := writeTemp(t, dir, name, data)
			s, err := Open(p)
			if err == nil {
				s.Close()
				t.Fatal("opened")
			}
			var pe *os.PathError
			if !errors.Is(err, ErrNotRecording) || !errors.As(err, &pe) || pe.Path != p {
				t.Fatalf("err = %v, want a PathError for %s wrapping ErrNotRecording", err, p)
			}
		})
	}
	_, err := Open(dir + "/missing.zst")
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "missing.zst") {
		t.Fatalf("missing file: %v", err)
	}
	empty := t.TempDir()
	if _, err := Open(empty); !errors.Is(err, ErrNoInputs) {
		t.Fatalf("empty directory: %v", err)
	}
}

func TestJSONLWithBadLines(t *testing.T) {
	setLimit(t, &maxLine, 256)
	lines := testFrames(t0, time.Second, 1, 10, 0)[0]
	data := jsonl(lines[:4])
	badAt := int64(len(data))
	data = append(data, "not json at all\n"...)
	data = append(data, jsonl(lines[4:7])...)
	longAt := int64(len(data))
	data = append(data, `{"time":"`+strings.Repeat("9", 1000)+"\"}\n"...)
	data = append(data, "\n   \n"...) // blank lines are not damage
	data = append(data, jsonl(lines[7:])...)
	data = data[:len(data)-1] // no final newline
	s := mustOpen(t, writeTemp(t, "", "app.log", data))
	equalLines(t, readAll(t, s.Scan()), lines)
	fi := s.Files()[0]
	if fi.Format != FormatJSONL || fi.BadLines != 2 || fi.Records != 10 {
		t.Fatalf("FileInfo = %+v", fi)
	}
	dmg := s.Damage()
	if len(dmg) != 2 || dmg[0].Offset != badAt || dmg[0].Kind != BadLine || dmg[0].Bytes != 15 ||
		dmg[1].Offset != longAt || !errors.Is(dmg[1], errLineTooLong) {
		t.Fatalf("damage = %v", dmg)
	}
	// A second scan reports nothing new.
	readAll(t, s.Scan())
	if n := len(s.Damage()); n != 2 {
		t.Fatalf("damage reported again: %d", n)
	}
}

func TestStdin(t *testing.T) {
	frames := testFrames(t0, time.Millisecond, 3, 10, 1)
	data := newRecBuilder(t).frames(frames).footer().buf
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		w.Write(data)
		w.Close()
	}()
	old := stdin
	stdin = r
	defer func() { stdin = old }()
	s, err := Open("-")
	if err != nil {
		t.Fatal(err)
	}
	spool := s.files[0].temp
	if fi := s.Files()[0]; fi.Path != "-" || fi.Index != IndexFooter {
		t.Errorf("FileInfo = %+v", fi)
	}
	equalLines(t, readAll(t, s.Scan()), flatten(frames))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(spool); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("spool file %s left behind: %v", spool, err)
	}

	// A log from any reader, through the same path.
	s2, err := openReader("log", strings.NewReader(string(jsonl(frames[0]))))
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	equalLines(t, readAll(t, s2.Scan()), frames[0])
}
