// Package recorder writes and reads recordings: the events of a worker (and
// any other slog records of the application) as slog JSON lines, in zstd
// frames with an index, so that a day of recording can be replayed from any
// moment after the fact. A frame spans a keyframe interval and is written a
// block at a time, every second, so a kill loses at most a second while
// compression sees the whole interval.
//
// The writing side is [Recorder], a [slog.Handler]: an application fans its
// logger out to its console and to a recording, and the recorder compresses,
// indexes, keyframes, rotates and prunes files on one background goroutine,
// never making a caller wait for the disk. The reading side ([Open], [Set],
// [Scanner]) scans recordings, and plain slog JSON logs, in time order,
// seeks by time through the index, and recovers what a crash left.
//
// A recording stays a plain structured log: `zstdcat rec.zst | jq` reads it,
// and `zstd -t` validates it. docs/recording-format.md describes the layout
// for readers in other languages; format.go is its definition.
package recorder

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
)

// ErrClosed is returned by a Recorder's methods after Close.
var ErrClosed = errors.New("recorder: closed")

// A Recorder is a [slog.Handler] that writes records to a recording: one JSON
// line per record, exactly as [slog.JSONHandler] would write it, in zstd
// frames with an index (see docs/recording-format.md).
// An application fans its logger out to its console and to a Recorder:
//
//	rec, err := recorder.CreateDir("/var/lib/worker/rec", &recorder.Options{Worker: "w1"})
//	...
//	logger := slog.New(slog.NewMultiHandler(console, rec))
//	defer rec.Close()
//
// Handle encodes the record on the caller's goroutine (its attributes may
// refer to data the caller changes next) and puts the line on a bounded
// queue in front of a single writer goroutine, which compresses and writes
// blocks and frames, writes keyframes, and rotates files. Handle never waits for
// I/O: when the queue is full, or the disk fails, records are dropped,
// counted in [Stats], and reported in the recording by a recorder.drop
// record once writing works again.
//
// The Recorders returned by WithAttrs and WithGroup share their parent's
// queue, writer and file; closing any of them closes them all. A Recorder is
// safe for concurrent use.
type Recorder struct {
	c    *core
	ops  []handlerOp // WithAttrs and WithGroup calls, outermost first
	pool *sync.Pool  // of *lineEncoder carrying ops
}

// handlerOp is one WithAttrs (group == "") or WithGroup call.
type handlerOp struct {
	group string
	attrs []slog.Attr
}

// core is what a Recorder and the handlers derived from it share.
type core struct {
	set       settings
	q         *lineQueue
	flushReq  chan chan error
	closing   chan struct{}
	done      chan struct{}
	closeOnce sync.Once
	closeErr  error
	path      atomic.Pointer[string] // the file being written

	records   atomic.Int64
	keyframes atomic.Int64
	frames    atomic.Int64
	bytes     atomic.Int64
	files     atomic.Int64
	writeLost atomic.Int64
}

// Stats are a Recorder's counters since it was created.
type Stats struct {
	Records   int64 // lines written to files, keyframes and drop reports included
	Keyframes int64 // keyframe records written
	Dropped   int64 // records dropped: queue full, or lost to a write error
	Frames    int64 // data frames written
	Bytes     int64 // bytes written to files, headers, index and footers included
	Files     int64 // files opened
}

// Create starts a recording in one file at path, without rotation or
// retention. If the file exists it is truncated, as by [os.Create].
// A nil opts is the zero Options.
//
// The file's index is kept in memory until Close writes it as the footer:
// 40 bytes a frame, a few KB a day with the defaults (a frame per keyframe
// interval; with IndependentFrames, a frame a second: about 3.5 MB a day).
// A worker that records for days should use CreateDir.
func Create(path string, opts *Options) (*Recorder, error) {
	set := opts.resolve()
	w, err := newFileWriter(path, &set)
	if err != nil {
		return nil, err
	}
	return start(set, w), nil
}

// CreateDir starts a recording in directory dir (created if missing), in
// files named by their start time and rotated by Options.MaxFileBytes and
// Options.MaxFileAge, keeping the directory under Options.RetainBytes and
// Options.RetainAge. A nil opts is the zero Options.
func CreateDir(dir string, opts *Options) (*Recorder, error) {
	set := opts.resolve()
	if strings.ContainsAny(set.Worker, `/\`) || set.Worker == "." || set.Worker == ".." {
		return nil, fmt.Errorf("recorder: worker name %q is not a file name", set.Worker)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("recorder: %w", err)
	}
	w, err := newDirWriter(filepath.Clean(dir), &set)
	if err != nil {
		return nil, err
	}
	return start(set, w), nil
}

func start(set settings, w *writer) *Recorder {
	c := &core{
		set:      set,
		q:        newLineQueue(set.QueueBytes, set.QueueRecords, set.queueBlocks),
		flushReq: make(chan chan error),
		closing:  make(chan struct{}),
		done:     make(chan struct{}),
	}
	w.c = c
	c.path.Store(&w.path)
	c.files.Add(1)
	c.bytes.Add(w.off)
	go w.run()
	return newRecorder(c, nil)
}

func newRecorder(c *core, ops []handlerOp) *Recorder {
	r := &Recorder{c: c, ops: ops}
	r.pool = &sync.Pool{New: func() any {
		e := &lineEncoder{q: c.q}
		var h slog.Handler = slog.NewJSONHandler(e, nil)
		for _, op := range ops {
			if op.group != "" {
				h = h.WithGroup(op.group)
			} else {
				h = h.WithAttrs(op.attrs)
			}
		}
		e.h = h
		return e
	}}
	return r
}

// lineEncoder is a slog.JSONHandler bound to the queue: the handler formats a
// record into its own buffer and hands the whole line to Write in one call,
// which copies it into the queue. Pooled per Recorder, so concurrent Handle
// calls never share one.
type lineEncoder struct {
	h   slog.Handler
	q   *lineQueue
	t   int64
	err error
}

func (e *lineEncoder) Write(p []byte) (int, error) {
	e.err = e.q.push(p, e.t)
	return len(p), nil
}

// Enabled reports whether level is at least Options.Level.
func (r *Recorder) Enabled(_ context.Context, level slog.Level) bool {
	return level >= r.c.set.Level.Level()
}

// Handle encodes rec and queues it for writing. It returns ErrClosed after
// Close, and nil otherwise: a record that does not fit in the queue is
// dropped and counted, not returned as an error.
func (r *Recorder) Handle(ctx context.Context, rec slog.Record) error {
	e := r.pool.Get().(*lineEncoder)
	e.t = unixNano(rec.Time)
	err := e.h.Handle(ctx, rec)
	if err == nil {
		err = e.err
	}
	e.err = nil
	r.pool.Put(e)
	return err
}

// WithAttrs returns a Recorder that adds attrs to every record, sharing r's
// writer. Values that are slog.LogValuers are resolved now, as slog's own
// handlers do.
func (r *Recorder) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return r
	}
	return newRecorder(r.c, append(r.ops[:len(r.ops):len(r.ops)], handlerOp{attrs: resolveAttrs(attrs)}))
}

// resolveAttrs returns attrs with every LogValuer resolved, so that the
// encoders the pool makes later format what the caller passed now.
func resolveAttrs(attrs []slog.Attr) []slog.Attr {
	out := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		a.Value = a.Value.Resolve()
		if a.Value.Kind() == slog.KindGroup {
			a.Value = slog.GroupValue(resolveAttrs(a.Value.Group())...)
		}
		out[i] = a
	}
	return out
}

// WithGroup returns a Recorder that qualifies later attributes with name,
// sharing r's writer.
func (r *Recorder) WithGroup(name string) slog.Handler {
	if name == "" {
		return r
	}
	return newRecorder(r.c, append(r.ops[:len(r.ops):len(r.ops)], handlerOp{group: name}))
}

// Flush writes every record queued before the call to the file, as a block
// of the open frame (with IndependentFrames, as a frame), and returns once
// it is written (and, under SyncFrame, synced). A reader reads it at once;
// the frame itself ends at the next keyframe or at Close. It returns the
// error of that write, if any.
func (r *Recorder) Flush() error {
	reply := make(chan error, 1)
	select {
	case r.c.flushReq <- reply:
		return <-reply
	case <-r.c.closing:
		return ErrClosed
	}
}

// Close writes everything queued, ends the open frame, writes the footer
// index, fsyncs and closes the file, and stops the writer goroutine. Later
// calls return the result of the first. Records handled after Close starts
// are rejected with ErrClosed.
func (r *Recorder) Close() error {
	c := r.c
	c.closeOnce.Do(func() {
		c.q.close()
		close(c.closing)
		<-c.done
	})
	return c.closeErr
}

// currentPath returns the path of the file being written, for tests.
func (c *core) currentPath() string { return *c.path.Load() }

// Stats returns the recorder's counters.
func (r *Recorder) Stats() Stats {
	c := r.c
	return Stats{
		Records:   c.records.Load(),
		Keyframes: c.keyframes.Load(),
		Dropped:   c.q.lost.Load() + c.writeLost.Load(),
		Frames:    c.frames.Load(),
		Bytes:     c.bytes.Load(),
		Files:     c.files.Load(),
	}
}
