package recorder

import (
	"bytes"
	"io"

	"github.com/openrtc-go/introspect/events"
	"github.com/tidwall/gjson"
)

// indexLines indexes a plain slog JSON log in one pass: it cuts the log into
// chunks of about chunkTarget bytes at line boundaries, each with its time
// range and record count, so that a time-range scan skips most of it like the
// frames of a recording. A keyframe record starts a new chunk flagged
// FlagKeyframe, so KeyframeAtOrBefore works on a log too. Bad lines are
// reported here, once.
func (f *recFile) indexLines() error {
	f.format, f.source = FormatJSONL, IndexRebuilt
	lr := newLineReader(io.NewSectionReader(f.r, 0, f.size), maxLine, nil)
	var cur *recFrame
	closeChunk := func(end int64) {
		if cur != nil {
			cur.dataLen = end - cur.DataOffset
			cur.CompLen = uint32(cur.dataLen)
			cur.RawLen = cur.CompLen
			cur.mark = cur.dataLen // bad lines are reported now, not by scans
			f.frames = append(f.frames, *cur)
			cur = nil
		}
	}
	for {
		line, off, n, tooLong, ok := lr.next()
		if !ok {
			break
		}
		if tooLong {
			// Keep the long line out of every chunk, so a scan never
			// reads it into memory.
			closeChunk(off)
			f.addDamage(Damage{Kind: BadLine, Offset: off, Line: -1, Bytes: n, Err: errLineTooLong})
			continue
		}
		t, err := recordTime(line)
		if err != nil && err != errEmptyLine {
			f.addDamage(Damage{Kind: BadLine, Offset: off, Line: -1, Bytes: n, Err: err})
		}
		keyframe := err == nil && isKeyframe(line)
		if cur != nil && (keyframe || off-cur.DataOffset >= chunkTarget) {
			closeChunk(off)
		}
		if cur == nil {
			cur = &recFrame{FrameEntry: FrameEntry{Offset: off, DataOffset: off}, plain: true, known: true}
			if keyframe {
				cur.Flags |= FlagKeyframe
			}
		}
		if err != nil {
			continue
		}
		cur.Records++
		if cur.MinTime.IsZero() || t.Before(cur.MinTime) {
			cur.MinTime = t
		}
		if t.After(cur.MaxTime) {
			cur.MaxTime = t
		}
	}
	closeChunk(lr.off)
	if lr.err != nil {
		return lr.err
	}
	return nil
}

// isKeyframe reports whether a record is a keyframe event. The reader knows
// no more of events than this: keyframes are where a fold may start.
func isKeyframe(line []byte) bool {
	if !bytes.Contains(line, []byte(events.KindKeyframe)) {
		return false
	}
	return gjson.GetBytes(line, "msg").Str == events.KindKeyframe
}
