package recorder

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// stdin is what the path "-" reads; tests replace it.
var stdin io.Reader = os.Stdin

// Open opens recordings and logs for reading as one time-ordered stream.
// Each path is one of:
//
//   - a recording written by this package, indexed from its footer or, when
//     it has none (a crash, or a file still being written), by walking its
//     frames;
//   - zstd-compressed JSON lines without index frames (`zstd app.jsonl`);
//   - a plain slog JSON log, one record per line;
//   - a directory, meaning every *.zst and *.jsonl file in it (rotated
//     recordings), empty files skipped;
//   - "-", standard input, spooled to a temporary file so it can be indexed.
//
// The kind of a file is told from its content, not its name. Files are
// ordered by their first record time; where inputs overlap in time their
// records are merged by time.
//
// A missing file is an *[os.PathError] wrapping [fs.ErrNotExist]; a file that
// is neither a recording nor a log is an *os.PathError wrapping
// [ErrNotRecording]. Damage inside a readable file is not an error: it is
// reported by [Set.Damage] and the rest of the file is read.
func Open(paths ...string) (*Set, error) {
	s := &Set{}
	for _, p := range paths {
		fs, err := openInput(p)
		s.files = append(s.files, fs...)
		if err != nil {
			s.Close()
			return nil, err
		}
	}
	if len(s.files) == 0 {
		s.Close()
		return nil, fmt.Errorf("open %s: %w", strings.Join(paths, " "), ErrNoInputs)
	}
	s.order()
	return s, nil
}

// openReader opens a single stream as a Set, spooling it like standard input.
func openReader(name string, r io.Reader) (*Set, error) {
	f, err := spool(name, r)
	if err != nil {
		return nil, err
	}
	return &Set{files: []*recFile{f}}, nil
}

// order sorts the files by their first record time (learning it for files
// whose first frame has no index), keeping files without records last and
// the order given among equals.
func (s *Set) order() {
	if len(s.files) < 2 {
		return
	}
	for _, f := range s.files {
		f.startT = f.start(&s.dec)
	}
	sort.SliceStable(s.files, func(i, j int) bool {
		a, b := s.files[i].startT, s.files[j].startT
		if a.IsZero() || b.IsZero() {
			return !a.IsZero() && b.IsZero()
		}
		return a.Before(b)
	})
}

func openInput(path string) ([]*recFile, error) {
	if path == "-" {
		f, err := spool("-", stdin)
		if err != nil {
			return nil, err
		}
		return []*recFile{f}, nil
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		f, err := openFile(path)
		if err != nil {
			return nil, err
		}
		return []*recFile{f}, nil
	}
	names, err := recordingsIn(path)
	if err != nil {
		return nil, err
	}
	var out []*recFile
	for _, name := range names {
		f, err := openFile(name)
		if err != nil {
			return out, err
		}
		out = append(out, f)
	}
	return out, nil
}

// recordingsIn lists the non-empty *.zst and *.jsonl files of dir, by name.
func recordingsIn(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		name := e.Name()
		if !e.Type().IsRegular() || strings.HasPrefix(name, ".") ||
			!(strings.HasSuffix(name, ".zst") || strings.HasSuffix(name, ".jsonl")) {
			continue
		}
		if info, err := e.Info(); err != nil || info.Size() == 0 {
			continue
		}
		out = append(out, filepath.Join(dir, name))
	}
	slices.Sort(out)
	return out, nil
}

// openFile opens and indexes one file.
func openFile(path string) (*recFile, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := fh.Stat()
	if err != nil {
		fh.Close()
		return nil, err
	}
	f := &recFile{path: path, r: fh, closer: fh, size: st.Size()}
	if err := f.index(); err != nil {
		f.close()
		return nil, err
	}
	return f, nil
}

// spool copies r to a temporary file and indexes that; the file is removed
// when the Set is closed.
func spool(name string, r io.Reader) (*recFile, error) {
	tmp, err := os.CreateTemp("", "openrtc-stdin-*.rec")
	if err != nil {
		return nil, fmt.Errorf("spool %s: %w", name, err)
	}
	f := &recFile{path: name, r: tmp, closer: tmp, temp: tmp.Name()}
	n, err := io.Copy(tmp, r)
	if err != nil {
		f.close()
		return nil, &os.PathError{Op: "read", Path: name, Err: err}
	}
	f.size = n
	if err := f.index(); err != nil {
		f.close()
		return nil, err
	}
	return f, nil
}

// index detects the file's format from its first bytes and builds its frame
// index.
func (f *recFile) index() error {
	notRec := func(why string) error {
		return &os.PathError{Op: "open", Path: f.path, Err: fmt.Errorf("%w: %s", ErrNotRecording, why)}
	}
	if f.size == 0 {
		return notRec("empty file")
	}
	head := make([]byte, min(f.size, 512))
	if _, err := f.r.ReadAt(head, 0); err != nil && !errors.Is(err, io.EOF) {
		return &os.PathError{Op: "read", Path: f.path, Err: err}
	}
	if len(head) >= 4 {
		m := binary.LittleEndian.Uint32(head)
		if m == magicZstd || (m >= magicSkipMin && m <= magicSkipMax) {
			if err := f.indexBinary(); err != nil {
				return err
			}
			if len(f.frames) == 0 && !f.header {
				return notRec("no frames of JSON lines")
			}
			if f.format == FormatZstd && !f.peekRecord() {
				return notRec("no JSON record with a \"time\" in the first MiB")
			}
			return nil
		}
	}
	if looksBinary(head) {
		return notRec("binary content")
	}
	if err := f.indexLines(); err != nil {
		return &os.PathError{Op: "read", Path: f.path, Err: err}
	}
	var records int64
	for _, fr := range f.frames {
		records += int64(fr.Records)
	}
	if records == 0 {
		return notRec("no line is a JSON record with a \"time\"")
	}
	return nil
}

// peekRecord reports whether the decompressed start of a zstd file without
// index frames holds a record, so that `zstd image.png` is refused like the
// image itself. It reads at most 1 MiB of lines.
func (f *recFile) peekRecord() bool {
	var dec decoderPool
	defer dec.close()
	c := newCursor(f, 0, &dec)
	seen := int64(0)
	for c.cur >= 0 || c.load() {
		line, _, n, _, ok := c.nextLine()
		if !ok {
			c.finish()
			continue
		}
		if _, err := recordTime(line); err == nil {
			c.abandon()
			return true
		}
		if seen += n + 1; seen > 1<<20 {
			break
		}
	}
	c.abandon()
	return false
}

// looksBinary reports whether the head of a file holds bytes that no text
// log contains, so a large binary file is refused without reading it all.
func looksBinary(head []byte) bool {
	for _, c := range head {
		if c == 0 || (c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != 0x1b) {
			return true
		}
	}
	return bytes.HasPrefix(head, []byte("\x89PNG"))
}

// OpenReaderAt opens one recording or log held by r, size bytes long, for
// reading as a [Set]: a file in an object store read by ranges, a memory
// buffer. name is how damage reports and [FileInfo.Path] call it. The
// reader asks r only for what it needs: the file header, the footer and one
// small read per frame to check the footer against the index frames, then
// the frames a scan reads. r must be safe for concurrent ReadAt calls when
// the set is scanned from several goroutines. Closing the set closes r if
// it is an [io.Closer].
func OpenReaderAt(name string, r io.ReaderAt, size int64) (*Set, error) {
	f := &recFile{path: name, r: r, size: size}
	if c, ok := r.(io.Closer); ok {
		f.closer = c
	}
	if err := f.index(); err != nil {
		f.close()
		return nil, err
	}
	return &Set{files: []*recFile{f}}, nil
}

// Identify returns who wrote the recording or log held by r: from its file
// header when it names the worker (a few hundred bytes read), otherwise
// from its first records (a worker.start event, or a keyframe's worker
// name). Readers of many files group them with [GroupWorkers].
func Identify(name string, r io.ReaderAt, size int64) (WorkerID, error) {
	f := &recFile{path: name, r: r, size: size}
	f.readHeader()
	if f.id.Name != "" && f.id.Host != "" {
		return f.id, nil
	}
	if err := f.index(); err != nil {
		return WorkerID{}, err
	}
	var dec decoderPool
	defer dec.close()
	return f.worker(&dec), nil
}
