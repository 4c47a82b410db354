package recorder

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
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
	torn    bool         // the file ends inside a frame or block (a crash, not damage)
	tornAt  int64
	open    bool // the file ends in a streamed frame that did not end (a crash, or still written)
}

type wtFrame struct {
	entry     FrameEntry
	lines     [][]byte // without newlines
	abandoned bool     // a streamed frame whose next block failed to be written: no index frame
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
		if magic == magicZstd {
			// A streamed frame (version 2): its index frame follows it.
			zi, err := walkZstdFrame(bytes.NewReader(data), pos, n)
			if errors.Is(err, errFrameShort) {
				// Open: its complete blocks hold whole lines.
				if zi.blocks == 0 {
					return torn()
				}
				raw, err := wtDecoder.DecodeAll(data[pos:zi.good], nil)
				if !errors.Is(err, io.ErrUnexpectedEOF) {
					return nil, fmt.Errorf("open frame at %d: %v", pos, err)
				}
				if len(raw) > 0 {
					raw = raw[:bytes.LastIndexByte(raw, '\n')+1]
				}
				fr := wtFrame{entry: FrameEntry{Offset: pos, DataOffset: pos}}
				if len(raw) > 0 {
					fr.lines = bytes.Split(raw[:len(raw)-1], []byte("\n"))
				}
				f.frames = append(f.frames, fr)
				f.open = true
				if zi.good < n {
					pos = zi.good
					return torn()
				}
				return f, nil
			}
			if err != nil && zi.blocks > 0 && frameStartsAt(data[zi.good:]) {
				// Abandoned after a failed write: read its blocks.
				raw, derr := wtDecoder.DecodeAll(data[pos:zi.good], nil)
				if !errors.Is(derr, io.ErrUnexpectedEOF) {
					return nil, fmt.Errorf("abandoned frame at %d: %v", pos, derr)
				}
				fr := wtFrame{entry: FrameEntry{Offset: pos, DataOffset: pos}, abandoned: true}
				if len(raw) > 0 {
					fr.lines = bytes.Split(raw[:len(raw)-1], []byte("\n"))
				}
				f.frames = append(f.frames, fr)
				pos = zi.good
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("offset %d: %v", pos, err)
			}
			if zi.end+indexFrameLen > n {
				// Cut after the frame's end, inside its index frame.
				raw, err := wtDecoder.DecodeAll(data[pos:zi.end], nil)
				if err != nil {
					return nil, fmt.Errorf("frame at %d: %w", pos, err)
				}
				fr := wtFrame{entry: FrameEntry{Offset: pos, DataOffset: pos}}
				if len(raw) > 0 {
					fr.lines = bytes.Split(raw[:len(raw)-1], []byte("\n"))
				}
				f.frames = append(f.frames, fr)
				pos = zi.end
				return torn()
			}
			if m := binary.LittleEndian.Uint32(data[zi.end:]); m != magicFrameIndex {
				return nil, fmt.Errorf("offset %d: magic %#x where the index frame of the frame before belongs", zi.end, m)
			}
			e, err := parseFrameEntry(data[zi.end+skipHeaderLen : zi.end+indexFrameLen])
			if err != nil || !e.trailing || int64(e.CompLen) != zi.end-pos {
				return nil, fmt.Errorf("offset %d: index frame %+v (%v) after a data frame of %d bytes", zi.end, e, err, zi.end-pos)
			}
			e.Offset, e.DataOffset = pos, pos
			raw, err := wtDecoder.DecodeAll(data[pos:zi.end], nil)
			if err != nil {
				return nil, fmt.Errorf("frame at %d: %w", pos, err)
			}
			fr, err := wtCheckFrame(e, raw)
			if err != nil {
				return nil, fmt.Errorf("frame at %d: %w", pos, err)
			}
			f.frames = append(f.frames, fr)
			pos = zi.end + indexFrameLen
			continue
		}
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
			if e.trailing {
				return nil, fmt.Errorf("offset %d: an index frame of version 2 not after its data frame", pos)
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
		if e.trailing {
			e.DataOffset = e.Offset
		}
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
	if f.torn || f.open {
		t.Fatalf("%s: torn at %d (open frame: %v) after Close", path, f.tornAt, f.open)
	}
	if len(f.frames) > 0 && f.footer == nil {
		t.Fatalf("%s: no footer after Close", path)
	}
	var indexed []wtFrame
	for _, fr := range f.frames {
		if !fr.abandoned {
			indexed = append(indexed, fr)
		}
	}
	if len(f.footer) != len(indexed) {
		t.Fatalf("%s: footer has %d entries for %d frames", path, len(f.footer), len(indexed))
	}
	for i, e := range f.footer {
		if e != indexed[i].entry {
			t.Fatalf("%s: footer entry %d = %+v, frame has %+v", path, i, e, indexed[i].entry)
		}
	}
	return f
}

// TestEveryPrefixIsTorn cuts a closed recording at every length: each prefix
// must read as the records of its whole blocks (whatever was flushed before
// that length) and a torn tail, never as damage, which is what a crash at
// any moment leaves. Both layouts: streamed frames, and independent frames.
func TestEveryPrefixIsTorn(t *testing.T) {
	for _, independent := range []bool{false, true} {
		t.Run(fmt.Sprintf("independent=%v", independent), func(t *testing.T) {
			r, path := wtCreate(t, &Options{Keyframer: &wtKeyframer{}, IndependentFrames: independent})
			var flushed []int64 // the file's size after each flush
			for i := range 3 {
				wtHandle(t, r, wtT0.Add(time.Duration(i)*time.Second), wtEvents()[i])
				if err := r.Flush(); err != nil {
					t.Fatal(err)
				}
				st, err := os.Stat(path)
				if err != nil {
					t.Fatal(err)
				}
				flushed = append(flushed, st.Size())
			}
			wtClose(t, r)
			data, _ := os.ReadFile(path)
			wtReadClosed(t, path)
			header := int64(skipHeaderLen + binary.LittleEndian.Uint32(data[4:]))
			for n := range int64(len(data)) {
				f, err := wtWalk(data[:n])
				if err != nil {
					t.Fatalf("prefix of %d bytes: %v", n, err)
				}
				want := 0 // records flushed within n bytes; the keyframe with the first
				boundary := n == 0 || n == header
				for i, sz := range flushed {
					if sz <= n {
						want = i + 2
					}
					boundary = boundary || sz == n
				}
				if n > flushed[len(flushed)-1] {
					boundary = !f.torn // what Close adds: no records, and only the end to tear
				}
				if got := len(f.lines()); got != want || f.torn == boundary {
					t.Fatalf("prefix of %d bytes (flushed at %v): %d records (want %d), torn %v", n, flushed, got, want, f.torn)
				}
			}
		})
	}
}
