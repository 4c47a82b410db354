package recorder

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/klauspost/compress/zstd"
)

// cursor reads the records of one file in file order, frame by frame,
// skipping frames whose index puts them outside [since, until). It learns the
// times of frames that had none and reports damage found while decoding.
type cursor struct {
	f            *recFile
	file         int // index of f in the Set
	dec          *decoderPool
	since, until time.Time
	next, stop   int // frames next..stop-1 remain
	skipFrame    int // in this frame, the first skipN records are passed over (ScanFrom)
	skipN        int

	cur  int // loaded frame, -1 when none
	fr   recFrame
	data []byte // the loaded frame's lines, when decoded in one piece
	p    int
	comp []byte
	zd   *zstd.Decoder // held while a frame is streamed
	lr   *lineReader
	lbuf []byte

	rec      int // records seen in the loaded frame
	min, max time.Time
	lines    int  // non-empty lines of the loaded frame, records or not
	firstKF  bool // its first line is a keyframe
	rawEnd   int64

	head  Record
	err   error // an I/O error: the scan stops
	later bool  // hand lines on unchecked when their time is slog's (Scanner.CheckLinesLater)
}

func newCursor(f *recFile, file int, dec *decoderPool) *cursor {
	return &cursor{f: f, file: file, dec: dec, stop: len(f.frames), cur: -1, skipFrame: -1}
}

// advance moves to the next record in range; it returns false at the end
// of the file or on an I/O error (c.err).
func (c *cursor) advance() bool {
	for {
		if c.cur < 0 && !c.load() {
			return false
		}
		line, off, n, tooLong, ok := c.nextLine()
		if !ok {
			c.finish()
			continue
		}
		if tooLong {
			c.lines++
			c.bad(off, n, errLineTooLong)
			continue
		}
		var t time.Time
		var err error
		unchecked := false
		if c.later && !c.fr.plain {
			t, unchecked = slogTime(line)
		}
		if !unchecked {
			t, err = recordTime(line)
		}
		if err != errEmptyLine {
			if c.lines == 0 {
				c.firstKF = err == nil && isKeyframe(line)
			}
			c.lines++
		}
		if err != nil {
			if err != errEmptyLine {
				c.bad(off, n, err)
			}
			continue
		}
		idx := c.rec
		c.rec++
		if c.min.IsZero() || t.Before(c.min) {
			c.min = t
		}
		if t.After(c.max) {
			c.max = t
		}
		if c.cur == c.skipFrame && idx < c.skipN {
			continue
		}
		if (!c.since.IsZero() && t.Before(c.since)) || (!c.until.IsZero() && !t.Before(c.until)) {
			continue
		}
		c.head = Record{Line: line, Time: t, Pos: Position{File: c.file, Frame: c.cur, Offset: c.fr.Offset, Record: idx},
			unchecked: unchecked, off: off, n: n}
		return true
	}
}

// load opens the next frame that may hold records in range.
func (c *cursor) load() bool {
	for c.err == nil && c.next < c.stop {
		i := c.next
		c.next++
		fr := c.f.frame(i)
		if fr.corrupt {
			continue // reported when first decoded
		}
		// A single copy of the index is trusted to within its slack; a
		// frame the index may misplace by more is read, not skipped.
		if fr.known && ((fr.Records == 0 && fr.slack == 0) ||
			(!c.since.IsZero() && fr.MaxTime.Add(fr.slack).Before(c.since)) ||
			(!c.until.IsZero() && !fr.MinTime.Add(-fr.slack).Before(c.until))) {
			continue
		}
		c.fr, c.rec, c.min, c.max = fr, 0, time.Time{}, time.Time{}
		c.lines, c.firstKF, c.rawEnd = 0, false, 0
		if c.open(i) {
			c.cur = i
			return true
		}
	}
	return false
}

// open reads frame i: a chunk of a plain log or a frame of known, bounded
// size in one piece, any other zstd frame as a stream.
func (c *cursor) open(i int) bool {
	fr := &c.fr
	if fr.plain {
		c.data = grow(c.data, fr.dataLen)
		if _, err := c.f.r.ReadAt(c.data, fr.DataOffset); err != nil {
			c.err = fmt.Errorf("%s: read frame at offset %d: %w", c.f.path, fr.Offset, err)
			return false
		}
		c.p = 0
		return true
	}
	if !fr.torn && fr.RawLen > 0 && uint64(fr.RawLen) <= maxDecodeAll && uint64(fr.dataLen) <= maxDecodeAll {
		c.comp = grow(c.comp, fr.dataLen)
		if _, err := c.f.r.ReadAt(c.comp, fr.DataOffset); err != nil {
			c.err = fmt.Errorf("%s: read frame at offset %d: %w", c.f.path, fr.Offset, err)
			return false
		}
		zd, err := c.dec.get()
		if err != nil {
			c.err = err
			return false
		}
		c.data, err = zd.DecodeAll(c.comp, grow(c.data, int64(fr.RawLen))[:0])
		c.dec.put(zd)
		switch {
		case err == nil:
			c.p = 0
			return true
		case !errors.Is(err, zstd.ErrDecoderSizeExceeded):
			c.corrupt(i, err)
			return false
		}
		// The index understated the size: stream it instead.
	}
	zd, err := c.dec.get()
	if err != nil {
		c.err = err
		return false
	}
	if err := zd.Reset(io.NewSectionReader(c.f.r, fr.DataOffset, fr.dataLen)); err != nil {
		c.dec.put(zd)
		c.corrupt(i, err)
		return false
	}
	c.zd = zd
	c.lr = newLineReader(zd, maxLine, c.lbuf)
	// A frame that did not end stops after its last complete block: the
	// decoder says so (io.ErrUnexpectedEOF), and a line the last block
	// cut (only a file cut at any byte has one) is part of the torn tail.
	c.lr.torn = fr.torn
	c.data, c.p = nil, 0
	return true
}

// nextLine returns the loaded frame's next line and its offset within the
// frame's decompressed data.
func (c *cursor) nextLine() (line []byte, off, n int64, tooLong, ok bool) {
	if c.lr != nil {
		return c.lr.next()
	}
	if c.p >= len(c.data) {
		return nil, 0, 0, false, false
	}
	rest := c.data[c.p:]
	i := bytes.IndexByte(rest, '\n')
	if i < 0 {
		i = len(rest)
	}
	off = int64(c.p)
	c.p += i + 1
	if i > maxLine {
		return nil, off, int64(i), true, true
	}
	return rest[:i], off, int64(i), false, true
}

// finish closes the loaded frame; a frame read to its end without error
// teaches the index its times and record count.
func (c *cursor) finish() {
	i := c.cur
	c.cur = -1
	c.rawEnd = int64(len(c.data))
	if c.lr != nil {
		c.rawEnd = c.lr.off
		err := c.lr.err
		c.lbuf = c.lr.buf
		c.lr = nil
		c.zd.Reset(nil)
		c.dec.put(c.zd)
		c.zd = nil
		if err != nil {
			c.corrupt(i, err)
			return
		}
	}
	if c.fr.plain || (c.fr.known && c.fr.checked) {
		return
	}
	f := c.f
	f.mu.Lock()
	defer f.mu.Unlock()
	fr := &f.frames[i]
	if fr.corrupt || fr.checked {
		return
	}
	fr.checked = true
	claim := fr.claim
	if fr.known {
		claim = &fr.FrameEntry
	}
	if claim != nil {
		if diff := c.contentDiff(*claim); diff != "" {
			f.addDamageLocked(Damage{Kind: IndexMismatch, Offset: fr.Offset, Line: -1,
				Err: fmt.Errorf("the frame holds %s; its index said %s; the records were read", diff, c.claimed(*claim))})
		}
	}
	if fr.known && claim != nil && c.contentDiff(*claim) == "" {
		fr.slack = 0 // the entry is right
		return
	}
	// What the frame holds is known now, whatever the index said.
	fr.known, fr.slack, fr.claim = true, 0, nil
	fr.Records = uint32(c.rec)
	fr.MinTime, fr.MaxTime = c.min, c.max
	if c.rawEnd > 0 && c.rawEnd <= 1<<32-1 {
		fr.RawLen = uint32(c.rawEnd)
	}
	if !c.firstKF {
		fr.Flags &^= FlagKeyframe
	} else if claim == nil || claim.Keyframe() {
		fr.Flags |= FlagKeyframe
	}
}

// contentDiff says how the decoded frame differs from the entry that
// described it ("" when it does not): its record count, time range, raw
// length and keyframe flag. Records without a time count in an entry's
// records but not in its time range.
func (c *cursor) contentDiff(e FrameEntry) string {
	var d []string
	if e.Records != uint32(c.lines) {
		d = append(d, fmt.Sprintf("%d records", c.lines))
	}
	if !e.MinTime.Equal(c.min) || !e.MaxTime.Equal(c.max) {
		d = append(d, fmt.Sprintf("records from %s to %s", fmtTime(c.min), fmtTime(c.max)))
	}
	if e.RawLen != 0 && int64(e.RawLen) != c.rawEnd {
		d = append(d, fmt.Sprintf("%d bytes of lines", c.rawEnd))
	}
	// The flag promises a keyframe first; a frame may start with a
	// keyframe record without it (only the writer's own keyframes are
	// flagged).
	if e.Keyframe() && !c.firstKF {
		d = append(d, "no keyframe first")
	}
	return strings.Join(d, ", ")
}

// claimed describes an entry in the terms of contentDiff.
func (c *cursor) claimed(e FrameEntry) string {
	kf := ""
	if e.Keyframe() {
		kf = ", keyframe first"
	}
	return fmt.Sprintf("%d records from %s to %s, %d bytes of lines%s", e.Records, fmtTime(e.MinTime), fmtTime(e.MaxTime), e.RawLen, kf)
}

// abandon closes the loaded frame before its end, learning nothing.
func (c *cursor) abandon() {
	c.cur = -1
	if c.lr != nil {
		c.lbuf = c.lr.buf
		c.lr = nil
		c.zd.Reset(nil)
		c.dec.put(c.zd)
		c.zd = nil
	}
}

// bad reports a bad line once, however many scans meet it.
func (c *cursor) bad(off, n int64, err error) {
	f := c.f
	f.mu.Lock()
	defer f.mu.Unlock()
	fr := &f.frames[c.cur]
	if off < fr.mark {
		return
	}
	fr.mark = off + 1
	d := Damage{Kind: BadLine, Offset: fr.Offset, Line: off, Bytes: n, Err: err}
	if fr.plain {
		d.Offset, d.Line = fr.DataOffset+off, -1
	}
	f.addDamageLocked(d)
}

// corrupt reports that frame i failed to decode, once.
func (c *cursor) corrupt(i int, err error) {
	f := c.f
	f.mu.Lock()
	defer f.mu.Unlock()
	fr := &f.frames[i]
	if fr.corrupt {
		return
	}
	fr.corrupt = true
	f.addDamageLocked(Damage{Kind: CorruptFrame, Offset: fr.Offset, Line: -1,
		Bytes: fr.DataOffset - fr.Offset + fr.dataLen, Err: err})
}

// grow returns b resized to n bytes, reallocating only when it must.
func grow(b []byte, n int64) []byte {
	if int64(cap(b)) >= n {
		return b[:n]
	}
	return make([]byte, n)
}
