package recorder

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// indexSlack is how far a frame's indexed time range, read from a single
// copy of the index (an index frame without a footer to confirm it), is
// trusted to be off: such a frame is skipped by a time-range scan only when
// it lies further than this outside the range. An entry that cannot be right
// (its range reversed, or out of step with its neighbours by more than this)
// is not trusted at all: the frame is decoded to learn its times.
const indexSlack = time.Minute

// indexBinary builds the frame index of a file that starts with a zstd or
// skippable frame. Every copy of the index is checked against the others and
// against the data (docs/recording-format.md, "Reading a recording"):
//
//   - a footer is used as it is when every entry matches, byte for byte, the
//     index frame at its offset and the entries tile the file exactly, from
//     the end of the header to the footer, each data frame starting with the
//     zstd magic;
//   - otherwise the file is walked frame by frame, and the footer's entries
//     are compared with what the walk found: every disagreement is reported
//     as IndexMismatch, and the frames the walk found are believed;
//   - an entry read from one copy only is checked for plausibility, and a
//     frame whose copies disagree on its contents is decoded to learn them.
func (f *recFile) indexBinary() error {
	f.readHeader()
	ft := f.readFooter()
	f.footer, f.footerStart = ft.present, ft.start
	if ft.present && ft.err == nil {
		if frames, ok := f.footerAgrees(ft); ok {
			f.frames, f.source, f.format = frames, IndexFooter, FormatRecording
			f.checkTimes() // entries only one copy vouches for (remote inputs) get their slack
			return nil
		}
	}
	f.source = IndexRebuilt
	if err := f.rebuild(); err != nil {
		return err
	}
	if ft.present {
		ft.start = f.footerStart
		f.reconcile(ft)
	}
	f.checkTimes()
	return nil
}

// readHeader reads the file header frame, when there is one.
func (f *recFile) readHeader() {
	var b [skipHeaderLen + maxFileHeaderLen]byte
	n, _ := f.r.ReadAt(b[:min(int64(len(b)), f.size)], 0)
	if n < skipHeaderLen || binary.LittleEndian.Uint32(b[:]) != magicFileHeader {
		return
	}
	size := int64(binary.LittleEndian.Uint32(b[4:]))
	if skipHeaderLen+size > f.size {
		return
	}
	h, err := parseFileHeader(b[skipHeaderLen:min(n, skipHeaderLen+int(min(size, maxFileHeaderLen)))])
	if err != nil {
		return
	}
	f.header, f.schema, f.created, f.headerEnd = true, h.schema, h.created, skipHeaderLen+size
	f.id = h.worker
}

// footerRead is what readFooter found at the end of the file.
type footerRead struct {
	present bool  // the file ends with the footer magic
	err     error // why the footer cannot be used, when present
	start   int64 // offset of the footer frame
	entries []FrameEntry
	raw     [][]byte // each entry's 32 bytes, as stored
}

// readFooter finds the footer from the last 12 bytes of the file and parses
// it. Entries must be in file order and inside the file; whether they match
// the index frames is footerAgrees's question.
func (f *recFile) readFooter() footerRead {
	var ft footerRead
	if f.size < skipHeaderLen+footerTrailer {
		return ft
	}
	var tr [footerTrailer]byte
	if _, err := f.r.ReadAt(tr[:], f.size-footerTrailer); err != nil || string(tr[4:]) != footerMagic {
		return ft
	}
	ft.present = true
	count := int64(binary.LittleEndian.Uint32(tr[:]))
	payload := count*footerEntryLen + footerTrailer
	ft.start = f.size - skipHeaderLen - payload
	if ft.start < 0 {
		ft.err = fmt.Errorf("footer of %d entries is longer than the file", count)
		ft.start = f.size - footerTrailer // reported where its count is
		return ft
	}
	b := make([]byte, skipHeaderLen+payload)
	if _, err := f.r.ReadAt(b, ft.start); err != nil {
		ft.err = fmt.Errorf("read footer: %w", err)
		return ft
	}
	if m, n := binary.LittleEndian.Uint32(b), int64(binary.LittleEndian.Uint32(b[4:])); m != magicFooter || n != payload {
		ft.err = fmt.Errorf("footer frame at offset %d has magic %#08x and size %d, want %#08x and %d (for its count of %d entries)",
			ft.start, m, n, magicFooter, payload, count)
		return ft
	}
	prev := int64(-1)
	for i := range count {
		p := b[skipHeaderLen+i*footerEntryLen:]
		off := int64(binary.LittleEndian.Uint64(p))
		e, err := parseFrameEntry(p[8:footerEntryLen])
		if err != nil {
			ft.err = fmt.Errorf("footer entry %d: %w", i, err)
			return ft
		}
		if off <= prev || off+skipHeaderLen+frameEntryLen+int64(e.CompLen) > ft.start {
			ft.err = fmt.Errorf("footer entry %d: offset %d and length %d are out of order or past the footer", i, off, e.CompLen)
			return ft
		}
		prev = off
		e.Offset, e.DataOffset = off, off+skipHeaderLen+frameEntryLen
		if e.trailing {
			e.DataOffset = off
		}
		ft.entries = append(ft.entries, e)
		ft.raw = append(ft.raw, p[8:footerEntryLen])
	}
	return ft
}

// footerAgrees checks the footer against the file without decompressing:
// each entry against the index frame at its offset (the same 32 bytes), and
// the entries together against the file's layout (the first frame right
// after the header, each frame right after the one before, the last ending
// where the footer starts, a zstd magic where each data frame starts). It
// costs one small read per frame.
func (f *recFile) footerAgrees(ft footerRead) ([]recFrame, bool) {
	if len(ft.entries) == 0 {
		return nil, false
	}
	pos := f.headerEnd
	frames := make([]recFrame, 0, len(ft.entries))
	var b [indexFrameLen + 4]byte
	for i, e := range ft.entries {
		if e.Offset != pos {
			return nil, false
		}
		fr := recFrame{FrameEntry: e, dataLen: int64(e.CompLen), known: !e.MinTime.IsZero()}
		pos = e.DataOffset + int64(e.CompLen)
		if e.trailing {
			fr.trailer = pos
			pos += indexFrameLen
		}
		if f.remote {
			// Reading every index frame would fetch the whole file from a
			// bucket: the footer is used if its entries tile the file, as a
			// single copy of the index, and each frame read is compared
			// with its entry when it is decoded.
			frames = append(frames, fr)
			continue
		}
		// The index frame, and the zstd magic where the data frame starts
		// (after the index frame in version 1, before it in version 2).
		at, magicAt := e.Offset, indexFrameLen
		if e.trailing {
			if _, err := f.r.ReadAt(b[indexFrameLen:], e.DataOffset); err != nil {
				return nil, false
			}
			at, magicAt = fr.trailer, -1
		}
		n := indexFrameLen
		if magicAt > 0 {
			n += 4
		}
		if _, err := f.r.ReadAt(b[:n], at); err != nil {
			return nil, false
		}
		if binary.LittleEndian.Uint32(b[:]) != magicFrameIndex || binary.LittleEndian.Uint32(b[4:]) != frameEntryLen ||
			!bytes.Equal(b[skipHeaderLen:indexFrameLen], ft.raw[i]) ||
			binary.LittleEndian.Uint32(b[indexFrameLen:]) != magicZstd {
			return nil, false
		}
		fr.confirmed = true
		frames = append(frames, fr)
	}
	return frames, pos == ft.start
}

// unit is one frame found at a file offset by unitAt.
type unit struct {
	end    int64
	frame  *recFrame // a data frame, with or without its index frame
	footer bool
	damage []Damage // index damage found on the way, with the frame believed
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
		return f.dataFrameAt(pos)
	}
	if magic < magicSkipMin || magic > magicSkipMax {
		return unit{}, fmt.Errorf("bad magic %#08x", magic)
	}
	if n < skipHeaderLen {
		return unit{}, errFrameShort
	}
	size := int64(binary.LittleEndian.Uint32(h[4:]))
	end := pos + skipHeaderLen + size
	switch magic {
	case magicFooter:
		if end > f.size {
			return unit{}, errFrameShort
		}
		return unit{end: end, footer: true}, nil
	case magicFileHeader:
		if end > f.size {
			return unit{}, errFrameShort
		}
		if pos != 0 {
			return unit{}, errors.New("file header in the middle of the file")
		}
		return unit{end: end}, nil
	case magicFrameIndex:
		return f.indexedFrameAt(pos, size)
	}
	if end > f.size {
		return unit{}, errFrameShort
	}
	return unit{end: end}, nil // a skippable frame of someone else's: not ours to judge
}

// dataFrameAt walks the zstd frame at pos, which has no index frame before
// it: a frame of version 2, whose index frame follows it; a frame that did
// not end (a streamed frame whose writer was killed, or whose next block
// failed to be written), read up to its last complete block; or a frame of
// a plain zstd file.
func (f *recFile) dataFrameAt(pos int64) (unit, error) {
	zi, err := walkZstdFrame(f.r, pos, f.size)
	if err != nil {
		var next [4]byte
		ended := errors.Is(err, errFrameShort) // at the end of the file
		if !ended && zi.blocks > 0 {
			_, rerr := f.r.ReadAt(next[:], zi.good)
			ended = rerr == nil && frameStartsAt(next[:]) // the next frame follows
		}
		if !ended || zi.blocks == 0 {
			return unit{}, err
		}
		return unit{end: zi.good, frame: &recFrame{FrameEntry: FrameEntry{Offset: pos, DataOffset: pos},
			dataLen: zi.good - pos, torn: true}}, nil
	}
	fr := &recFrame{FrameEntry: FrameEntry{Offset: pos, DataOffset: pos}, dataLen: zi.end - pos}
	if zi.contentSize >= 0 && uint64(zi.contentSize) <= maxDecodeAll {
		fr.RawLen = uint32(zi.contentSize)
	}
	// Its index frame, when it is of version 2, follows it.
	var b [indexFrameLen]byte
	if zi.end+indexFrameLen > f.size {
		return unit{end: zi.end, frame: fr}, nil
	}
	if _, err := f.r.ReadAt(b[:], zi.end); err != nil {
		return unit{}, fmt.Errorf("read: %w", err)
	}
	if binary.LittleEndian.Uint32(b[:]) != magicFrameIndex {
		return unit{end: zi.end, frame: fr}, nil
	}
	e, perr := parseFrameEntry(b[skipHeaderLen:])
	if perr != nil || !e.trailing {
		return unit{end: zi.end, frame: fr}, nil // the next frame's, or damaged: judged there
	}
	dataLen := fr.dataLen
	fr.FrameEntry, fr.known, fr.trailer = e, !e.MinTime.IsZero(), zi.end
	fr.Offset, fr.DataOffset = pos, pos
	u := unit{end: zi.end + indexFrameLen, frame: fr}
	var why []string
	if size := binary.LittleEndian.Uint32(b[4:]); size != frameEntryLen {
		why = append(why, fmt.Sprintf("its size field says %d bytes, want %d", size, frameEntryLen))
	}
	if int64(e.CompLen) != dataLen {
		why = append(why, fmt.Sprintf("its entry says the data frame is %d bytes, the data frame at offset %d is %d", e.CompLen, pos, dataLen))
	}
	if len(why) > 0 {
		fr.distrust()
		fr.CompLen = uint32(dataLen)
		if zi.contentSize >= 0 && uint64(zi.contentSize) <= maxDecodeAll {
			fr.RawLen = uint32(zi.contentSize)
		}
		u.damage = []Damage{{Kind: IndexMismatch, Offset: pos, Line: -1,
			Err: fmt.Errorf("the index frame after it disagrees with its data frame: %s; the data frame was read", joinWhy(why))}}
	}
	return u, nil
}

// indexedFrameAt reads the index frame at pos, whose size field says size,
// and the data frame after it. The data frame is believed over its index
// frame: when the entry's length, version or the frame's own size field is
// damaged but a whole zstd frame follows where the writer puts it, that
// frame is read (its contents learnt by decoding it) and the index frame is
// reported as IndexMismatch. Only when no zstd frame follows is the pair an
// error.
func (f *recFile) indexedFrameAt(pos, size int64) (unit, error) {
	layoutData := pos + indexFrameLen // where the writer puts the data frame
	var eb [frameEntryLen]byte
	if pos+skipHeaderLen+frameEntryLen > f.size {
		return unit{}, errFrameShort
	}
	if _, err := f.r.ReadAt(eb[:], pos+skipHeaderLen); err != nil {
		return unit{}, fmt.Errorf("read index frame: %w", err)
	}
	var why []string
	e, perr := parseFrameEntry(eb[:])
	if perr != nil {
		why = append(why, perr.Error())
	}
	if perr == nil && e.trailing {
		// A version 2 index frame follows its data frame: met here, the
		// frame it describes was not where it should be.
		if pos+skipHeaderLen+size > f.size {
			return unit{}, errFrameShort
		}
		return unit{}, errors.New("an index frame of version 2 that does not follow its data frame")
	}
	// A version 1 entry is 32 bytes and its data frame follows at once: a
	// size field that says otherwise is damaged. An entry of another
	// version may be longer, its data frame after the skippable frame; but
	// a whole zstd frame where version 1 puts it is believed first (inside
	// a longer entry there is none).
	zi, zerr := walkZstdFrame(f.r, layoutData, f.size)
	if zerr != nil && perr != nil && size > frameEntryLen && pos+skipHeaderLen+size < f.size {
		if zi2, err2 := walkZstdFrame(f.r, pos+skipHeaderLen+size, f.size); err2 == nil {
			zi, zerr, layoutData = zi2, nil, pos+skipHeaderLen+size
		}
	}
	if layoutData == pos+indexFrameLen && size != frameEntryLen {
		why = append(why, fmt.Sprintf("its size field says %d bytes, want %d", size, frameEntryLen))
	}
	if zerr != nil {
		if errors.Is(zerr, errFrameShort) && perr == nil && layoutData+int64(e.CompLen) > f.size {
			return unit{}, errPairShort // the pair was being written: a torn tail
		}
		if len(why) > 0 {
			return unit{}, fmt.Errorf("index frame: %s; no zstd frame after it: %v", why[0], zerr)
		}
		return unit{}, zerr
	}
	fr := &recFrame{FrameEntry: e, dataLen: zi.end - layoutData, known: !e.MinTime.IsZero()}
	fr.Offset, fr.DataOffset = pos, layoutData
	if perr == nil && int64(e.CompLen) != fr.dataLen {
		why = append(why, fmt.Sprintf("its entry says the data frame is %d bytes, the data frame at offset %d is %d", e.CompLen, layoutData, fr.dataLen))
	}
	if len(why) == 0 {
		return unit{end: zi.end, frame: fr}, nil
	}
	// The entry is wrong somewhere: keep only what the data frame proves.
	fr.distrust()
	fr.CompLen = uint32(fr.dataLen)
	if zi.contentSize >= 0 && uint64(zi.contentSize) <= maxDecodeAll {
		fr.RawLen = uint32(zi.contentSize)
	}
	if perr != nil {
		fr.claim = nil // not an entry at all
	}
	d := Damage{Kind: IndexMismatch, Offset: pos, Line: -1,
		Err: fmt.Errorf("index frame disagrees with its data frame: %s; the data frame was read", joinWhy(why))}
	return unit{end: zi.end, frame: fr, damage: []Damage{d}}, nil
}

func joinWhy(why []string) string {
	s := why[0]
	for _, w := range why[1:] {
		s += "; " + w
	}
	return s
}

// rebuild walks the file frame by frame, without decompressing: skippable
// frames by their size field, data frames by their index frame and their
// zstd block headers. A frame that does not parse is damage: reading resumes
// at the next offset where a frame parses, and when none does the rest of
// the file is a torn tail.
func (f *recFile) rebuild() error {
	pos := int64(0)
	indexed := false
	unitStart := int64(0) // where the last frame that parsed began
	foreign := false      // it was a skippable frame not ours, unchecked
	for pos < f.size {
		u, err := f.unitAt(pos)
		if err == nil && f.header && u.frame == nil && pos != 0 && !(u.footer && u.end == f.size) {
			// Our writer writes no other skippable frames: one in a
			// recording may be a damaged index frame whose size now
			// covers the frames after it. Believe a frame found inside.
			next, rerr := f.resync(pos+1, u.end)
			if rerr != nil {
				return rerr
			}
			if next >= 0 {
				kind, lost := CorruptFrame, next-pos
				if next-indexFrameLen >= pos && f.bareAt(next) {
					kind, lost = IndexMismatch, 0
				}
				f.addDamage(Damage{Kind: kind, Offset: pos, Line: -1, Bytes: lost,
					Err: fmt.Errorf("a skippable frame of %d bytes holds the frame at offset %d: a damaged index frame; the frames inside it were read", u.end-pos, next)})
				pos = next
				continue
			}
		}
		if err == nil {
			unitStart, foreign = pos, u.frame == nil && pos != 0 && !(u.footer && u.end == f.size)
			for _, d := range u.damage {
				f.addDamage(d)
			}
			if u.frame != nil {
				indexed = indexed || u.frame.Offset != u.frame.DataOffset || u.frame.trailer > 0
				f.frames = append(f.frames, *u.frame)
			}
			if u.footer && (u.end != f.size || !f.footer) {
				f.addDamage(Damage{Kind: IndexMismatch, Offset: pos, Line: -1,
					Err: errors.New("a footer frame that does not end the file with its count and \"ORTCFOOT\"; it was not used")})
			}
			if u.footer && u.end == f.size {
				f.footerStart = pos // where it is, whatever its count says
				break
			}
			pos = u.end
			continue
		}
		if f.footer && pos == f.footerStart {
			break // a damaged footer, reported by reconcile
		}
		if errors.Is(err, errPairShort) {
			// An index frame and its data frame that both run past the
			// end: the write of the pair was cut. (The data frame alone
			// would read as a streamed frame that did not end.)
			f.addDamage(Damage{Kind: TruncatedTail, Offset: pos, Line: -1, Bytes: f.size - pos, Err: err})
			break
		}
		// A skippable frame not ours, followed by damage, may be damage
		// itself (a damaged magic and size): search from inside it.
		lo := pos
		if foreign {
			lo = unitStart
		}
		foreign = false
		next, rerr := f.resync(lo+1, f.size)
		if rerr != nil {
			return rerr
		}
		if next >= 0 && next-indexFrameLen >= lo && next-indexFrameLen <= pos && f.bareAt(next) {
			// Only the 40 bytes in front of a whole data frame, where
			// its index frame is, are damaged (and perhaps misread as
			// another frame): the data frame is read, nothing is lost.
			f.addDamage(Damage{Kind: IndexMismatch, Offset: next - indexFrameLen, Line: -1,
				Err: fmt.Errorf("a damaged index frame (%v); the data frame after it was read", err)})
			pos = next
			continue
		}
		if next < 0 {
			f.addDamage(Damage{Kind: TruncatedTail, Offset: pos, Line: -1, Bytes: f.size - pos, Err: err})
			break
		}
		if next < pos {
			pos = lo // the frame at lo was not what it seemed
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

// errPairShort is errFrameShort for an index frame of version 1 and its data
// frame: both run past the end of the file.
var errPairShort = fmt.Errorf("index frame and data frame: %w", errFrameShort)

// bareAt reports whether a zstd frame without an index frame starts at pos.
func (f *recFile) bareAt(pos int64) bool {
	var m [4]byte
	if _, err := f.r.ReadAt(m[:], pos); err != nil || binary.LittleEndian.Uint32(m[:]) != magicZstd {
		return false
	}
	_, err := walkZstdFrame(f.r, pos, f.size)
	return err == nil
}

// resync searches forward from pos for the next offset where a frame parses:
// one of our index frames, a footer, or a bare zstd frame. It returns -1
// when there is none. A magic that occurs by chance inside compressed data
// is rejected because what follows it does not parse as a whole frame.
func (f *recFile) resync(pos, limit int64) (int64, error) {
	const chunk = 64 << 10
	buf := make([]byte, chunk+3)
	for pos+4 <= limit {
		n := min(int64(len(buf)), f.size-pos)
		if _, err := f.r.ReadAt(buf[:n], pos); err != nil {
			return 0, fmt.Errorf("%s: read at %d: %w", f.path, pos, err)
		}
		for i := int64(0); i+4 <= n && pos+i < limit; i++ {
			switch binary.LittleEndian.Uint32(buf[i:]) {
			case magicFrameIndex, magicFooter, magicZstd:
				if u, err := f.unitAt(pos + i); err == nil && (!u.footer || u.end == f.size) {
					return pos + i, nil
				}
			}
		}
		pos += n - 3
	}
	return -1, nil
}

// reconcile compares a footer that did not agree with the file with the
// frames the walk found, reporting each disagreement. The walk is believed:
// it found those frames where the bytes say they are. A frame that both
// copies describe alike keeps its facts; one they disagree on is decoded to
// learn them.
func (f *recFile) reconcile(ft footerRead) {
	report := func(off int64, format string, args ...any) {
		f.addDamage(Damage{Kind: IndexMismatch, Offset: off, Line: -1, Err: fmt.Errorf(format, args...)})
	}
	if ft.err != nil {
		report(ft.start, "footer: %v; the index was rebuilt by walking the frames", ft.err)
		return
	}
	byData := make(map[int64]int, len(ft.entries))
	for i, e := range ft.entries {
		byData[e.DataOffset] = i
	}
	matched := make([]bool, len(ft.entries))
	var b [indexFrameLen]byte
	for k := range f.frames {
		fr := &f.frames[k]
		i, ok := byData[fr.DataOffset]
		if !ok {
			report(fr.Offset, "the frame at offset %d is missing from the footer", fr.Offset)
			continue
		}
		matched[i] = true
		fe := ft.entries[i]
		var diff []string
		if int64(fe.CompLen) != fr.dataLen {
			diff = append(diff, fmt.Sprintf("compressed length %d, the data frame is %d", fe.CompLen, fr.dataLen))
		}
		twin := false
		if at := fr.indexAt(); at >= 0 && !fr.distrusted {
			// Compare the stored bytes of both copies.
			if _, err := f.r.ReadAt(b[:], at); err == nil && bytes.Equal(b[skipHeaderLen:], ft.raw[i]) {
				twin = true
			} else if len(diff) == 0 {
				diff = append(diff, "its entry differs from the index frame's: "+entryDiff(fe, fr.FrameEntry))
			}
		}
		switch {
		case len(diff) > 0:
			report(fe.Offset, "footer entry %d disagrees with the frame at offset %d: %s; the frame was read", i, fr.Offset, joinWhy(diff))
			fr.distrust()
		case twin:
			fr.confirmed = true
		case fr.distrusted && int64(fe.CompLen) == fr.dataLen:
			// The index frame is damaged, the footer's entry matches the
			// data frame: one copy, checked like any single copy.
			keep := fr.FrameEntry
			fr.FrameEntry = fe
			fr.Offset, fr.DataOffset = keep.Offset, keep.DataOffset
			fr.known, fr.distrusted, fr.claim = !fe.MinTime.IsZero(), false, nil
		}
	}
	for i, ok := range matched {
		if !ok {
			report(ft.entries[i].Offset, "footer entry %d points at offset %d, where no frame starts", i, ft.entries[i].Offset)
		}
	}
}

// entryDiff names the fields in which two entries differ.
func entryDiff(a, b FrameEntry) string {
	var d []string
	if a.Flags != b.Flags {
		d = append(d, fmt.Sprintf("flags %#x vs %#x", a.Flags, b.Flags))
	}
	if a.CompLen != b.CompLen {
		d = append(d, fmt.Sprintf("compressed length %d vs %d", a.CompLen, b.CompLen))
	}
	if a.Records != b.Records {
		d = append(d, fmt.Sprintf("records %d vs %d", a.Records, b.Records))
	}
	if a.RawLen != b.RawLen {
		d = append(d, fmt.Sprintf("raw length %d vs %d", a.RawLen, b.RawLen))
	}
	if !a.MinTime.Equal(b.MinTime) {
		d = append(d, fmt.Sprintf("min time %s vs %s", fmtTime(a.MinTime), fmtTime(b.MinTime)))
	}
	if !a.MaxTime.Equal(b.MaxTime) {
		d = append(d, fmt.Sprintf("max time %s vs %s", fmtTime(a.MaxTime), fmtTime(b.MaxTime)))
	}
	if len(d) == 0 {
		return "reserved bytes"
	}
	return joinWhy(d)
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "none"
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// checkTimes judges the entries that only one copy of the index vouches for
// (frames of a file without a usable footer). The writer closes frames in
// time order, so in an intact file each frame ends before the next begins
// (give or take the order in which records arrived). An entry is used, with
// indexSlack of tolerance, when its range is not reversed and it is in step
// with the frames on either side of it: it ends no later than the next one
// begins, and begins no earlier than the previous one ends, each within
// indexSlack; the first frame must also begin no earlier than the file's
// creation time, less indexSlack, and the last frame, which nothing after it
// bounds, is not trusted. Any other entry, and its neighbours that it puts
// out of step, are distrusted: those frames are decoded when read, and what the decoding
// finds is compared with the entry then (an entry that was right is not
// reported).
func (f *recFile) checkTimes() {
	single := func(i int) bool {
		fr := &f.frames[i]
		return fr.known && !fr.confirmed && !fr.plain
	}
	// Neighbours are the nearest frames with times on either side; frames
	// whose times are unknown are passed over.
	var known []int
	for i := range f.frames {
		if fr := &f.frames[i]; fr.known && !fr.MaxTime.Before(fr.MinTime) {
			known = append(known, i)
		}
	}
	inStep := func(a, b *recFrame) bool { return !a.MaxTime.After(b.MinTime.Add(indexSlack)) }
	ok := make([]bool, len(f.frames))
	for k, i := range known {
		fr := &f.frames[i]
		// The file's creation time (a few milliseconds after its first
		// record) bounds every frame, and is the only bound of the first.
		ok[i] = k+1 < len(known) && inStep(fr, &f.frames[known[k+1]]) &&
			(k > 0 || f.header && !f.created.IsZero()) &&
			(f.created.IsZero() || !fr.MinTime.Before(f.created.Add(-indexSlack)))
		if k > 0 {
			ok[i] = ok[i] && inStep(&f.frames[known[k-1]], fr)
		}
		// The last has no frame after it, and nothing bounds its end:
		// it is decoded at once (one frame) rather than trusted.
	}
	for k, i := range known {
		fr := &f.frames[i]
		switch {
		case fr.confirmed:
			// Two copies agree; only an entry out of step even with
			// both neighbours (the last: with the one before) is doubted.
			if !ok[i] && (k == 0 || !inStep(&f.frames[known[k-1]], fr) || k+1 < len(known) && !inStep(fr, &f.frames[known[k+1]])) {
				fr.distrust()
			}
		case single(i) && ok[i]:
			fr.slack = indexSlack
		case single(i):
			fr.distrust()
		}
	}
	for i := range f.frames {
		if fr := &f.frames[i]; fr.known && fr.MaxTime.Before(fr.MinTime) {
			fr.distrust() // a reversed range is never right
		}
	}
	if n := len(known); n > 0 && single(known[n-1]) || n > 0 && f.frames[known[n-1]].distrusted {
		// Learn the last frame's contents now: one frame, and the
		// file's end is then what its records say.
		var dec decoderPool
		f.learn(&dec, known[n-1])
		dec.close()
	}
}

// distrust stops using the frame's entry: its facts are learnt by decoding
// the frame, and compared then with the entry it claimed.
func (fr *recFrame) distrust() {
	if fr.claim == nil && !fr.distrusted {
		c := fr.FrameEntry
		fr.claim = &c
	}
	fr.distrusted, fr.known, fr.confirmed, fr.slack = true, false, false, 0
	fr.Flags, fr.Records, fr.RawLen = 0, 0, 0
	fr.MinTime, fr.MaxTime = time.Time{}, time.Time{}
}

// indexAt returns the offset of the frame's index frame, before it (version
// 1) or after it (version 2), or -1 when it has none.
func (fr *recFrame) indexAt() int64 {
	switch {
	case fr.Offset != fr.DataOffset:
		return fr.Offset
	case fr.trailer > 0:
		return fr.trailer
	}
	return -1
}
