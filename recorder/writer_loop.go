package recorder

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/openrtc-go/introspect/events"
)

// writer is the state of the writer goroutine: the open file, the open
// frame, and the keyframe and drop bookkeeping. Only run and what it calls
// touch it.
type writer struct {
	c   *core
	set *settings

	// The file (writer_file.go). f is nil between a failed open and the
	// next successful one (CreateDir only).
	dir       string // "" for a single-file recording
	path      string
	f         outFile
	off       int64     // bytes written to f
	fileStart time.Time // the time in the file's name (CreateDir) or its creation
	footer    []byte    // footer entries of the frames written to f
	nframes   int
	sizeDue   bool // f reached MaxFileBytes
	dirty     bool // written since the last fsync
	lastSync  time.Time
	syncErr   error                // first fsync or close error not yet returned
	lastTimes map[string]time.Time // last record time of closed files (retention)

	// The open frame, and the lines not yet written (the pending block;
	// with IndependentFrames, the whole frame).
	enc      *zstd.Encoder
	raw      []byte // pending lines
	out      []byte // index frame + compressed data frame, reused (IndependentFrames)
	sink     sink   // the stream encoder's output for one write(2)
	fr       openFrame
	blk      pendingBlock
	sf       streamFrame
	openedAt time.Time // wall time the pending lines began

	// Keyframes and drop reports.
	needKF      bool  // the next frame starts with a keyframe
	lastKF      int64 // time of the last keyframe, Unix ns
	writeDrops  int64 // records lost to write errors, not yet reported
	writeReason string
	// reportedFailing: since the last frame written, a count of the
	// frames that failed was written (reportNow); more wait for Close.
	reportedFailing bool
	line            bytes.Buffer // the writer's own records, encoded
	jh              slog.Handler // JSON handler over line
	dropLine        []byte       // a drop report, out of line's way

	// latest is the recorder's time in Clock mode (Unix ns): the Clock at
	// creation, then the latest record time.
	latest int64

	frameTimer *time.Timer // nil in Clock mode
	syncTimer  *time.Timer // nil in Clock mode
	syncArmed  bool
}

// openFrame is the bookkeeping of the frame being filled, for its index
// entry.
type openFrame struct {
	flags   uint8
	records int
	start   int64 // time of its first record
	minT    int64
	maxT    int64
}

// pendingBlock is the bookkeeping of the lines not yet written: what is lost
// if their write fails.
type pendingBlock struct {
	start    int64 // time of the first pending record
	records  int
	keyframe bool  // a keyframe is among them
	appRecs  int64 // records that came from Handle
	reported int64 // drops reported by recorder.drop records among them
}

func newWriter(set *settings) (*writer, error) {
	// Independent frames: history beyond a frame is never used, so a
	// window just covering FrameBytes (at least 512 KiB, for the single
	// records bigger than a frame, such as keyframes) keeps the encoder at
	// about 2 MiB instead of 18 MiB (SpeedDefault's 8 MiB window), at the
	// same ratio, and tells decoders they need no more. Streamed frames:
	// what repeats in this data (session IDs, field names, the previous
	// second's figures) is seconds old, so a longer window than 512 KiB
	// gains nothing measurable (fixtures/synth: 0.486 vs 0.488 B per
	// session-sample with 8 MiB).
	window := 512 << 10
	for set.IndependentFrames && window < set.FrameBytes {
		window <<= 1
	}
	w := &writer{set: set, needKF: true}
	var sinkW io.Writer
	if !set.IndependentFrames {
		sinkW = &w.sink
	}
	enc, err := zstd.NewWriter(sinkW,
		zstd.WithEncoderLevel(set.EncoderLevel),
		zstd.WithEncoderConcurrency(1),
		zstd.WithWindowSize(window),
		zstd.WithLowerEncoderMem(true),
		zstd.WithEncoderCRC(true))
	if err != nil {
		return nil, fmt.Errorf("recorder: zstd encoder: %w", err)
	}
	w.enc = enc
	w.jh = slog.NewJSONHandler(&w.line, nil)
	if set.IndependentFrames {
		w.out = make([]byte, indexFrameLen, indexFrameLen+set.FrameBytes/4)
		w.raw = make([]byte, 0, set.FrameBytes+set.FrameBytes/8)
	} else {
		w.raw = make([]byte, 0, 64<<10)
	}
	if set.Clock != nil {
		w.latest = unixNano(set.Clock())
	} else {
		w.frameTimer = time.NewTimer(time.Hour)
		w.frameTimer.Stop()
		w.syncTimer = time.NewTimer(time.Hour)
		w.syncTimer.Stop()
	}
	return w, nil
}

// run is the writer goroutine.
func (w *writer) run() {
	c := w.c
	defer close(c.done)
	var frameC, syncC <-chan time.Time
	if w.frameTimer != nil {
		frameC, syncC = w.frameTimer.C, w.syncTimer.C
	}
	for {
		w.drain()
		select {
		case <-c.q.wake:
		case <-frameC:
			w.drain()
			w.tick()
		case <-syncC:
			w.syncArmed = false
			w.syncNow()
		case reply := <-c.flushReq:
			w.drain()
			err := w.flushBlock()
			reply <- errors.Join(err, w.takeSyncErr())
		case <-c.closing:
			w.drain()
			c.closeErr = w.finish()
			return
		}
	}
}

// drain writes what the queue holds, then reports drops.
func (w *writer) drain() {
	q := w.c.q
	if w.writeDrops > 0 {
		w.reportDrops(w.writeDrops, w.writeReason)
	}
	b := q.take()
	for i := range b.len() {
		w.record(b.line(i), b.times[i], true, 0)
	}
	q.release()
	if n := q.dropped.Swap(0); n > 0 {
		w.reportDrops(n, "queue full")
	}
}

// reportDrops writes a recorder.drop record into the open frame.
func (w *writer) reportDrops(n int64, reason string) {
	w.writeDrops, w.writeReason = 0, ""
	t := w.now()
	// Copied out of the encoder's buffer: record may encode a keyframe
	// into it before appending this line.
	w.dropLine = append(w.dropLine[:0], w.encode(events.Record(t, events.RecorderDrop{Dropped: n, Reason: reason}))...)
	w.record(w.dropLine, unixNano(t), false, n)
}

// now is the recorder's time: the wall clock, or in Clock mode the latest
// record time.
func (w *writer) now() time.Time {
	if w.set.Clock == nil {
		return time.Now()
	}
	return nanoTime(w.latest)
}

// encode formats r with the writer's own JSON handler. The result is valid
// until the next call.
func (w *writer) encode(r slog.Record) []byte {
	w.line.Reset()
	_ = w.jh.Handle(context.Background(), r)
	return w.line.Bytes()
}

// record adds one line (ending in '\n') with time tn to the open frame,
// closing frames, writing keyframes and rotating files as due. app says the
// line came from Handle; reported is the count a recorder.drop line reports.
func (w *writer) record(line []byte, tn int64, app bool, reported int64) {
	t := tn
	if t == 0 { // a record without a time: decide by the clock
		t = unixNano(w.now())
	} else if t > w.latest {
		w.latest = t
	}
	if w.rotateDue(t) {
		w.rotate()
	}
	kf := w.set.Keyframer
	interval := int64(w.set.KeyframeInterval)
	flush := int64(w.set.FlushInterval)
	inFrame := w.frameRaw() > 0
	switch {
	case kf != nil && (w.needKF || t >= w.lastKF+interval || t < w.lastKF-interval):
		// A record far before the last keyframe means the clock stepped
		// back: start afresh rather than wait for it to catch up.
		_ = w.closeFrame()
		w.writeKeyframe(t)
	case inFrame && w.frameRaw()+len(line) > w.set.FrameBytes:
		_ = w.closeFrame()
	case inFrame && kf == nil && !w.set.IndependentFrames && (t >= w.fr.start+interval || t < w.fr.start-interval):
		// Without keyframes a streamed frame still ends every
		// KeyframeInterval, so that a reader can skip by time.
		_ = w.closeFrame()
	case len(w.raw) > 0 && (t >= w.blk.start+flush || t < w.blk.start-flush ||
		!w.set.IndependentFrames && len(w.raw)+len(line) > maxPendingBytes):
		_ = w.flushBlock()
	}
	w.appendLine(line, tn)
	if app {
		w.blk.appRecs++
	}
	w.blk.reported += reported
	if kf != nil {
		kf.Observe(line[:len(line)-1])
	}
	if w.frameRaw() >= w.set.FrameBytes {
		_ = w.closeFrame()
	}
}

// frameRaw is the uncompressed size of the open frame: what was written of
// it and what is pending.
func (w *writer) frameRaw() int { return int(w.sf.raw) + len(w.raw) }

// writeKeyframe starts a frame with a keyframe as of t.
func (w *writer) writeKeyframe(t int64) {
	tt := time.Unix(0, t).UTC()
	line := w.encode(events.Record(tt, w.set.Keyframer.Keyframe(tt)))
	w.appendLine(line, t)
	w.fr.flags |= FlagKeyframe
	w.blk.keyframe = true
	w.needKF = false
	w.lastKF = t
}

// appendLine appends a line to the open frame.
func (w *writer) appendLine(line []byte, tn int64) {
	start := tn
	if start == 0 {
		start = unixNano(w.now())
	}
	if w.frameRaw() == 0 {
		w.fr = openFrame{start: start, minT: tn, maxT: tn}
	}
	if len(w.raw) == 0 {
		w.blk.start = start
		if w.frameTimer != nil {
			w.openedAt = time.Now()
			w.frameTimer.Reset(w.set.FlushInterval)
		}
	}
	w.raw = append(w.raw, line...)
	w.blk.records++
	w.fr.records++
	if tn != 0 {
		if w.fr.minT == 0 || tn < w.fr.minT {
			w.fr.minT = tn
		}
		if tn > w.fr.maxT {
			w.fr.maxT = tn
		}
	}
}

// tick writes the pending lines once they are FlushInterval old by the
// wall clock.
func (w *writer) tick() {
	if len(w.raw) == 0 {
		return
	}
	if age := time.Since(w.openedAt); age < w.set.FlushInterval {
		w.frameTimer.Reset(w.set.FlushInterval - age)
		return
	}
	_ = w.flushBlock()
}

// closeFrame writes the pending lines and ends the open frame, if any.
func (w *writer) closeFrame() error { return w.writePending(true) }

// flushBlock writes the pending lines as a block of the open frame (with
// IndependentFrames, as a frame of their own).
func (w *writer) flushBlock() error { return w.writePending(w.set.IndependentFrames) }

// writePending compresses and writes the pending lines, ending the frame
// when end is set. Lines that cannot be written are lost: their records
// are counted as dropped and reported once writing works again, the frame
// they were part of is abandoned, and the next frame starts with a keyframe.
func (w *writer) writePending(end bool) error {
	if len(w.raw) == 0 && !(end && w.sf.open) {
		return nil
	}
	err := w.ensureFile()
	if err == nil {
		if w.set.IndependentFrames {
			err = w.writeFrame()
		} else {
			err = w.writeStream(end)
		}
	}
	if err != nil {
		w.writeDrops += w.blk.appRecs + w.blk.reported
		w.writeReason = "write error: " + strings.TrimPrefix(err.Error(), "recorder: ")
		w.c.writeLost.Add(w.blk.appRecs)
		w.needKF = true
		w.sf = streamFrame{}
		end = true
		err = fmt.Errorf("recorder: write error: %w", err)
	}
	w.raw = w.raw[:0]
	w.blk = pendingBlock{}
	if end || w.set.IndependentFrames {
		w.fr = openFrame{}
	}
	switch {
	case err == nil:
		w.reportedFailing = false
	case !w.reportedFailing:
		// Once per stretch of failures: a disk that is full stays so,
		// and the room left is kept for the count at Close.
		w.reportedFailing = w.reportNow("") == nil
	}
	return err
}

// reportNow writes the count of records lost to write errors at once, in a
// frame of its own without a keyframe: a few hundred bytes, which may fit
// where the lost frame did not (the rest of the file's last block on a full
// disk), so that the count is in the file even if nothing more can be
// written. prefix starts its reason (events.DropFinalPrefix on Close). The
// open frame must be empty.
func (w *writer) reportNow(prefix string) error {
	n := w.writeDrops
	t := w.now()
	w.dropLine = append(w.dropLine[:0], w.encode(events.Record(t, events.RecorderDrop{
		Dropped: n, Reason: prefix + w.writeReason}))...)
	w.appendLine(w.dropLine, unixNano(t))
	err := w.ensureFile()
	if err == nil {
		if w.set.IndependentFrames {
			err = w.writeFrame()
		} else {
			err = w.writeStream(true)
		}
	}
	if err == nil {
		w.writeDrops, w.writeReason = 0, ""
		if kf := w.set.Keyframer; kf != nil {
			kf.Observe(w.dropLine[:len(w.dropLine)-1])
		}
	}
	w.raw = w.raw[:0]
	w.fr, w.blk, w.sf = openFrame{}, pendingBlock{}, streamFrame{}
	return err
}

// finish ends the recording on Close.
func (w *writer) finish() error {
	err := w.closeFrame()
	if w.writeDrops > 0 {
		// One last try to say what was lost: a reader then sees the
		// recording end on purpose, not in a crash.
		err = errors.Join(err, w.reportNow(events.DropFinalPrefix))
	}
	err = errors.Join(err, w.closeFile())
	err = errors.Join(err, w.takeSyncErr())
	if w.frameTimer != nil {
		w.frameTimer.Stop()
		w.syncTimer.Stop()
	}
	return errors.Join(err, w.enc.Close())
}
