package recorder

import "fmt"

// The streamed layout (format version 2): one zstd frame per keyframe
// interval, written a block at a time. Every flush ends a zstd block
// (Encoder.Flush) without ending the frame, and writes it with one write(2),
// so a kill loses at most the lines not yet flushed while compression sees
// the frame's whole history. The frame's index frame can only be written
// once its lengths are known: it follows the frame, in the same write(2) as
// the last block.

// maxPendingBytes bounds the lines a streamed frame holds back until the
// next flush: a burst is written in blocks of about this size (zstd's
// largest block is 128 KiB), so the writer's memory does not follow the
// frame's size.
const maxPendingBytes = 128 << 10

// streamFrame is where the open streamed frame is in the file.
type streamFrame struct {
	open bool  // the encoder holds a frame begun in the file
	off  int64 // file offset of its data frame
	comp int64 // its compressed bytes written so far
	raw  int64 // its uncompressed bytes written so far
}

// sink collects what the stream encoder produces for one write(2).
type sink struct{ b []byte }

func (s *sink) Write(p []byte) (int, error) {
	s.b = append(s.b, p...)
	return len(p), nil
}

// writeStream compresses the pending lines into a block of the open frame
// (beginning one if none is open) and writes it; with end, it also ends the
// frame (last block and checksum) and writes its index frame after it.
func (w *writer) writeStream(end bool) error {
	w.sink.b = w.sink.b[:0]
	begin := !w.sf.open
	if begin {
		w.enc.Reset(&w.sink)
		w.sf = streamFrame{open: true, off: w.off}
	}
	// The sink never fails, so neither does the encoder.
	if len(w.raw) > 0 {
		_, _ = w.enc.Write(w.raw)
	}
	if end {
		_ = w.enc.Close()
	} else {
		_ = w.enc.Flush()
	}
	data := int64(len(w.sink.b))
	var e FrameEntry
	if end {
		e = FrameEntry{
			trailing: true,
			Flags:    w.fr.flags,
			CompLen:  uint32(w.sf.comp + data),
			RawLen:   uint32(w.sf.raw + int64(len(w.raw))),
			Records:  uint32(w.fr.records),
			MinTime:  nanoTime(w.fr.minT),
			MaxTime:  nanoTime(w.fr.maxT),
		}
		var payload [frameEntryLen]byte
		w.sink.b = appendSkippable(w.sink.b, magicFrameIndex, appendFrameEntry(payload[:0], e))
	}
	n, err := w.f.Write(w.sink.b)
	if err != nil {
		w.undoPartial(n)
		return fmt.Errorf("%s at offset %d: %w", w.path, w.off, err)
	}
	w.off += int64(n)
	w.sf.comp += data
	w.sf.raw += int64(len(w.raw))
	c := w.c
	if begin {
		c.frames.Add(1)
	}
	c.records.Add(int64(w.blk.records))
	if w.blk.keyframe {
		c.keyframes.Add(1)
	}
	c.bytes.Add(int64(n))
	if end {
		e.Offset, e.DataOffset = w.sf.off, w.sf.off
		w.footer = appendFooterEntry(w.footer, e)
		w.nframes++
		w.sf = streamFrame{}
	}
	if w.set.MaxFileBytes > 0 && w.off >= w.set.MaxFileBytes {
		w.sizeDue = true
	}
	w.dirty = true
	w.syncPolicy()
	return nil
}
