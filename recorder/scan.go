package recorder

import (
	"fmt"
	"time"
)

// Position is the place of a record or frame in a [Set]: which file, which
// frame of that file, and which record of that frame (counting records only,
// not skipped bad lines). Offset is the frame's file offset, for people.
type Position struct {
	File   int   // index into Set.Files
	Frame  int   // index into Set.Index(File)
	Offset int64 // file offset of the frame (of its index frame, when it has one)
	Record int   // records of the frame before this one
}

// String returns "file 0 frame 12 (offset 40960) record 3".
func (p Position) String() string {
	return fmt.Sprintf("file %d frame %d (offset %d) record %d", p.File, p.Frame, p.Offset, p.Record)
}

// Record is one JSON line of a recording or log, with its time and place.
type Record struct {
	Line []byte // the slog JSON record, without its newline; valid until the next call to Next
	Time time.Time
	Pos  Position

	// Set for a line handed on unchecked (Scanner.CheckLinesLater): its
	// offset in the frame's data and its length, for Scanner.Invalid.
	unchecked bool
	off, n    int64
}

// Unchecked reports whether the line was handed on without being checked
// to be valid JSON, because the scanner was told to leave that to its
// caller ([Scanner.CheckLinesLater]).
func (r Record) Unchecked() bool { return r.unchecked }

// Scanner reads the records of a [Set] in time order. It is shaped like
// [bufio.Scanner]:
//
//	sc := set.Scan()
//	for sc.Next() {
//		r := sc.Record()
//		...
//	}
//	if err := sc.Err(); err != nil { ... }
//
// Within one file records come in file order; records of files that
// overlap in time are merged by time. Damaged frames and bad lines are
// skipped and reported by [Set.Damage], not by Err.
type Scanner struct {
	active  []*cursor // files being read, each with a record at its head
	pending []*cursor // files not started yet, by first record time
	last    *cursor   // whose head Record returned; advanced on the next Next
	rec     Record
	err     error
	files   []*recFile // of the set, for Invalid; not changed after the scanner is made
}

// CheckLinesLater makes the scanner hand on each record whose line starts
// the way slog's JSON handler writes a record ({"time":"<RFC 3339>",...})
// with its time read but without checking that the whole line is valid
// JSON ([Record.Unchecked]): the caller, which parses every line anyway,
// checks it as it does, and reports a line that is not valid with
// [Scanner.Invalid], which makes it damage of its file exactly as the
// scanner would have. A scan then parses each line once instead of twice.
// Lines of plain logs, and lines in any other form, are still checked here.
// A frame's time range and record count, when such a scan learns them,
// include its unchecked lines. Call it before the first Next.
func (sc *Scanner) CheckLinesLater() {
	for _, c := range sc.active {
		c.later = true
	}
	for _, c := range sc.pending {
		c.later = true
	}
}

// Invalid reports that the line of rec, handed on unchecked, is not valid
// JSON, for the reason err: it is counted and listed by [Set.Damage] as a
// bad line, as the scanner reports the lines it checks. Records that were
// checked, and a line already reported, are ignored. It may be called from
// another goroutine than the one calling Next, and after Next has moved on.
func (sc *Scanner) Invalid(rec Record, err error) {
	if !rec.unchecked || rec.Pos.File < 0 || rec.Pos.File >= len(sc.files) {
		return
	}
	f := sc.files[rec.Pos.File]
	f.mu.Lock()
	defer f.mu.Unlock()
	if rec.Pos.Frame < 0 || rec.Pos.Frame >= len(f.frames) {
		return
	}
	key := [2]int64{int64(rec.Pos.Frame), rec.off}
	if f.lateBad[key] {
		return // a second scan found it again
	}
	if f.lateBad == nil {
		f.lateBad = make(map[[2]int64]bool)
	}
	f.lateBad[key] = true
	f.addDamageLocked(Damage{Kind: BadLine, Offset: f.frames[rec.Pos.Frame].Offset, Line: rec.off, Bytes: rec.n, Err: err})
}

// Scan returns a Scanner over every record of the set.
func (s *Set) Scan() *Scanner { return s.ScanRange(time.Time{}, time.Time{}) }

// ScanRange returns a Scanner over the records with since <= time < until;
// a zero since or until leaves that end open. Frames whose index puts them
// outside the range are not read; frames of unknown times are decoded.
func (s *Set) ScanRange(since, until time.Time) *Scanner {
	sc := &Scanner{files: s.files}
	for i, f := range s.files {
		c := newCursor(f, i, &s.dec)
		c.since, c.until = since, until
		sc.pending = append(sc.pending, c)
	}
	return sc
}

// ScanFrom returns a Scanner that starts at pos, typically a keyframe found
// by [Set.KeyframeAtOrBefore], and stops before until (zero: no end). The
// file of pos is read from pos on; the other files from the time of the
// frame at pos, merged by time as in [Set.ScanRange].
func (s *Set) ScanFrom(pos Position, until time.Time) *Scanner {
	if pos.File < 0 || pos.File >= len(s.files) || pos.Frame < 0 || pos.Frame >= len(s.files[pos.File].frames) {
		return &Scanner{err: fmt.Errorf("recorder: scan from %v: no such frame", pos)}
	}
	from := s.files[pos.File].frame(pos.Frame).MinTime
	sc := &Scanner{files: s.files}
	for i, f := range s.files {
		c := newCursor(f, i, &s.dec)
		c.until = until
		if i == pos.File {
			c.next, c.skipFrame, c.skipN = pos.Frame, pos.Frame, pos.Record
			if c.advance() {
				sc.active = append(sc.active, c)
			} else if c.err != nil {
				sc.err = c.err
			}
			continue
		}
		c.since = from
		sc.pending = append(sc.pending, c)
	}
	return sc
}

// KeyframeAtOrBefore returns the position of the latest frame flagged
// [FlagKeyframe] whose MinTime is at or before t: a caller loads the
// keyframe there and folds forward to t. It reports false when no keyframe
// is that early.
func (s *Set) KeyframeAtOrBefore(t time.Time) (Position, bool) {
	var best Position
	var bestT time.Time
	found := false
	for i, f := range s.files {
		f.mu.Lock()
		for j, fr := range f.frames {
			if !fr.Keyframe() || !fr.known || fr.corrupt || fr.MinTime.After(t) {
				continue
			}
			if !found || !fr.MinTime.Before(bestT) {
				best, bestT, found = Position{File: i, Frame: j, Offset: fr.Offset}, fr.MinTime, true
			}
		}
		f.mu.Unlock()
	}
	return best, found
}

// Next advances to the next record, which Record then returns. It returns
// false at the end of the records or on an error, which Err returns.
func (sc *Scanner) Next() bool {
	if sc.err != nil {
		return false
	}
	if c := sc.last; c != nil {
		sc.last = nil
		if !c.advance() {
			sc.drop(c)
			if c.err != nil {
				sc.err = c.err
				return false
			}
		}
	}
	for len(sc.pending) > 0 {
		c := sc.pending[0]
		if len(sc.active) > 0 {
			start := c.f.startT
			if !start.IsZero() && start.After(sc.minHead().head.Time) {
				break // every active file has an earlier record
			}
		}
		sc.pending = sc.pending[1:]
		if c.advance() {
			sc.active = append(sc.active, c)
		} else if c.err != nil {
			sc.err = c.err
			return false
		}
	}
	if len(sc.active) == 0 {
		return false
	}
	c := sc.minHead()
	sc.rec, sc.last = c.head, c
	return true
}

// minHead returns the active cursor with the earliest head record; among
// equal times, the earlier file.
func (sc *Scanner) minHead() *cursor {
	best := sc.active[0]
	for _, c := range sc.active[1:] {
		if c.head.Time.Before(best.head.Time) || (c.head.Time.Equal(best.head.Time) && c.file < best.file) {
			best = c
		}
	}
	return best
}

func (sc *Scanner) drop(c *cursor) {
	for i, a := range sc.active {
		if a == c {
			sc.active = append(sc.active[:i], sc.active[i+1:]...)
			return
		}
	}
}

// Record returns the record Next moved to. Its Line is valid until the next
// call to Next.
func (sc *Scanner) Record() Record { return sc.rec }

// Err returns the error that stopped the scan: an I/O error, not damage.
func (sc *Scanner) Err() error { return sc.err }
