package fold

import (
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/openrtc-go/introspect/events"
	"github.com/openrtc-go/introspect/recorder"
)

// Lookback is how far before the moment asked for a replay starts folding
// when a keyframe that early exists: a minute fills the header's CPU
// sparkline (a keyframe does not carry it) and brings back the sessions
// that ended just before the moment, which a keyframe leaves out.
const Lookback = time.Minute

// forwardLimit is the longest jump a Cursor folds forward to rather than
// reloading from the keyframe nearest the target: folding two minutes of
// records costs about what loading a keyframe does.
const forwardLimit = 2 * Lookback

// maxSampleTimes bounds the sample times a Cursor remembers for stepping
// back; older ones are found again by reloading.
const maxSampleTimes = 4096

// ErrEmpty is returned by [NewCursor] for a set that holds no records.
var ErrEmpty = errors.New("fold: the recording holds no records")

// StateAt returns the folded state of set at time t: the state after every
// record at or before t. It loads the latest keyframe at or before t (a
// minute earlier when there is one, see [Lookback]) and folds forward from
// there, so its cost does not depend on how far into the recording t is.
// Only a set without keyframes (a plain log) is read from its start.
func StateAt(set *recorder.Set, t time.Time) (*State, error) {
	c := &Cursor{set: set}
	if err := c.load(t); err != nil {
		return nil, err
	}
	return c.state, nil
}

// A Cursor is a moment in a recording and the folded state there, for
// stepping through it as the replay's interactive top does. Moving forward
// folds only the records between the old moment and the new one; moving
// back reloads from the nearest keyframe. Neither reads the recording from
// its start.
//
// A Cursor is not safe for concurrent use, except [Cursor.Stalls], which
// may run on another goroutine while the cursor moves.
type Cursor struct {
	set         *recorder.Set
	first, last time.Time

	state  *State
	at     time.Time
	sc     *recorder.Scanner // nil after a load, until a move needs it
	resume time.Time         // where sc starts when it is made
	ahead  []byte            // a record read past the moment and not yet applied
	aheadT time.Time
	has    bool // ahead holds a record
	done   bool // sc is exhausted
	err    error

	samples []time.Time // times of the samples applied since the last load

	stats CursorStats

	stallsOnce sync.Once
	stalls     []Stall
	stallsErr  error

	findingsOnce sync.Once
	findings     []Finding
	findingsErr  error
}

// CursorStats counts a Cursor's work, for benchmarks and diagnostics.
type CursorStats struct {
	Loads   int64 // times the state was reloaded from a keyframe (or the start)
	Records int64 // records read
	Decoded int64 // records decoded and applied
}

// NewCursor returns a cursor on set at the end of the recording.
func NewCursor(set *recorder.Set) (*Cursor, error) {
	_, last := set.Span()
	return NewCursorAt(set, last)
}

// Span returns the time of the first and the last record of the recording.
func (c *Cursor) Span() (first, last time.Time) { return c.first, c.last }

// Time returns the cursor's moment.
func (c *Cursor) Time() time.Time { return c.at }

// State returns the folded state at the cursor's moment. It changes as the
// cursor moves.
func (c *Cursor) State() *State { return c.state }

// View returns the top view at the cursor's moment.
func (c *Cursor) View() View { return c.state.View(c.at) }

// Stats returns the work the cursor has done so far.
func (c *Cursor) Stats() CursorStats { return c.stats }

// Seek moves to the moment t, clamped to the recording: the `j`, `J`, `g`
// and `G` keys. A short way forward is folded; anything else reloads.
func (c *Cursor) Seek(t time.Time) error {
	t = c.clamp(t)
	if !t.Before(c.at) && t.Sub(c.at) <= forwardLimit && c.err == nil {
		c.at = t
		return c.foldTo(t)
	}
	return c.load(t)
}

// Next moves to the next sample after the cursor's moment: the `t` key. It
// folds only the records up to that sample. It reports false, and moves to
// the last record, when no sample follows.
func (c *Cursor) Next() (bool, error) {
	if c.err != nil {
		return false, c.err
	}
	for {
		line, t, ok := c.read()
		if !ok {
			if err := c.scanErr(); err != nil {
				c.err = err
				return false, err
			}
			if now := c.state.Now(); now.After(c.at) {
				c.at = now
			}
			return false, nil
		}
		kind := KindOf(line)
		c.apply(line, t, kind)
		if kind == events.KindSample && t.After(c.at) {
			c.at = t
			return true, c.foldTo(t) // the records that share its time
		}
	}
}

// Prev moves to the latest sample before the cursor's moment: the `T` key.
// It reloads the state from the nearest keyframe. It reports false, and
// stays, when no sample precedes the moment.
func (c *Cursor) Prev() (bool, error) {
	if t, ok := c.sampleBefore(c.at); ok {
		return true, c.load(t)
	}
	// No sample since the keyframe the state came from: fold the stretch
	// before the moment to find one.
	at := c.at
	if !at.After(c.first) {
		return false, nil
	}
	if err := c.load(at.Add(-time.Nanosecond)); err != nil {
		return false, err
	}
	if t, ok := c.sampleBefore(at); ok {
		return true, c.load(t)
	}
	return false, c.load(at)
}

// sampleBefore returns the latest sample time applied since the last load
// that is before t.
func (c *Cursor) sampleBefore(t time.Time) (time.Time, bool) {
	i := sort.Search(len(c.samples), func(i int) bool { return !c.samples[i].Before(t) })
	if i == 0 {
		return time.Time{}, false
	}
	return c.samples[i-1], true
}

// Stalls returns every stall of the recording in time order. The list is
// collected once, by a scan that decodes only slow-session records, and
// kept; it is safe to call from another goroutine while the cursor moves.
func (c *Cursor) Stalls() ([]Stall, error) {
	c.stallsOnce.Do(func() {
		c.stalls, c.stallsErr = CollectStalls(c.set.Scan(), nil)
	})
	return c.stalls, c.stallsErr
}

// Findings returns the findings of the whole recording, as the summary
// command prints them (see [Report.Summary]). The first call reads the
// recording once; like [Cursor.Stalls], it is safe to call from another
// goroutine while the cursor moves.
func (c *Cursor) Findings() ([]Finding, error) {
	c.findingsOnce.Do(func() {
		r, err := ReadReport(c.set.Scan(), nil)
		if err != nil {
			c.findingsErr = err
			return
		}
		c.findings = r.Summary().Findings
	})
	return c.findings, c.findingsErr
}

// NextStall moves to the first stall reported after the cursor's moment:
// the `]` key. It reports false, and stays, when there is none.
func (c *Cursor) NextStall() (Stall, bool, error) {
	stalls, err := c.Stalls()
	if err != nil {
		return Stall{}, false, err
	}
	i := sort.Search(len(stalls), func(i int) bool { return stalls[i].At.After(c.at) })
	if i == len(stalls) {
		return Stall{}, false, nil
	}
	return stalls[i], true, c.Seek(stalls[i].At)
}

// PrevStall moves to the latest stall reported before the cursor's moment:
// the `[` key. It reports false, and stays, when there is none.
func (c *Cursor) PrevStall() (Stall, bool, error) {
	stalls, err := c.Stalls()
	if err != nil {
		return Stall{}, false, err
	}
	i := sort.Search(len(stalls), func(i int) bool { return !stalls[i].At.Before(c.at) })
	if i == 0 {
		return Stall{}, false, nil
	}
	return stalls[i-1], true, c.Seek(stalls[i-1].At)
}

// Timeline returns the life of a session shown at the cursor's moment (live,
// or ended within the slow window): see [SessionTimeline].
func (c *Cursor) Timeline(id string) (Timeline, error) {
	for _, r := range c.View().Sessions {
		if r.SessionID == id {
			return SessionTimeline(c.set, r)
		}
	}
	return Timeline{}, fmt.Errorf("session %s is not in the view at %s", id, c.at.Format(time.RFC3339))
}

func (c *Cursor) clamp(t time.Time) time.Time {
	if t.Before(c.first) {
		return c.first
	}
	if t.After(c.last) {
		return c.last
	}
	return t
}

// load replaces the state with the state at t, folded from the nearest
// keyframe. The fold decodes in parallel (see decodeLines); the scanner
// for the moves that follow starts after t when one is first needed.
func (c *Cursor) load(t time.Time) error {
	c.stats.Loads++
	c.state, c.at, c.err = New(), t, nil
	c.samples = c.samples[:0]
	c.has, c.done = false, false
	until := t.Add(time.Nanosecond)
	pos, ok := c.set.KeyframeAtOrBefore(t.Add(-Lookback))
	if !ok {
		pos, ok = c.set.KeyframeAtOrBefore(t)
	}
	var sc *recorder.Scanner
	if ok {
		sc = c.set.ScanFrom(pos, until)
	} else {
		sc = c.set.ScanRange(time.Time{}, until)
	}
	err := decodeLines(sc, func(l *decodedLine) {
		c.stats.Records++
		c.applyDecoded(l)
	})
	c.sc, c.resume = nil, until
	if err != nil {
		c.err = fmt.Errorf("fold: read to %s: %w", t.Format(time.RFC3339), err)
	}
	return c.err
}

// foldTo applies every record at or before t.
func (c *Cursor) foldTo(t time.Time) error {
	for {
		line, rt, ok := c.read()
		if !ok {
			break
		}
		if rt.After(t) {
			c.unread(line, rt)
			break
		}
		c.apply(line, rt, KindOf(line))
	}
	if c.sc != nil {
		if err := c.sc.Err(); err != nil {
			c.err = fmt.Errorf("fold: read to %s: %w", t.Format(time.RFC3339), err)
			return c.err
		}
	}
	return nil
}

// read returns the next record: the one put back by unread, or the
// scanner's next.
func (c *Cursor) read() ([]byte, time.Time, bool) {
	if c.has {
		c.has = false
		return c.ahead, c.aheadT, true
	}
	if c.sc == nil && !c.done {
		c.sc = c.set.ScanRange(c.resume, time.Time{})
	}
	if c.done || !c.sc.Next() {
		c.done = true
		return nil, time.Time{}, false
	}
	c.stats.Records++
	r := c.sc.Record()
	return r.Line, r.Time, true
}

func (c *Cursor) scanErr() error {
	if c.sc == nil {
		return nil
	}
	return c.sc.Err()
}

// unread keeps a record for the next read; the scanner reuses its buffer.
func (c *Cursor) unread(line []byte, t time.Time) {
	c.ahead = append(c.ahead[:0], line...) // line may be ahead itself: append copies with memmove
	c.aheadT, c.has = t, true
}

// apply folds one line of the given kind (see [KindOf]).
func (c *Cursor) apply(line []byte, t time.Time, kind string) {
	c.applyDecoded(&decodedLine{line: line, time: t, kind: kind})
}

// applyDecoded folds one line, decoding it unless that was done; lines
// that are not events, and keyframes that agree with the state, are
// skipped.
func (c *Cursor) applyDecoded(l *decodedLine) {
	if l.kind == "" || (l.kind == events.KindKeyframe && c.state.Agrees(l.line)) {
		return
	}
	d, err, counts := l.d, l.err, l.counts
	if !l.decoded {
		counts = &c.state.scratch
		d, err = events.DecodeCounts(l.line, counts)
	}
	if err != nil {
		return // a bad line: the reader reports damage, the fold goes on
	}
	c.stats.Decoded++
	c.state.apply(d, counts)
	if l.kind == events.KindSample && d.Event != nil {
		if len(c.samples) == maxSampleTimes {
			c.samples = append(c.samples[:0], c.samples[maxSampleTimes/2:]...)
		}
		c.samples = append(c.samples, l.time)
	}
}

// CollectStalls reads every record of sc and returns the stalls in them, in
// time order, decoding only slow-session records. progress, when not nil,
// is called now and then with the time of the record reached.
func CollectStalls(sc *recorder.Scanner, progress func(time.Time)) ([]Stall, error) {
	var l StallList
	var n int
	for sc.Next() {
		r := sc.Record()
		if n++; progress != nil && n%progressEvery == 0 {
			progress(r.Time)
		}
		if KindOf(r.Line) != events.KindSlowSession {
			continue
		}
		d, err := events.Decode(r.Line)
		if err != nil {
			continue
		}
		if e, ok := d.Event.(events.SlowSession); ok {
			l.Add(d.Time, e)
		}
	}
	return l.Stalls(), sc.Err()
}

// progressEvery is how many records pass between progress calls.
const progressEvery = 4096

// NewCursorAt returns a cursor on set at the moment t, clamped to the
// recording.
func NewCursorAt(set *recorder.Set, t time.Time) (*Cursor, error) {
	first, last := set.Span()
	if first.IsZero() {
		return nil, ErrEmpty
	}
	c := &Cursor{set: set, first: first, last: last}
	if err := c.load(c.clamp(t)); err != nil {
		return nil, err
	}
	return c, nil
}

// EndedRows returns the final row of every session that ended at or before
// to, as far back as the keyframe the fold of from resumes at (see
// [Lookback]), by session id. A session's row goes on changing for a
// while after its end: the CPU window it ended in, which arrives seconds
// later, is still credited to it (see [State]), so a view at the moment a
// session ended shows its CPU figures short of its last window. These are
// the figures the session's row ends with, those of `sessions`.
func EndedRows(set *recorder.Set, from, to time.Time) (map[string]Row, error) {
	r := NewReport()
	var sc *recorder.Scanner
	if pos, ok := set.KeyframeAtOrBefore(from.Add(-Lookback)); ok {
		sc = set.ScanFrom(pos, time.Time{})
	} else {
		sc = set.ScanRange(time.Time{}, time.Time{})
	}
	for sc.Next() {
		rec := sc.Record()
		// Past the slow window after to, no CPU window is credited to a
		// session that ended by to any more.
		if rec.Time.After(to.Add(r.state.slowWindow())) {
			break
		}
		_ = r.Line(rec.Line) // bad lines are counted; the reader reports damage
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	out := map[string]Row{}
	for _, row := range r.Rows() {
		if !row.End.IsZero() && !row.End.After(to) {
			out[row.SessionID] = row
		}
	}
	return out, nil
}
