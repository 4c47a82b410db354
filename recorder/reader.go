package recorder

import (
	"cmp"
	"errors"
	"io"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/klauspost/compress/zstd"
)

// Limits of the reader. Every length read from a file is checked against the
// file size, and nothing decompressed may grow past these, so no input can
// make the reader allocate without bound. They are variables so that tests
// and fuzzers can lower them.
var (
	// maxDecodeAll is the largest frame decompressed in one piece; a larger
	// frame, or one whose size is unknown, is streamed line by line.
	maxDecodeAll uint64 = 64 << 20
	// maxWindow bounds the history a streamed frame may ask the decoder to
	// keep (zstd -19 uses 8 MiB, --ultra -22 128 MiB).
	maxWindow uint64 = 128 << 20
	// maxLine is the longest line accepted; a longer one is skipped as a bad
	// line without being held in memory.
	maxLine = 16 << 20
	// chunkTarget is the size of the pseudo-frames a plain log is cut into,
	// so that a time-range scan can skip most of a large log.
	chunkTarget int64 = 1 << 20
	// maxDamageKept bounds the bad-line Damage values kept per file; the
	// count in FileInfo.BadLines stays exact.
	maxDamageKept = 1000
)

// Format is the kind of content a file holds, detected from its bytes.
type Format uint8

const (
	// FormatRecording is a recording written by this package: index frames
	// before zstd data frames, and a footer once closed.
	FormatRecording Format = iota + 1
	// FormatZstd is zstd-compressed JSON lines without index frames, such as
	// `zstd app.jsonl` makes.
	FormatZstd
	// FormatJSONL is an uncompressed slog JSON log, one record per line.
	FormatJSONL
)

// String returns "recording", "zstd" or "jsonl".
func (f Format) String() string {
	switch f {
	case FormatRecording:
		return "recording"
	case FormatZstd:
		return "zstd"
	case FormatJSONL:
		return "jsonl"
	}
	return "unknown"
}

// IndexSource says where a file's frame index came from.
type IndexSource uint8

const (
	// IndexFooter: the footer of a cleanly closed recording.
	IndexFooter IndexSource = iota + 1
	// IndexRebuilt: walking the file's frames (index frames, zstd frame and
	// block headers) or, for a plain log, its lines.
	IndexRebuilt
)

// String returns "footer" or "rebuilt".
func (s IndexSource) String() string {
	if s == IndexFooter {
		return "footer"
	}
	return "rebuilt"
}

// FileInfo describes one input of a [Set]. Time and record facts cover the
// frames whose contents are known: every frame of a recording, and the frames
// of other zstd files once a scan or [Set.Span] has decoded them. Frames found
// corrupt are left out of them.
type FileInfo struct {
	Path          string // as given to Open; "-" for standard input
	Format        Format
	Index         IndexSource
	Footer        bool      // the file ends with a footer (used or not)
	Size          int64     // bytes
	Created       time.Time // from the recording's file header; zero when absent
	Frames        int       // data frames (for a plain log: chunks of lines)
	Keyframes     int       // frames flagged FlagKeyframe
	UnknownFrames int       // frames whose times are unknown until decoded
	Records       int64     // records in frames with known contents
	First, Last   time.Time // earliest and latest record time in known frames
	LostBytes     int64     // bytes in torn tails and skipped corrupt frames
	BadLines      int64     // lines skipped so far (plain logs: all of them)
	Damage        []Damage  // by offset; at most 1000 bad lines are kept

}

// A Set is one or more inputs opened by [Open], read as a single stream of
// records in time order. Its methods are safe for concurrent use; each
// [Scanner] is used by one goroutine.
type Set struct {
	files []*recFile
	dec   decoderPool
}

// Close releases the files, removes the spool file of standard input and
// closes the decoders. Scanners of the set must not be used afterwards.
func (s *Set) Close() error {
	var errs []error
	for _, f := range s.files {
		errs = append(errs, f.close())
	}
	s.dec.close()
	return errors.Join(errs...)
}

// Files returns what is known of each input, in stream order (by first
// record time). Position.File indexes this slice.
func (s *Set) Files() []FileInfo {
	out := make([]FileInfo, len(s.files))
	for i, f := range s.files {
		out[i] = f.info()
	}
	return out
}

// Index returns the frame index of file i of [Set.Files]: one entry per data
// frame (for a plain log, per chunk of lines), in file order. Entries whose
// MinTime is zero have unknown times.
func (s *Set) Index(i int) []FrameEntry {
	if i < 0 || i >= len(s.files) {
		return nil
	}
	f := s.files[i]
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]FrameEntry, len(f.frames))
	for j, fr := range f.frames {
		out[j] = fr.FrameEntry
	}
	return out
}

// Damage returns every damaged stretch found so far, file by file and by
// offset within a file. Torn tails
// and corrupt frames found while indexing are known after Open; a frame that
// fails to decode, and bad lines inside compressed frames, are found when a
// scan reaches them. After a full scan the list is complete (up to 1000 bad
// lines per file; FileInfo.BadLines has the count).
func (s *Set) Damage() []Damage {
	var out []Damage
	for _, f := range s.files {
		out = append(out, f.info().Damage...)
	}
	return out
}

// Span returns the time of the earliest and the latest record. Frames whose
// times are unknown (zstd files without index frames) are decoded to learn
// them, once.
func (s *Set) Span() (first, last time.Time) {
	for _, f := range s.files {
		f.learnAll(&s.dec)
		f.learnEnds(&s.dec)
		fi := f.info()
		if fi.Records == 0 {
			continue
		}
		if first.IsZero() || fi.First.Before(first) {
			first = fi.First
		}
		if fi.Last.After(last) {
			last = fi.Last
		}
	}
	return first, last
}

// recFile is one input: its reader, detected format and frame index, and the
// damage found in it.
type recFile struct {
	path   string
	r      io.ReaderAt
	closer io.Closer
	temp   string // spool file to remove on close
	size   int64
	format Format
	source IndexSource
	remote bool // read through an Input: fetch no more than the frames read

	startT      time.Time         // first record time, for ordering and merging; set by Set.order
	header      bool              // starts with our file header
	headerEnd   int64             // offset just past the file header frame (0 without one)
	footer      bool              // ends with the footer magic
	lateBad     map[[2]int64]bool // (frame, line offset) of bad lines reported through Scanner.Invalid; guarded by mu
	footerStart int64             // where that footer's frame would start
	created     time.Time
	schema      uint16
	id          WorkerID // who wrote it, once known (worker)
	idKnown     bool

	mu        sync.Mutex // guards what scans learn: frames' facts, damage
	frames    []recFrame
	damage    []Damage
	badKept   int
	badLines  int64
	lostBytes int64
}

// recFrame is a data frame (or a chunk of a plain log) and what has been
// learnt about it.
type recFrame struct {
	FrameEntry
	dataLen int64 // length of the data at DataOffset (of a torn frame: its complete blocks)
	trailer int64 // offset of its index frame when it follows the frame (version 2); 0 when none
	torn    bool  // a zstd frame that did not end: read up to its last complete block
	plain   bool  // uncompressed lines, not a zstd frame
	known   bool  // MinTime, MaxTime and Records are valid
	mark    int64 // bad lines before this decompressed offset are already reported
	corrupt bool  // decoding failed; reported once

	// How far the entry is believed (docs/recording-format.md, "Trust"):
	confirmed  bool          // two copies of the index agree on it
	distrusted bool          // its entry was wrong or doubtful: known only once decoded
	slack      time.Duration // a single copy's tolerance in time-range skips
	claim      *FrameEntry   // the entry a distrusted frame's index claimed
	checked    bool          // decoded contents were compared with the entry
}

func (f *recFile) close() error {
	var err error
	if f.closer != nil {
		err = f.closer.Close()
	}
	if f.temp != "" {
		if rerr := os.Remove(f.temp); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
			err = errors.Join(err, rerr)
		}
	}
	return err
}

func (f *recFile) info() FileInfo {
	f.mu.Lock()
	defer f.mu.Unlock()
	fi := FileInfo{
		Path: f.path, Format: f.format, Index: f.source, Footer: f.footer, Size: f.size, Created: f.created,
		Frames: len(f.frames), LostBytes: f.lostBytes, BadLines: f.badLines,
		Damage: append([]Damage(nil), f.damage...),
	}
	// In file order, whatever order the scans met them in.
	slices.SortStableFunc(fi.Damage, func(a, b Damage) int {
		return cmp.Or(cmp.Compare(a.Offset, b.Offset), cmp.Compare(a.Line, b.Line))
	})
	for _, fr := range f.frames {
		if fr.Keyframe() {
			fi.Keyframes++
		}
		if fr.corrupt {
			continue
		}
		if !fr.known {
			fi.UnknownFrames++
			continue
		}
		if fr.Records == 0 {
			continue
		}
		fi.Records += int64(fr.Records)
		if fi.First.IsZero() || fr.MinTime.Before(fi.First) {
			fi.First = fr.MinTime
		}
		if fr.MaxTime.After(fi.Last) {
			fi.Last = fr.MaxTime
		}
	}
	return fi
}

// frame returns a copy of frame i, safe to read while scans learn.
func (f *recFile) frame(i int) recFrame {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.frames[i]
}

// addDamage records d; bad lines beyond maxDamageKept are only counted.
// Callers hold f.mu.
func (f *recFile) addDamageLocked(d Damage) {
	d.Path = f.path
	switch d.Kind {
	case BadLine:
		f.badLines++
		if f.badKept >= maxDamageKept {
			return
		}
		f.badKept++
	default:
		f.lostBytes += d.Bytes
	}
	f.damage = append(f.damage, d)
}

func (f *recFile) addDamage(d Damage) {
	f.mu.Lock()
	f.addDamageLocked(d)
	f.mu.Unlock()
}

// start is the file's place in the stream: the earliest time of its first
// frame with records. An unknown first frame is decoded to learn it.
func (f *recFile) start(dec *decoderPool) time.Time {
	for i := range f.frames {
		fr := f.frame(i)
		if !fr.known {
			f.learn(dec, i)
			fr = f.frame(i)
		}
		if fr.known && fr.Records > 0 {
			return fr.MinTime
		}
	}
	return time.Time{}
}

// learnEnds decodes the frames that only a single copy of the index places
// and that may hold the file's first or last record, so that its span is
// what the records say, not what an index that may be off says.
func (f *recFile) learnEnds(dec *decoderPool) {
	for range 4 { // each round can only narrow the candidates
		fi := f.info()
		var todo []int
		f.mu.Lock()
		for i, fr := range f.frames {
			if fr.known && !fr.corrupt && fr.slack > 0 && (fr.Records == 0 ||
				!fr.MinTime.Add(-fr.slack).After(fi.First) || !fr.MaxTime.Add(fr.slack).Before(fi.Last)) {
				todo = append(todo, i)
			}
		}
		f.mu.Unlock()
		if len(todo) == 0 {
			return
		}
		for _, i := range todo {
			f.learn(dec, i)
		}
	}
}

// learnAll decodes every frame whose times are unknown.
func (f *recFile) learnAll(dec *decoderPool) {
	for i := range f.frames {
		if !f.frame(i).known {
			f.learn(dec, i)
		}
	}
}

// learn decodes frame i in full, which records its times and record count.
func (f *recFile) learn(dec *decoderPool, i int) {
	c := newCursor(f, 0, dec)
	c.next, c.stop = i, i+1
	for c.advance() {
	}
}

// decoderPool hands out zstd decoders with the reader's memory limits. A
// decoder streaming a frame is held until the frame ends, so one used for
// DecodeAll never waits on a stream; Close closes every decoder made.
type decoderPool struct {
	mu   sync.Mutex
	free []*zstd.Decoder
	all  []*zstd.Decoder
}

func newDecoder() (*zstd.Decoder, error) {
	return zstd.NewReader(nil,
		zstd.WithDecoderConcurrency(1),
		// One limit for both uses: the most a DecodeAll may produce (the
		// index said at most maxDecodeAll, but an index may lie) and the
		// largest window a stream may keep.
		zstd.WithDecoderMaxMemory(max(maxDecodeAll, maxWindow)),
		zstd.WithDecoderMaxWindow(maxWindow),
	)
}

func (p *decoderPool) get() (*zstd.Decoder, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := len(p.free); n > 0 {
		d := p.free[n-1]
		p.free = p.free[:n-1]
		return d, nil
	}
	d, err := newDecoder()
	if err != nil {
		return nil, err
	}
	p.all = append(p.all, d)
	return d, nil
}

func (p *decoderPool) put(d *zstd.Decoder) {
	p.mu.Lock()
	p.free = append(p.free, d)
	p.mu.Unlock()
}

func (p *decoderPool) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, d := range p.all {
		d.Close()
	}
	p.all, p.free = nil, nil
}
