package recorder

import (
	"log/slog"
	"os"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/openrtc-go/introspect/events"
)

// Defaults of [Options], used where a field is left zero. The figures behind
// them are in writer_bench_test.go and docs/recording-format.md.
const (
	DefaultFlushInterval    = time.Second
	DefaultFrameBytes       = 16 << 20
	DefaultQueueBytes       = 8 << 20
	DefaultQueueRecords     = 64 << 10
	DefaultKeyframeInterval = 10 * time.Minute
	DefaultSyncInterval     = time.Second
	DefaultMaxFileBytes     = 64 << 20
	DefaultMaxFileAge       = time.Hour
	DefaultRetainBytes      = 1 << 30
	DefaultRetainAge        = 7 * 24 * time.Hour
	DefaultWorker           = "recording"

	// The defaults of IndependentFrames: the recorder's defaults before
	// streamed frames.
	legacyKeyframeInterval = time.Minute
	legacyFrameBytes       = 256 << 10

	// maxFrameBytes keeps a frame's raw length well inside the u32 of its
	// index entry and a decoder's default memory limit.
	maxFrameBytes = 64 << 20
)

// A SyncPolicy says when the recorder asks the kernel to put a recording on
// stable storage with fsync(2). Every flush reaches the kernel with one
// write(2), so a crash or a SIGKILL of the process loses at most what waited
// for the next flush (Options.FlushInterval) under every policy; the policies differ only on power
// loss or a kernel crash. Close and rotation always fsync the file they
// finish.
type SyncPolicy int

const (
	// SyncNever leaves writeback to the kernel (typically within 30 s on
	// Linux). It costs nothing on the writer's path and is the default.
	SyncNever SyncPolicy = iota
	// SyncFrame fsyncs after every flush (a block of the open frame, or a
	// whole frame with IndependentFrames). On power loss at most what
	// waited for the next flush is lost. Each fsync costs a disk flush
	// (from about 50 µs on a fast NVMe to tens of ms on a network or
	// spinning disk), paid by the writer goroutine, never by Handle; with
	// the default FlushInterval that is about one fsync a second.
	SyncFrame
	// SyncInterval fsyncs at most once per Options.SyncInterval, after the
	// first flush written since the last fsync. On power loss at most
	// SyncInterval plus the open frame is lost.
	SyncInterval
)

// String returns "never", "frame" or "interval".
func (p SyncPolicy) String() string {
	switch p {
	case SyncNever:
		return "never"
	case SyncFrame:
		return "frame"
	case SyncInterval:
		return "interval"
	}
	return "SyncPolicy(?)"
}

// A Keyframer keeps the folded state of what a recording holds, so that the
// recorder can write it out as a keyframe: the full state at one moment, from
// which a reader can start without reading what came before.
//
// The recorder's writer goroutine calls Observe with every line it writes,
// in file order, and Keyframe when a keyframe is due; never both at once,
// and never from more than one goroutine. Keyframe records themselves are not
// observed. Neither method may log through the recorder it serves.
type Keyframer interface {
	// Observe applies one JSON line (without its newline). The line is only
	// valid during the call.
	Observe(line []byte)
	// Keyframe returns the state after everything observed so far, as of
	// time t.
	Keyframe(t time.Time) events.Keyframe
}

// Options configure a [Recorder]. The zero value (or a nil *Options) records
// everything with the defaults described on each field. A negative size or
// duration disables the limit it sets, where that is allowed.
type Options struct {
	// Level is the minimum level recorded. The default is slog.LevelDebug:
	// a recording keeps everything, including the high-rate samples and
	// keyframes that a console hides. As with slog.HandlerOptions, a
	// *slog.LevelVar changes it at run time.
	Level slog.Leveler

	// FlushInterval bounds how long a record waits before it reaches the
	// file. At least this often (when there is anything to write) the
	// records waiting are compressed into a block of the open frame and
	// written with one write(2), so a SIGKILL loses at most the last
	// FlushInterval of records; a reader reads every complete block of a
	// frame that a kill left open. A block is also written when a record
	// arrives whose time is at least the block's first record time plus
	// FlushInterval. The default is 1 s. With IndependentFrames, each flush
	// closes a frame instead.
	FlushInterval time.Duration

	// FrameBytes bounds a frame's uncompressed content: a frame is closed
	// before it would exceed it (a single larger record ends the frame it
	// starts). Frames otherwise close before each keyframe, so a frame
	// holds one keyframe interval and compression sees all of it. The
	// default is 16 MiB; the maximum is 64 MiB. With IndependentFrames the
	// default is 256 KiB.
	FrameBytes int

	// EncoderLevel is the zstd compression level of data frames. The
	// default is zstd.SpeedBetterCompression (comparable to zstd -7);
	// with IndependentFrames, zstd.SpeedDefault.
	EncoderLevel zstd.EncoderLevel

	// IndependentFrames writes each flush as a frame of its own, with its
	// index frame before it (format version 1, the layout of recordings
	// written before version 2), for readers that cannot decode a frame
	// that has not ended. Each frame is then compressed without the
	// history of the ones before it, which makes a recording about three
	// times bigger (docs/recording-format.md, "Cost and size").
	IndependentFrames bool

	// Sync is the fsync policy; see [SyncPolicy]. The default is SyncNever.
	Sync SyncPolicy

	// SyncInterval is the period of the SyncInterval policy. The default is
	// 1 s.
	SyncInterval time.Duration

	// QueueBytes and QueueRecords bound the queue between Handle and the
	// writer goroutine: the encoded lines waiting to be written plus those
	// being written. A record that does not fit is dropped, counted, and
	// reported in the recording by a recorder.drop record once there is room
	// again. The queue's buffers take at most about twice QueueBytes. The
	// defaults are 8 MiB and 65,536 records.
	QueueBytes   int
	QueueRecords int

	// KeyframeInterval is how often a keyframe is written: at the start of
	// every file, and before the first record whose time is at least the
	// last keyframe's time plus KeyframeInterval. Each keyframe starts a
	// new frame. The default is 10 minutes (with IndependentFrames, 1
	// minute): a reader reaches any moment by decoding one frame and
	// folding at most that much from its keyframe, about 15 ms for 1,000
	// sessions (BENCHMARKS.md).
	KeyframeInterval time.Duration

	// Keyframer produces keyframes. When nil, no keyframes are written and
	// a reader must fold a recording from the start of each file.
	Keyframer Keyframer

	// MaxFileBytes makes CreateDir start a new file once the current one
	// holds this many bytes of compressed output. The default is 64 MiB; a
	// negative value never rotates by size. Create ignores it.
	MaxFileBytes int64

	// MaxFileAge makes CreateDir start a new file for the first record whose
	// time is at least the current file's start plus MaxFileAge. The default
	// is 1 hour; a negative value never rotates by age. Create ignores it.
	MaxFileAge time.Duration

	// RetainBytes and RetainAge bound what CreateDir keeps in its directory:
	// after each rotation (and at start) the oldest recordings of this
	// Worker are deleted while the recordings together exceed RetainBytes,
	// or while a recording's last record is older than RetainAge. Only
	// files named like this Worker's recordings are considered, and the
	// file being written is never deleted. The defaults are 1 GiB and 7
	// days; a negative value disables the cap. Create ignores them.
	RetainBytes int64
	RetainAge   time.Duration

	// Clock, when set, replaces the wall clock, so that the same records
	// produce byte-for-byte the same files: it is meant for fixture
	// generators and tests, not live workers. Clock is read once, by Create
	// or CreateDir, for the first file's start; from then on the
	// recorder's time is the latest record time it has written (or that
	// start, if later), which names rotated files and times the writer's
	// own records. Frame, keyframe and rotation decisions use record times,
	// no background timer runs, and Handle waits for room in the queue
	// instead of dropping.
	Clock func() time.Time

	// Worker is the name prefix of the files CreateDir writes:
	// <Worker>-<UTC start time>.zst, such as
	// "w1-20261127T031200.123Z.zst". The default is "recording".
	Worker string

	// PID and Host say who writes the recording; with Worker they are
	// stored in every file's header, so that readers can tell the files of
	// different workers apart ([GroupWorkers]) from their first bytes. The
	// defaults are this process's ID and os.Hostname; fixture generators
	// set them so that their files do not depend on the machine.
	PID  int
	Host string

	// FileClosed, when set, is called with the path of each file of a
	// CreateDir recording once it is complete (footer written, synced and
	// closed): at each rotation and at Close. It runs on the recorder's
	// writer goroutine, so it must return at once: hand the path to a
	// goroutine of your own (an uploader does).
	FileClosed func(path string)

	// Keep, when set, protects files of a CreateDir recording from the
	// retention caps: a file for which it returns true is neither deleted
	// nor counted against RetainBytes. An uploader keeps what it has not
	// uploaded yet, so the caps apply only to what is safe elsewhere. It is
	// called on the writer goroutine at each rotation and must be quick.
	Keep func(path string) bool

	// wrap, when set by a test, wraps every file the recorder opens, to
	// stall or fail its writes.
	wrap func(outFile) outFile
}

// settings are Options with every default applied.
type settings struct {
	Options
	queueBlocks bool
}

func (o *Options) resolve() settings {
	var s settings
	if o != nil {
		s.Options = *o
	}
	if s.Level == nil {
		s.Level = slog.LevelDebug
	}
	defDur := func(d *time.Duration, def time.Duration) {
		if *d == 0 {
			*d = def
		}
	}
	defDur(&s.FlushInterval, DefaultFlushInterval)
	if s.IndependentFrames {
		defDur(&s.KeyframeInterval, legacyKeyframeInterval)
	}
	defDur(&s.KeyframeInterval, DefaultKeyframeInterval)
	defDur(&s.SyncInterval, DefaultSyncInterval)
	defDur(&s.MaxFileAge, DefaultMaxFileAge)
	defDur(&s.RetainAge, DefaultRetainAge)
	if s.FlushInterval < 0 {
		s.FlushInterval = DefaultFlushInterval
	}
	if s.KeyframeInterval < 0 {
		s.KeyframeInterval = DefaultKeyframeInterval
	}
	if s.FrameBytes <= 0 {
		s.FrameBytes = DefaultFrameBytes
		if s.IndependentFrames {
			s.FrameBytes = legacyFrameBytes
		}
	}
	s.FrameBytes = min(s.FrameBytes, maxFrameBytes)
	if s.EncoderLevel == 0 {
		s.EncoderLevel = zstd.SpeedBetterCompression
		if s.IndependentFrames {
			s.EncoderLevel = zstd.SpeedDefault
		}
	}
	if s.QueueBytes <= 0 {
		s.QueueBytes = DefaultQueueBytes
	}
	if s.QueueRecords <= 0 {
		s.QueueRecords = DefaultQueueRecords
	}
	if s.MaxFileBytes == 0 {
		s.MaxFileBytes = DefaultMaxFileBytes
	}
	if s.RetainBytes == 0 {
		s.RetainBytes = DefaultRetainBytes
	}
	if s.Worker == "" {
		s.Worker = DefaultWorker
	}
	if s.PID == 0 {
		s.PID = os.Getpid()
	}
	if s.Host == "" {
		s.Host, _ = os.Hostname()
	}
	s.queueBlocks = s.Clock != nil
	return s
}
