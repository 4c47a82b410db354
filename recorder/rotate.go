package recorder

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// nameLayout is the UTC start time in a recording's file name. Fixed width,
// so that lexical order is time order.
const nameLayout = "20060102T150405.000Z"

// RecordingName returns the name CreateDir gives a file of worker's
// recording that starts at t: "<worker>-20261127T031200.123Z.zst".
func RecordingName(worker string, t time.Time) string {
	return worker + "-" + t.UTC().Format(nameLayout) + ".zst"
}

// ParseRecordingName reports whether name is the name of a file of worker's
// recording, as RecordingName makes it, and the start time it carries.
func ParseRecordingName(worker, name string) (start time.Time, ok bool) {
	s, ok := strings.CutPrefix(name, worker+"-")
	if !ok {
		return time.Time{}, false
	}
	s, ok = strings.CutSuffix(s, ".zst")
	if !ok || len(s) != len(nameLayout) {
		return time.Time{}, false
	}
	t, err := time.Parse(nameLayout, s)
	if err != nil || t.Format(nameLayout) != s {
		return time.Time{}, false
	}
	return t, true
}

// newDirWriter opens the first file of a CreateDir recording.
func newDirWriter(dir string, set *settings) (*writer, error) {
	w, err := newWriter(set)
	if err != nil {
		return nil, err
	}
	w.dir = dir
	if err := w.openNext(); err != nil {
		_ = w.enc.Close()
		return nil, err
	}
	return w, nil
}

// openNext creates the next file, named by the clock, then applies the
// retention caps.
func (w *writer) openNext() error {
	start := w.now().UTC().Truncate(time.Millisecond)
	if !w.fileStart.IsZero() && !start.After(w.fileStart) {
		// Same millisecond, or the clock stepped back: keep names in order.
		start = w.fileStart.Add(time.Millisecond)
	}
	for range 1000 {
		path := filepath.Join(w.dir, RecordingName(w.set.Worker, start))
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, fs.ErrExist) {
			start = start.Add(time.Millisecond)
			continue
		}
		if err != nil {
			return fmt.Errorf("recorder: %w", err)
		}
		if err := w.startFile(path, f, start); err != nil {
			return err
		}
		w.retain()
		return nil
	}
	return fmt.Errorf("recorder: no free file name for %s in %s", w.set.Worker, w.dir)
}

// rotateDue reports whether the record at t must go to a new file.
func (w *writer) rotateDue(t int64) bool {
	if w.dir == "" || w.f == nil {
		return false
	}
	return w.sizeDue ||
		w.set.MaxFileAge > 0 && t >= w.fileStart.UnixNano()+int64(w.set.MaxFileAge)
}

// rotate finishes the current file and starts the next. Errors are not
// lost: a failed footer or fsync surfaces at the next Flush or Close, and a
// failed open is retried by the next frame, whose records count as dropped
// if it fails again.
func (w *writer) rotate() {
	_ = w.closeFrame()
	if err := w.closeFile(); err != nil && w.syncErr == nil {
		w.syncErr = err
	}
	_ = w.openNext()
}

// retain deletes the oldest files of this worker's recording while the
// directory holds more than RetainBytes of them, or while the oldest one's
// last record is older than RetainAge. The current file is never deleted.
// It runs at start and at each rotation, so the caps are soft: the
// directory may exceed RetainBytes by up to the file being written, and a
// file may outlive RetainAge until the next rotation. Failures are ignored:
// retention is retried at the next rotation, and recording matters more.
func (w *writer) retain() {
	if w.set.RetainBytes < 0 && w.set.RetainAge < 0 {
		return
	}
	ents, err := os.ReadDir(w.dir) // sorted by name, so oldest first
	if err != nil {
		return
	}
	type file struct {
		name    string
		start   time.Time
		size    int64
		modTime time.Time
	}
	var files []file
	var total int64
	for _, e := range ents {
		start, ok := ParseRecordingName(w.set.Worker, e.Name())
		if !ok || !e.Type().IsRegular() {
			continue
		}
		if w.set.Keep != nil && e.Name() != filepath.Base(w.path) && w.set.Keep(filepath.Join(w.dir, e.Name())) {
			continue // not ours to delete yet, nor to count: see Options.Keep
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		files = append(files, file{e.Name(), start, info.Size(), info.ModTime()})
		total += info.Size()
	}
	now := w.now()
	current := filepath.Base(w.path)
	for i, f := range files {
		if f.name == current {
			break
		}
		// A file ended with its last record (read from its footer, or
		// by walking it). Only when that cannot be read is it guessed: at
		// the latest where the next file begins and, by the wall clock,
		// when it was last written.
		end, ok := w.lastRecord(f.name)
		if !ok {
			end = now
			if i+1 < len(files) {
				end = files[i+1].start
			}
			if w.set.Clock == nil && f.modTime.Before(end) {
				end = f.modTime
			}
		}
		overBytes := w.set.RetainBytes > 0 && total > w.set.RetainBytes
		tooOld := w.set.RetainAge > 0 && now.Sub(end) > w.set.RetainAge
		if !overBytes && !tooOld {
			break
		}
		if os.Remove(filepath.Join(w.dir, f.name)) == nil {
			total -= f.size
		}
	}
}

// lastRecord returns the time of the last record of a closed file of dir,
// from its footer or by walking it, remembering it: a closed file does not
// change. It reports false for a file that holds no readable record.
func (w *writer) lastRecord(name string) (time.Time, bool) {
	if t, ok := w.lastTimes[name]; ok {
		return t, !t.IsZero()
	}
	var last time.Time
	if fh, err := os.Open(filepath.Join(w.dir, name)); err == nil {
		if st, err := fh.Stat(); err == nil {
			f := &recFile{path: name, r: fh, size: st.Size()}
			if f.index() == nil {
				var dec decoderPool
				f.learnEnds(&dec)
				dec.close()
				last = f.info().Last
			}
		}
		fh.Close()
	}
	if w.lastTimes == nil {
		w.lastTimes = map[string]time.Time{}
	}
	w.lastTimes[name] = last
	return last, !last.IsZero()
}
