package recorder

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// indexBinary builds the frame index of a file that starts with a zstd or
// skippable frame: from the footer when it is present and consistent,
// otherwise by walking the frames.
func (f *recFile) indexBinary() error {
	f.readHeader()
	if frames, ok := f.readFooter(); ok {
		f.frames, f.source, f.format = frames, IndexFooter, FormatRecording
		return nil
	}
	f.source = IndexRebuilt
	return f.rebuild()
}

// readHeader reads the file header frame, when there is one.
func (f *recFile) readHeader() {
	var b [skipHeaderLen + fileHeaderLen]byte
	if _, err := f.r.ReadAt(b[:], 0); err != nil {
		return
	}
	if binary.LittleEndian.Uint32(b[:]) != magicFileHeader {
		return
	}
	if v, created, err := parseFileHeader(b[skipHeaderLen:]); err == nil {
		f.header, f.schema, f.created = true, v, created
	}
}

// readFooter finds the footer from the last 12 bytes of the file and checks
// that its entries are in order and inside the file; any doubt means the
// index is rebuilt instead.
func (f *recFile) readFooter() ([]recFrame, bool) {
	if f.size < skipHeaderLen+footerTrailer {
		return nil, false
	}
	var tr [footerTrailer]byte
	if _, err := f.r.ReadAt(tr[:], f.size-footerTrailer); err != nil || string(tr[4:]) != footerMagic {
		return nil, false
	}
	count := int64(binary.LittleEndian.Uint32(tr[:]))
	payload := count*footerEntryLen + footerTrailer
	start := f.size - skipHeaderLen - payload
	if start < 0 {
		return nil, false
	}
	b := make([]byte, skipHeaderLen+payload)
	if _, err := f.r.ReadAt(b, start); err != nil {
		return nil, false
	}
	if binary.LittleEndian.Uint32(b) != magicFooter || int64(binary.LittleEndian.Uint32(b[4:])) != payload {
		return nil, false
	}
	frames := make([]recFrame, 0, count)
	prevEnd := int64(0)
	for i := range count {
		p := b[skipHeaderLen+i*footerEntryLen:]
		off := int64(binary.LittleEndian.Uint64(p))
		e, err := parseFrameEntry(p[8:footerEntryLen])
		if err != nil || off < prevEnd || off > start {
			return nil, false
		}
		e.Offset = off
		e.DataOffset = off + skipHeaderLen + frameEntryLen
		end := e.DataOffset + int64(e.CompLen)
		if end > start {
			return nil, false
		}
		prevEnd = end
		frames = append(frames, recFrame{FrameEntry: e, dataLen: int64(e.CompLen), known: !e.MinTime.IsZero()})
	}
	// Spot-check that the first and last entries point at index frames.
	for _, i := range []int{0, len(frames) - 1} {
		if i < 0 {
			continue
		}
		var m [4]byte
		if _, err := f.r.ReadAt(m[:], frames[i].Offset); err != nil || binary.LittleEndian.Uint32(m[:]) != magicFrameIndex {
			return nil, false
		}
	}
	return frames, true
}

// unit is one frame found at a file offset by unitAt.
type unit struct {
	end    int64
	frame  *recFrame // a data frame, with or without its index frame
	footer bool
}

// unitAt parses the frame (or index+data pair) at pos. It returns
// errFrameShort when the frame runs past the end of the file.
func (f *recFile) unitAt(pos int64) (unit, error) {
	if pos+4 > f.size {
		return unit{}, errFrameShort
	}
	var h [skipHeaderLen]byte
	n := min(int64(len(h)), f.size-pos)
	if _, err := f.r.ReadAt(h[:n], pos); err != nil {
		return unit{}, fmt.Errorf("read: %w", err)
	}
	magic := binary.LittleEndian.Uint32(h[:])
	if magic == magicZstd {
		zi, err := walkZstdFrame(f.r, pos, f.size)
		if err != nil {
			return unit{}, err
		}
		fr := &recFrame{FrameEntry: FrameEntry{Offset: pos, DataOffset: pos}, dataLen: zi.end - pos}
		if zi.contentSize >= 0 && uint64(zi.contentSize) <= maxDecodeAll {
			fr.RawLen = uint32(zi.contentSize)
		}
		return unit{end: zi.end, frame: fr}, nil
	}
	if magic < magicSkipMin || magic > magicSkipMax {
		return unit{}, fmt.Errorf("bad magic %#08x", magic)
	}
	if n < skipHeaderLen {
		return unit{}, errFrameShort
	}
	size := int64(binary.LittleEndian.Uint32(h[4:]))
	end := pos + skipHeaderLen + size
	if end > f.size {
		return unit{}, errFrameShort
	}
	switch magic {
	case magicFooter:
		return unit{end: end, footer: true}, nil
	case magicFileHeader:
		if pos != 0 {
			return unit{}, errors.New("file header in the middle of the file")
		}
		return unit{end: end}, nil
	case magicFrameIndex:
	default:
		return unit{end: end}, nil // a skippable frame of someone else's: not ours to judge
	}
	if size != frameEntryLen {
		return unit{}, fmt.Errorf("index frame of %d bytes, want %d", size, frameEntryLen)
	}
	var eb [frameEntryLen]byte
	if _, err := f.r.ReadAt(eb[:], pos+skipHeaderLen); err != nil {
		return unit{}, fmt.Errorf("read index frame: %w", err)
	}
	e, err := parseFrameEntry(eb[:])
	if err != nil {
		return unit{}, err
	}
	e.Offset, e.DataOffset = pos, end
	dataEnd := end + int64(e.CompLen)
	if dataEnd > f.size {
		return unit{}, errFrameShort
	}
	zi, err := walkZstdFrame(f.r, end, dataEnd)
	if err != nil {
		if errors.Is(err, errFrameShort) {
			err = fmt.Errorf("data frame longer than the %d bytes its index frame says", e.CompLen)
		}
		return unit{}, err
	}
	if zi.end != dataEnd {
		return unit{}, fmt.Errorf("data frame of %d bytes, its index frame says %d", zi.end-end, e.CompLen)
	}
	fr := &recFrame{FrameEntry: e, dataLen: int64(e.CompLen), known: !e.MinTime.IsZero()}
	return unit{end: dataEnd, frame: fr}, nil
}

// rebuild walks the file frame by frame, without decompressing: skippable
// frames by their size field, data frames by their index frame or, lacking
// one, by their zstd block headers. A frame that does not parse is damage:
// reading resumes at the next offset where a frame parses, and when none does
// the rest of the file is a torn tail.
func (f *recFile) rebuild() error {
	pos := int64(0)
	indexed := false
	for pos < f.size {
		u, err := f.unitAt(pos)
		if err == nil {
			if u.frame != nil {
				indexed = indexed || u.frame.Offset != u.frame.DataOffset
				f.frames = append(f.frames, *u.frame)
			}
			if u.footer && u.end == f.size {
				break
			}
			pos = u.end
			continue
		}
		next, rerr := f.resync(pos + 1)
		if rerr != nil {
			return rerr
		}
		if next < 0 {
			f.addDamage(Damage{Kind: TruncatedTail, Offset: pos, Line: -1, Bytes: f.size - pos, Err: err})
			break
		}
		f.addDamage(Damage{Kind: CorruptFrame, Offset: pos, Line: -1, Bytes: next - pos, Err: err})
		pos = next
	}
	f.format = FormatZstd
	if indexed || f.header {
		f.format = FormatRecording
	}
	return nil
}

// resync searches forward from pos for the next offset where a frame parses:
// one of our index frames, a footer, or a bare zstd frame. It returns -1
// when there is none.
func (f *recFile) resync(pos int64) (int64, error) {
	const chunk = 64 << 10
	buf := make([]byte, chunk+3)
	for pos+4 <= f.size {
		n := min(int64(len(buf)), f.size-pos)
		if _, err := f.r.ReadAt(buf[:n], pos); err != nil {
			return 0, fmt.Errorf("%s: read at %d: %w", f.path, pos, err)
		}
		for i := int64(0); i+4 <= n; i++ {
			switch binary.LittleEndian.Uint32(buf[i:]) {
			case magicFrameIndex, magicFooter, magicZstd:
				if _, err := f.unitAt(pos + i); err == nil {
					return pos + i, nil
				}
			}
		}
		pos += n - 3
	}
	return -1, nil
}
