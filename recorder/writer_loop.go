package recorder

import (
	"bytes"
	"context"
	"errors"
	"fmt"
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

	// The open frame.
	enc      *zstd.Encoder
	raw      []byte // its lines
	out      []byte // index frame + compressed data frame, reused
	fr       openFrame
	openedAt time.Time // wall time the open frame got its first line

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

// openFrame is the bookkeeping of the frame being filled.
type openFrame struct {
	flags    uint8
	records  int
	appRecs  int64 // records that came from Handle
	reported int64 // drops reported by recorder.drop records in this frame
	start    int64 // time of its first record
	minT     int64
	maxT     int64
}

func newWriter(set *settings) (*writer, error) {
	// Frames are independent, so history beyond a frame is never used: a
	// window just covering FrameBytes (at least 512 KiB, for the single
	// records bigger than a frame, such as keyframes) keeps the encoder at
	// about 2 MiB instead of 18 MiB (SpeedDefault's 8 MiB window), at the
	// same ratio, and tells decoders they need no more.
	window := 512 << 10
	for window < set.FrameBytes {
		window <<= 1
	}
	enc, err := zstd.NewWriter(nil,
		zstd.WithEncoderLevel(set.EncoderLevel),
		zstd.WithEncoderConcurrency(1),
		zstd.WithWindowSize(window),
		zstd.WithLowerEncoderMem(true),
		zstd.WithEncoderCRC(true))
	if err != nil {
		return nil, fmt.Errorf("recorder: zstd encoder: %w", err)
	}
	w := &writer{set: set, enc: enc, needKF: true}
	w.jh = slog.NewJSONHandler(&w.line, nil)
	w.out = make([]byte, indexFrameLen, indexFrameLen+set.FrameBytes/4)
	w.raw = make([]byte, 0, set.FrameBytes+set.FrameBytes/8)
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
			err := w.closeFrame()
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
	switch {
	case kf != nil && (w.needKF || t >= w.lastKF+interval || t < w.lastKF-interval):
		// A record far before the last keyframe means the clock stepped
		// back: start afresh rather than wait for it to catch up.
		_ = w.closeFrame()
		w.writeKeyframe(t)
	case len(w.raw) > 0 && (t >= w.fr.start+flush || t < w.fr.start-flush ||
		len(w.raw)+len(line) > w.set.FrameBytes):
		_ = w.closeFrame()
	}
	w.appendLine(line, tn)
	if app {
		w.fr.appRecs++
	}
	w.fr.reported += reported
	if kf != nil {
		kf.Observe(line[:len(line)-1])
	}
	if len(w.raw) >= w.set.FrameBytes {
		_ = w.closeFrame()
	}
}

// writeKeyframe starts a frame with a keyframe as of t.
func (w *writer) writeKeyframe(t int64) {
	tt := time.Unix(0, t).UTC()
	line := w.encode(events.Record(tt, w.set.Keyframer.Keyframe(tt)))
	w.appendLine(line, t)
	w.fr.flags |= FlagKeyframe
	w.needKF = false
	w.lastKF = t
}

// appendLine appends a line to the open frame.
func (w *writer) appendLine(line []byte, tn int64) {
	if len(w.raw) == 0 {
		w.fr = openFrame{start: tn, minT: tn, maxT: tn}
		if w.fr.start == 0 {
			w.fr.start = unixNano(w.now())
		}
		if w.frameTimer != nil {
			w.openedAt = time.Now()
			w.frameTimer.Reset(w.set.FlushInterval)
		}
	}
	w.raw = append(w.raw, line...)
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

// tick closes the open frame once it is FlushInterval old by the wall clock.
func (w *writer) tick() {
	if len(w.raw) == 0 {
		return
	}
	if age := time.Since(w.openedAt); age < w.set.FlushInterval {
		w.frameTimer.Reset(w.set.FlushInterval - age)
		return
	}
	_ = w.closeFrame()
}

// closeFrame compresses and writes the open frame, if any. A frame that
// cannot be written is lost: its records are counted as dropped, reported
// once writing works again, and the next frame starts with a keyframe.
func (w *writer) closeFrame() error {
	if len(w.raw) == 0 {
		return nil
	}
	err := w.ensureFile()
	if err == nil {
		err = w.writeFrame()
	}
	if err != nil {
		w.writeDrops += w.fr.appRecs + w.fr.reported
		w.writeReason = "write error: " + strings.TrimPrefix(err.Error(), "recorder: ")
		w.c.writeLost.Add(w.fr.appRecs)
		w.needKF = true
		err = fmt.Errorf("recorder: write error: %w", err)
	}
	w.raw = w.raw[:0]
	w.fr = openFrame{}
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
		err = w.writeFrame()
	}
	if err == nil {
		w.writeDrops, w.writeReason = 0, ""
		if kf := w.set.Keyframer; kf != nil {
			kf.Observe(w.dropLine[:len(w.dropLine)-1])
		}
	}
	w.raw = w.raw[:0]
	w.fr = openFrame{}
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
