package recorder

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/openrtc-go/introspect/events"
)

// outFile is what the writer needs of an *os.File; tests wrap it to stall
// or fail writes.
type outFile interface {
	io.Writer
	Sync() error
	Close() error
	Truncate(size int64) error
	Seek(offset int64, whence int) (int64, error)
}

// newFileWriter opens the single file of a Create recording.
func newFileWriter(path string, set *settings) (*writer, error) {
	w, err := newWriter(set)
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err == nil {
		err = w.startFile(path, f, w.now())
	} else {
		err = fmt.Errorf("recorder: %w", err)
	}
	if err != nil {
		_ = w.enc.Close()
		return nil, err
	}
	return w, nil
}

// startFile makes f the current file and writes its header.
func (w *writer) startFile(path string, f *os.File, start time.Time) error {
	var out outFile = f
	if w.set.wrap != nil {
		out = w.set.wrap(out)
	}
	b := appendSkippable(nil, magicFileHeader, appendFileHeader(nil, fileHeader{
		schema: events.SchemaVersion, created: start,
		worker: WorkerID{Name: w.set.Worker, Host: w.set.Host, PID: w.set.PID},
	}))
	if _, err := out.Write(b); err != nil {
		_ = out.Close()
		_ = os.Remove(path)
		return fmt.Errorf("recorder: write header of %s: %w", path, err)
	}
	w.path, w.f, w.off, w.fileStart = path, out, int64(len(b)), start
	w.footer, w.nframes, w.sizeDue = w.footer[:0], 0, false
	w.dirty, w.lastSync = true, start
	w.needKF = true
	if w.c != nil { // the first file is counted by start
		w.c.path.Store(&path)
		w.c.files.Add(1)
		w.c.bytes.Add(w.off)
	}
	return nil
}

// ensureFile opens the next file of a CreateDir recording if the last
// attempt failed.
func (w *writer) ensureFile() error {
	if w.f != nil {
		return nil
	}
	return w.openNext()
}

// writeFrame writes the open frame with one write(2): its index frame, then
// its data frame, compressed into w.out.
func (w *writer) writeFrame() error {
	w.out = w.enc.EncodeAll(w.raw, w.out[:indexFrameLen])
	e := FrameEntry{
		Flags:   w.fr.flags,
		CompLen: uint32(len(w.out) - indexFrameLen),
		RawLen:  uint32(len(w.raw)),
		Records: uint32(w.fr.records),
		MinTime: nanoTime(w.fr.minT),
		MaxTime: nanoTime(w.fr.maxT),
	}
	var payload [frameEntryLen]byte
	var index [indexFrameLen]byte
	copy(w.out, appendSkippable(index[:0], magicFrameIndex, appendFrameEntry(payload[:0], e)))
	n, err := w.f.Write(w.out)
	if err != nil {
		w.undoPartial(n)
		return fmt.Errorf("%s at offset %d: %w", w.path, w.off, err)
	}
	e.Offset, e.DataOffset = w.off, w.off+indexFrameLen
	w.footer = appendFooterEntry(w.footer, e)
	w.nframes++
	w.off += int64(n)
	if w.set.MaxFileBytes > 0 && w.off >= w.set.MaxFileBytes {
		w.sizeDue = true
	}
	c := w.c
	c.frames.Add(1)
	c.records.Add(int64(w.fr.records))
	if w.blk.keyframe {
		c.keyframes.Add(1)
	}
	c.bytes.Add(int64(n))
	w.dirty = true
	w.syncPolicy()
	return nil
}

// undoPartial cuts a partly written frame off the file, so that the next
// frame follows the last whole one. If that fails the torn bytes stay, and
// the offsets count them: a reader sees damage there, not misplaced frames.
func (w *writer) undoPartial(n int) {
	if n <= 0 {
		return
	}
	if w.f.Truncate(w.off) == nil {
		if _, err := w.f.Seek(w.off, io.SeekStart); err == nil {
			return
		}
	}
	w.off += int64(n)
}

// syncPolicy applies Options.Sync after a frame is written.
func (w *writer) syncPolicy() {
	switch w.set.Sync {
	case SyncFrame:
		w.syncNow()
	case SyncInterval:
		now := w.now()
		if since := now.Sub(w.lastSync); since >= w.set.SyncInterval {
			w.syncNow()
		} else if w.syncTimer != nil && !w.syncArmed {
			w.syncTimer.Reset(w.set.SyncInterval - since)
			w.syncArmed = true
		}
	}
}

// syncNow fsyncs the current file if it has unsynced writes.
func (w *writer) syncNow() {
	if !w.dirty || w.f == nil {
		return
	}
	w.dirty = false
	w.lastSync = w.now()
	if err := w.f.Sync(); err != nil && w.syncErr == nil {
		w.syncErr = fmt.Errorf("recorder: sync %s: %w", w.path, err)
	}
}

func (w *writer) takeSyncErr() error {
	err := w.syncErr
	w.syncErr = nil
	return err
}

// closeFile writes the footer of the current file, fsyncs and closes it.
func (w *writer) closeFile() error {
	if w.f == nil {
		return nil
	}
	var err error
	if w.nframes > 0 {
		b := appendFooterFrame(w.out[:0], w.footer, w.nframes)
		w.out = b // keep the grown buffer; writeFrame reslices it
		var n int
		n, err = w.f.Write(b)
		if err != nil {
			w.undoPartial(n)
			err = fmt.Errorf("recorder: write footer of %s: %w", w.path, err)
		} else {
			w.off += int64(n)
			w.c.bytes.Add(int64(n))
		}
	}
	w.dirty = true
	w.syncNow()
	err = errors.Join(err, w.takeSyncErr())
	if cerr := w.f.Close(); cerr != nil {
		err = errors.Join(err, fmt.Errorf("recorder: close %s: %w", w.path, cerr))
	}
	w.f = nil
	if w.dir != "" && w.set.FileClosed != nil {
		w.set.FileClosed(w.path)
	}
	return err
}

// nanoTime is the inverse of unixNano.
func nanoTime(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}
