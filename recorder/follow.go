package recorder

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/klauspost/compress/zstd"
)

// FollowOptions configure [Follow]. The zero value follows from the start of
// the file, polling four times a second.
type FollowOptions struct {
	// Since skips records before it. In a directory, following starts with
	// the last file that begins at or before Since; with a zero Since, with
	// the newest file.
	Since time.Time
	// Poll is how often the file's size is checked for growth, and the
	// directory for a newer file. The default is 250 ms.
	Poll time.Duration
	// Worker chooses, in a directory that holds the recordings of several
	// workers, whose files to follow ([SelectWorker]: a group's key or a
	// worker name). Without it such a directory is a [*WorkersError]: files
	// of different workers are never followed as one stream.
	Worker string
}

// A Follower reads records as they are appended to a recording or a plain
// log that is still being written, like `tail -f`, and across rotations in a
// directory. It reads only complete frames and complete lines: a frame or
// line being written is waited for, not reported as damage.
//
// It is shaped like [Scanner], except that Next blocks until there is a
// record or the context ends:
//
//	f, err := recorder.Follow(ctx, "recordings/", recorder.FollowOptions{})
//	...
//	defer f.Close()
//	for f.Next() {
//		r := f.Record()
//		...
//	}
//	if err := f.Err(); err != nil && !errors.Is(err, context.Canceled) { ... }
type Follower struct {
	ctx    context.Context
	opts   FollowOptions
	dir    string          // "" when following a single file
	seen   map[string]bool // files of dir already followed or skipped
	prefix string          // the followed worker's name: newer files must carry it
	queue  []string        // files of dir to follow after the current one

	path   string
	file   *os.File
	fileN  int   // files followed before this one
	off    int64 // file offset of buf[0]
	buf    []byte
	format Format // 0 until the first bytes are read
	ended  bool   // the footer was read: nothing more will be appended

	skipping bool // inside a line longer than maxLine
	skipFrom int64

	dec *zstd.Decoder
	// A streamed frame that has not ended yet: its complete blocks are
	// read as they arrive (decoded again from the frame's start, since a
	// decoder cannot be resumed), and only the lines not read before are
	// handed on.
	openGood int64 // compressed bytes of it decoded so far; 0 when no frame is open
	openRaw  int   // bytes of its lines read so far

	data   []byte // lines of the frame (or the run of complete lines) being read
	p      int
	frame  int // frames read from this file
	frOff  int64
	nRec   int
	rec    Record
	damage []Damage
	err    error
}

// Follow starts following path: a recording or a plain slog JSON log, or a
// directory of them, in which case it moves on to each newer file that
// appears (rotation) once the current one has no more to read.
func Follow(ctx context.Context, path string, opts FollowOptions) (*Follower, error) {
	if opts.Poll <= 0 {
		opts.Poll = 250 * time.Millisecond
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	dec, err := newDecoder()
	if err != nil {
		return nil, err
	}
	f := &Follower{ctx: ctx, opts: opts, dec: dec}
	first := path
	if st.IsDir() {
		f.dir, f.seen = path, map[string]bool{}
		if first, err = f.startFile(); err != nil {
			dec.Close()
			return nil, err
		}
		if first == "" {
			return f, nil // nothing yet: wait for the first file
		}
	}
	if err := f.openFile(first); err != nil {
		dec.Close()
		return nil, err
	}
	return f, nil
}

// startFile picks the file of the directory to start with and queues the
// files after it.
func (f *Follower) startFile() (string, error) {
	names, err := recordingsIn(f.dir)
	if err != nil {
		return "", err
	}
	if len(names) == 0 {
		return "", nil
	}
	s, err := Open(f.dir)
	if err != nil {
		return "", err
	}
	g, err := chooseWorker(s, f.opts.Worker)
	s.Close()
	if err != nil {
		return "", err
	}
	for _, n := range names {
		f.seen[n] = true
	}
	// New files of this worker are told by CreateDir's names.
	f.prefix = g.Name
	ordered := g.Paths()
	start := len(ordered) - 1 // the newest file
	if !f.opts.Since.IsZero() {
		start = 0
	}
	for i, wf := range g.Files {
		if !f.opts.Since.IsZero() && !wf.First.IsZero() && !wf.First.After(f.opts.Since) {
			start = i
		}
	}
	f.queue = ordered[start+1:]
	return ordered[start], nil
}

func (f *Follower) openFile(path string) error {
	fh, err := os.Open(path)
	if err != nil {
		return err
	}
	if f.file != nil {
		f.file.Close()
		f.fileN++
	}
	if f.seen != nil {
		f.seen[path] = true
	}
	f.path, f.file = path, fh
	f.off, f.buf, f.format, f.ended = 0, f.buf[:0], 0, false
	f.skipping, f.data, f.p, f.frame = false, f.data[:0], 0, 0
	f.openGood, f.openRaw = 0, 0
	return nil
}

// Path returns the file being followed.
func (f *Follower) Path() string { return f.path }

// Record returns the record Next moved to; its Line is valid until the next
// call to Next. Pos.File counts the files followed before this one.
func (f *Follower) Record() Record { return f.rec }

// Err returns what stopped Next: the context's error, or an I/O error.
func (f *Follower) Err() error { return f.err }

// Damage returns the damage met so far: corrupt frames and bad lines.
func (f *Follower) Damage() []Damage { return slices.Clone(f.damage) }

// Close closes the file being followed.
func (f *Follower) Close() error {
	f.dec.Close()
	if f.file != nil {
		return f.file.Close()
	}
	return nil
}

// Next waits for the next record. It returns false when the context ends or
// on an I/O error; Err says which.
func (f *Follower) Next() bool {
	if f.err != nil {
		return false
	}
	for {
		if f.nextLine() {
			return true
		}
		progressed, err := f.step()
		if err != nil {
			f.err = err
			return false
		}
		if progressed {
			continue
		}
		if f.dir != "" {
			switched, err := f.rotate()
			if err != nil {
				f.err = err
				return false
			}
			if switched {
				continue
			}
		}
		t := time.NewTimer(f.opts.Poll)
		select {
		case <-f.ctx.Done():
			t.Stop()
			f.err = f.ctx.Err()
			return false
		case <-t.C:
		}
	}
}

// nextLine moves to the next record in f.data.
func (f *Follower) nextLine() bool {
	for f.p < len(f.data) {
		rest := f.data[f.p:]
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			i = len(rest)
		}
		off := f.p
		f.p += i + 1
		line := rest[:i]
		tm, err := recordTime(line)
		if err != nil {
			if err != errEmptyLine {
				d := Damage{Path: f.path, Kind: BadLine, Offset: f.frOff, Line: int64(off), Bytes: int64(i), Err: err}
				if f.format == FormatJSONL {
					d.Offset, d.Line = f.frOff+int64(off), -1
				}
				f.addDamage(d)
			}
			continue
		}
		n := f.nRec
		f.nRec++
		if !f.opts.Since.IsZero() && tm.Before(f.opts.Since) {
			continue
		}
		f.rec = Record{Line: line, Time: tm, Pos: Position{File: f.fileN, Frame: f.frame - 1, Offset: f.frOff, Record: n}}
		return true
	}
	return false
}

func (f *Follower) addDamage(d Damage) {
	if len(f.damage) < 10*maxDamageKept {
		f.damage = append(f.damage, d)
	}
}

// step reads what was appended and decodes the next complete unit. It
// reports whether anything was consumed or read.
func (f *Follower) step() (bool, error) {
	if f.file == nil {
		return false, nil
	}
	st, err := f.file.Stat()
	if err != nil {
		return false, err
	}
	have := f.off + int64(len(f.buf))
	if st.Size() < have {
		// Truncated in place (copytruncate): start over.
		f.off, f.buf, f.skipping = 0, f.buf[:0], false
		have = 0
	}
	read := false
	if st.Size() > have {
		n := min(st.Size()-have, 4<<20)
		start := len(f.buf)
		f.buf = slices.Grow(f.buf, int(n))[:start+int(n)]
		m, err := f.file.ReadAt(f.buf[start:], have)
		f.buf = f.buf[:start+m]
		if err != nil && !errors.Is(err, io.EOF) {
			return false, fmt.Errorf("%s: %w", f.path, err)
		}
		read = m > 0
	}
	if f.format == 0 {
		if len(f.buf) < 4 {
			return read, nil
		}
		f.format = FormatJSONL
		if m := binary.LittleEndian.Uint32(f.buf); m == magicZstd || (m >= magicSkipMin && m <= magicSkipMax) {
			f.format = FormatRecording
		}
	}
	var used bool
	if f.format == FormatJSONL {
		used = f.stepLines()
	} else {
		used = f.stepFrames()
	}
	return read || used, nil
}

// consume drops n bytes from the front of buf.
func (f *Follower) consume(n int) {
	f.off += int64(n)
	f.buf = f.buf[:copy(f.buf, f.buf[n:])]
}

// stepLines takes every complete line of buf as one batch.
func (f *Follower) stepLines() bool {
	i := bytes.LastIndexByte(f.buf, '\n')
	if f.skipping {
		j := bytes.IndexByte(f.buf, '\n')
		if j < 0 {
			f.consume(len(f.buf))
			return false
		}
		f.addDamage(Damage{Path: f.path, Kind: BadLine, Offset: f.skipFrom, Line: -1, Bytes: f.off + int64(j) - f.skipFrom, Err: errLineTooLong})
		f.skipping = false
		f.consume(j + 1)
		return true
	}
	if i < 0 {
		if len(f.buf) > maxLine {
			f.skipping, f.skipFrom = true, f.off
			f.consume(len(f.buf))
		}
		return false
	}
	f.data = append(f.data[:0], f.buf[:i+1]...)
	f.p, f.frOff, f.nRec = 0, f.off, 0
	f.frame++
	f.consume(i + 1)
	return true
}

// stepFrames decodes the next complete frame of buf, if there is one.
func (f *Follower) stepFrames() bool {
	progressed := false
	for len(f.buf) >= 4 {
		magic := binary.LittleEndian.Uint32(f.buf)
		switch {
		case magic == magicZstd:
			zi, err := walkZstdFrame(bytes.NewReader(f.buf), 0, int64(len(f.buf)))
			short := errors.Is(err, errFrameShort)
			abandoned := err != nil && !short && zi.blocks > 0 && frameStartsAt(f.buf[zi.good:])
			if (short || abandoned) && zi.blocks > 0 && zi.good > f.openGood {
				// A streamed frame not ended (yet): read its new blocks.
				f.decodeOpen(f.off, f.buf[:zi.good])
				return true
			}
			if abandoned {
				// Its writer moved on to a new frame after a failed write.
				f.consume(int(zi.good))
				f.openGood, f.openRaw = 0, 0
				progressed = true
				continue
			}
			if short {
				if uint64(len(f.buf)) > maxDecodeAll {
					f.resync(fmt.Errorf("zstd frame longer than %d bytes", maxDecodeAll))
					progressed = true
					continue
				}
				return progressed
			}
			if err != nil {
				f.resync(err)
				progressed = true
				continue
			}
			if f.openGood > 0 {
				f.decodeRest(f.buf[:zi.end])
			} else {
				f.decodeFrame(f.off, f.buf[:zi.end])
			}
			f.consume(int(zi.end))
			return true
		case magic >= magicSkipMin && magic <= magicSkipMax:
			if len(f.buf) < skipHeaderLen {
				return progressed
			}
			size := int64(binary.LittleEndian.Uint32(f.buf[4:]))
			if uint64(size) > maxDecodeAll {
				f.resync(fmt.Errorf("skippable frame of %d bytes", size))
				progressed = true
				continue
			}
			if magic != magicFrameIndex {
				if int64(len(f.buf)) < skipHeaderLen+size {
					return progressed
				}
				if magic == magicFooter {
					f.ended = true
				}
				f.consume(int(skipHeaderLen + size))
				progressed = true
				continue
			}
			e, err := parseFrameEntry(f.buf[skipHeaderLen:min(len(f.buf), skipHeaderLen+int(size))])
			if errors.Is(err, errShortEntry) && int64(len(f.buf)) < skipHeaderLen+size {
				return progressed
			}
			if err != nil || size != frameEntryLen {
				f.resync(fmt.Errorf("bad index frame: %v", err))
				progressed = true
				continue
			}
			if e.trailing {
				// The index frame of the streamed frame just read.
				f.consume(indexFrameLen)
				progressed = true
				continue
			}
			// The data frame is believed over its entry: its length is
			// what its block headers say.
			zi, werr := walkZstdFrame(bytes.NewReader(f.buf), indexFrameLen, int64(len(f.buf)))
			if errors.Is(werr, errFrameShort) {
				if uint64(len(f.buf)) > maxDecodeAll+indexFrameLen {
					f.resync(fmt.Errorf("zstd frame longer than %d bytes", maxDecodeAll))
					progressed = true
					continue
				}
				return progressed
			}
			if werr != nil {
				f.resync(fmt.Errorf("bad index frame: %v", werr))
				progressed = true
				continue
			}
			end := int(zi.end)
			if int64(e.CompLen) != zi.end-indexFrameLen {
				f.addDamage(Damage{Path: f.path, Kind: IndexMismatch, Offset: f.off, Line: -1,
					Err: fmt.Errorf("its entry says the data frame is %d bytes, the data frame is %d; the data frame was read", e.CompLen, zi.end-indexFrameLen)})
				e.MaxTime = time.Time{} // the entry is wrong: decode the frame
			}
			data := f.buf[indexFrameLen:end]
			if !f.opts.Since.IsZero() && !e.MaxTime.IsZero() && e.MaxTime.Add(indexSlack).Before(f.opts.Since) {
				f.frame++ // wholly before Since: not decoded
			} else {
				f.decodeFrame(f.off, data)
			}
			f.consume(end)
			return true
		default:
			f.resync(fmt.Errorf("bad magic %#08x", magic))
			progressed = true
		}
	}
	return progressed
}

// decodeFrame decodes one complete zstd frame into f.data.
func (f *Follower) decodeFrame(off int64, comp []byte) {
	f.frame++
	f.frOff, f.p, f.nRec = off, 0, 0
	var err error
	f.data, err = f.dec.DecodeAll(comp, f.data[:0])
	if err != nil {
		f.data = f.data[:0]
		f.addDamage(Damage{Path: f.path, Kind: CorruptFrame, Offset: off, Line: -1, Bytes: int64(len(comp)), Err: err})
	}
}

// decodeOpen reads the complete blocks of the streamed frame at off that has
// not ended: comp is the frame up to its last complete block. The lines
// read before are skipped; a line the last block cut waits for the next.
func (f *Follower) decodeOpen(off int64, comp []byte) {
	if f.openGood == 0 {
		f.frame++
		f.frOff, f.nRec, f.openRaw = off, 0, 0
	}
	f.openGood = int64(len(comp))
	var err error
	f.data, err = f.dec.DecodeAll(comp, f.data[:0])
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		f.data = f.data[:0]
		f.addDamage(Damage{Path: f.path, Kind: CorruptFrame, Offset: off, Line: -1, Bytes: int64(len(comp)), Err: err})
		f.p = 0
		return
	}
	f.data = f.data[:bytes.LastIndexByte(f.data, '\n')+1]
	f.p = min(f.openRaw, len(f.data))
	f.openRaw = len(f.data)
}

// decodeRest reads the streamed frame comp, now ended, whose first blocks
// were read while it was open: only the lines not read yet are handed on.
func (f *Follower) decodeRest(comp []byte) {
	skip := f.openRaw
	f.openGood, f.openRaw = 0, 0
	var err error
	f.data, err = f.dec.DecodeAll(comp, f.data[:0])
	if err != nil {
		f.data = f.data[:0]
		f.addDamage(Damage{Path: f.path, Kind: CorruptFrame, Offset: f.frOff, Line: -1, Bytes: int64(len(comp)), Err: err})
	}
	f.p = min(skip, len(f.data))
}

// resync skips to the next offset in buf that starts with a magic of ours
// or zstd's, reporting what it skipped. The rest of a frame being written
// always starts with one, so this only skips real damage.
func (f *Follower) resync(cause error) {
	n := len(f.buf)
	for i := 1; i+4 <= len(f.buf); i++ {
		switch binary.LittleEndian.Uint32(f.buf[i:]) {
		case magicFrameIndex, magicZstd, magicFooter:
			n = i
		}
		if n != len(f.buf) {
			break
		}
	}
	if n == len(f.buf) && n > 3 {
		n -= 3 // a magic may be arriving
	}
	f.addDamage(Damage{Path: f.path, Kind: CorruptFrame, Offset: f.off, Line: -1, Bytes: int64(n), Err: cause})
	f.consume(n)
}

// rotate switches to the next file of the directory once the current one has
// nothing more, draining the current file first: the writer finishes a file
// before it creates the next.
func (f *Follower) rotate() (bool, error) {
	if len(f.queue) == 0 {
		names, err := recordingsIn(f.dir)
		if err != nil {
			return false, err
		}
		for _, n := range names {
			if !f.seen[n] {
				f.seen[n] = true
				if f.prefix != "" {
					if _, ok := ParseRecordingName(f.prefix, filepath.Base(n)); !ok {
						continue // another worker's file
					}
				}
				f.queue = append(f.queue, n)
			}
		}
		if len(f.queue) == 0 {
			return false, nil
		}
	}
	if f.file != nil {
		for {
			progressed, err := f.step()
			if err != nil {
				return false, err
			}
			if len(f.data) > f.p {
				return true, nil // records to read before switching
			}
			if !progressed {
				break
			}
		}
	}
	next := f.queue[0]
	f.queue = f.queue[1:]
	if err := f.openFile(filepath.Clean(next)); err != nil {
		return false, err
	}
	return true, nil
}
