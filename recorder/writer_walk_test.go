package recorder

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/tidwall/gjson"
)

// The writer's tests read files back with this minimal walker, which follows
// format.go and nothing else, so that they check the layout independently of
// the reader in the same package.

// wtFile is a walked recording.
type wtFile struct {
	schema  uint16
	created time.Time
	frames  []wtFrame
	footer  []FrameEntry // nil when there is none
	torn    bool         // the file ends inside a frame (a crash, not damage)
	tornAt  int64
}

type wtFrame struct {
	entry FrameEntry
	lines [][]byte // without newlines
}

func (f *wtFile) lines() [][]byte {
	var out [][]byte
	for _, fr := range f.frames {
		out = append(out, fr.lines...)
	}
	return out
}

var wtDecoder, _ = zstd.NewReader(nil, zstd.WithDecoderConcurrency(1))

// wtWalk walks data frame by frame. It fails on anything but a well-formed
// recording that may end in a torn tail.
func wtWalk(data []byte) (*wtFile, error) {
	f := &wtFile{}
	pos := int64(0)
	n := int64(len(data))
	torn := func() (*wtFile, error) {
		f.torn, f.tornAt = true, pos
		return f, nil
	}
	for pos < n {
		if n-pos < skipHeaderLen {
			return torn()
		}
		magic := binary.LittleEndian.Uint32(data[pos:])
		size := int64(binary.LittleEndian.Uint32(data[pos+4:]))
		if magic < magicSkipMin || magic > magicSkipMax {
			return nil, fmt.Errorf("offset %d: magic %#x where a skippable frame belongs", pos, magic)
		}
		end := pos + skipHeaderLen + size
		if end > n {
			return torn()
		}
		payload := data[pos+skipHeaderLen : end]
		switch magic {
		case magicFileHeader:
			if pos != 0 {
				return nil, fmt.Errorf("offset %d: file header not at the start", pos)
			}
			var err error
			var h fileHeader
			if h, err = parseFileHeader(payload); err != nil {
				return nil, fmt.Errorf("header: %w", err)
			}
			f.schema, f.created = h.schema, h.created
		case magicFrameIndex:
			e, err := parseFrameEntry(payload)
			if err != nil {
				return nil, fmt.Errorf("offset %d: %w", pos, err)
			}
			e.Offset, e.DataOffset = pos, end
			dend := end + int64(e.CompLen)
			if dend > n {
				return torn()
			}
			if binary.LittleEndian.Uint32(data[end:]) != magicZstd {
				return nil, fmt.Errorf("offset %d: no zstd frame after index", end)
			}
			raw, err := wtDecoder.DecodeAll(data[end:dend], nil)
			if err != nil {
				return nil, fmt.Errorf("frame at %d: %w", end, err)
			}
			fr, err := wtCheckFrame(e, raw)
			if err != nil {
				return nil, fmt.Errorf("frame at %d: %w", end, err)
			}
			f.frames = append(f.frames, fr)
			end = dend
		case magicFooter:
			if end != n {
				return nil, fmt.Errorf("offset %d: footer is not the end of the file", pos)
			}
			es, err := wtParseFooter(payload)
			if err != nil {
				return nil, fmt.Errorf("footer: %w", err)
			}
			f.footer = es
		default:
			return nil, fmt.Errorf("offset %d: unknown skippable frame %#x", pos, magic)
		}
		pos = end
	}
	return f, nil
}

// wtCheckFrame checks a data frame's content against its index entry.
func wtCheckFrame(e FrameEntry, raw []byte) (wtFrame, error) {
	fr := wtFrame{entry: e}
	if int(e.RawLen) != len(raw) {
		return fr, fmt.Errorf("raw length %d, index says %d", len(raw), e.RawLen)
	}
	if len(raw) == 0 || raw[len(raw)-1] != '\n' {
		return fr, fmt.Errorf("content does not end in a newline")
	}
	var minT, maxT time.Time
	for _, l := range bytes.Split(raw[:len(raw)-1], []byte("\n")) {
		if !gjson.ValidBytes(l) {
			return fr, fmt.Errorf("line %q is not JSON", l)
		}
		if ts := gjson.GetBytes(l, "time"); ts.Exists() {
			t, err := time.Parse(time.RFC3339Nano, ts.Str)
			if err != nil {
				return fr, err
			}
			if minT.IsZero() || t.Before(minT) {
				minT = t
			}
			if t.After(maxT) {
				maxT = t
			}
		}
		fr.lines = append(fr.lines, l)
	}
	if int(e.Records) != len(fr.lines) {
		return fr, fmt.Errorf("%d lines, index says %d", len(fr.lines), e.Records)
	}
	if !minT.Equal(e.MinTime) || !maxT.Equal(e.MaxTime) {
		return fr, fmt.Errorf("times %v..%v, index says %v..%v", minT, maxT, e.MinTime, e.MaxTime)
	}
	if e.Keyframe() && gjson.GetBytes(fr.lines[0], "msg").Str != "keyframe" {
		return fr, fmt.Errorf("flagged keyframe frame starts with %s", fr.lines[0])
	}
	return fr, nil
}

func wtParseFooter(b []byte) ([]FrameEntry, error) {
	if len(b) < footerTrailer || string(b[len(b)-8:]) != footerMagic {
		return nil, fmt.Errorf("no footer magic")
	}
	count := int(binary.LittleEndian.Uint32(b[len(b)-footerTrailer:]))
	body := b[:len(b)-footerTrailer]
	if len(body) != count*footerEntryLen {
		return nil, fmt.Errorf("%d bytes of entries for %d frames", len(body), count)
	}
	es := make([]FrameEntry, 0, count)
	for i := range count {
		rec := body[i*footerEntryLen:]
		e, err := parseFrameEntry(rec[8:footerEntryLen])
		if err != nil {
			return nil, err
		}
		e.Offset = int64(binary.LittleEndian.Uint64(rec))
		e.DataOffset = e.Offset + indexFrameLen
		es = append(es, e)
	}
	return es, nil
}

// wtRead walks the file at path and fails the test on damage.
func wtRead(t testing.TB, path string) *wtFile {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := wtWalk(data)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return f
}

// wtReadClosed is wtRead for a cleanly closed file: not torn, and with a
// footer that matches its frames.
func wtReadClosed(t testing.TB, path string) *wtFile {
	t.Helper()
	f := wtRead(t, path)
	if f.torn {
		t.Fatalf("%s: torn at %d after Close", path, f.tornAt)
	}
	if len(f.frames) > 0 && f.footer == nil {
		t.Fatalf("%s: no footer after Close", path)
	}
	if len(f.footer) != len(f.frames) {
		t.Fatalf("%s: footer has %d entries for %d frames", path, len(f.footer), len(f.frames))
	}
	for i, e := range f.footer {
		if e != f.frames[i].entry {
			t.Fatalf("%s: footer entry %d = %+v, frame has %+v", path, i, e, f.frames[i].entry)
		}
	}
	return f
}

// TestEveryPrefixIsTorn cuts a closed recording at every length: each prefix
// must read as its whole frames and a torn tail, never as damage, which is
// what a crash at any moment leaves.
func TestEveryPrefixIsTorn(t *testing.T) {
	r, path := wtCreate(t, &Options{Keyframer: &wtKeyframer{}})
	for i := range 3 {
		wtHandle(t, r, wtT0.Add(time.Duration(i)*time.Second), wtEvents()[i])
		if err := r.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	wtClose(t, r)
	data, _ := os.ReadFile(path)
	whole := wtRead(t, path)
	for n := range len(data) {
		f, err := wtWalk(data[:n])
		if err != nil {
			t.Fatalf("prefix of %d bytes: %v", n, err)
		}
		want := 0
		for _, fr := range whole.frames {
			if fr.entry.DataOffset+int64(fr.entry.CompLen) <= int64(n) {
				want++
			}
		}
		boundary := n == 0 || n == skipHeaderLen+int(binary.LittleEndian.Uint32(data[4:]))
		for _, fr := range whole.frames {
			boundary = boundary || fr.entry.DataOffset+int64(fr.entry.CompLen) == int64(n)
		}
		if len(f.frames) != want || f.torn == boundary {
			t.Fatalf("prefix of %d bytes: %d frames (want %d), torn %v", n, len(f.frames), want, f.torn)
		}
	}
}
