package introspect

import (
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/openrtc-go/introspect/recorder"
)

// Options configure an [Introspector]. The zero value is the sensible
// default: introspection on, OpenRTC's thresholds, console logging, the live
// socket at its default path and no recording.
type Options struct {
	// Disabled turns introspection off entirely: nothing samples, nothing is
	// logged or served, and Begin only passes the context through. The
	// environment variable OPENRTC_INTROSPECT=off has the same effect, so an
	// operator can disable it without a rebuild.
	Disabled bool

	// Worker names the worker in events, the socket file and recordings.
	// Empty means the executable's name.
	Worker string

	// MaxSessions is the worker's session limit, shown as "n / max" in top.
	// Zero means no limit is shown.
	MaxSessions int

	// SampleInterval is how often memory, vitals and goroutines are sampled.
	// Zero means 1s, as in OpenRTC.
	SampleInterval time.Duration

	// CPUWindow is the length of each CPU profile window from which
	// per-session CPU shares are counted. Zero means 5s, shortened to
	// SampleInterval while someone watches the live view (for 30s after
	// each read of the socket), so that cpu% follows the screen's refresh.
	// Each stop and restart of the profiler allocates about 2 MB (the
	// runtime's profile buffer and runtime/pprof's gzip writer), garbage
	// that costs a worker of 1,000 sessions about 0.4 % of a core per
	// window a second in GC work and page faults: long windows are most of
	// what keeps introspection's overhead under 0.5 % of a core.
	CPUWindow time.Duration

	// CPUEvery, when longer than CPUWindow, samples CPU in one window per
	// CPUEvery instead of back to back, which leaves the profiler free
	// between windows and runs it a fraction of the time. cpu_pct then
	// describes the latest window, cpu_seconds is estimated by scaling each
	// window to CPUEvery, and a scheduler stall outside a window is not
	// attributed. Zero means back-to-back windows, which cover nearly all
	// the time.
	//
	// It does not make room for another profiler: a StartCPUProfile that
	// lands in a gap wins, one that lands in a window fails, and a profiler
	// that retries every 10 s beside CPUEvery 10s meets the same point of
	// the cycle at every try (measured: all or none of its tries). A
	// profiler that gets in keeps the profiler while it restarts back to
	// back, and introspection's CPU goes unsampled (stated, not lost).
	// Take profiles from Introspector.CPUProfile, or declare the profiler
	// with CPUOwner, instead.
	CPUEvery time.Duration

	// DisableCPU leaves the CPU profiler alone: no per-session CPU, no
	// attribution of scheduler stalls. Rather than this, an application
	// that takes CPU profiles itself can take them from introspection
	// (Introspector.CPUProfile, CPUProfileHandler), and one that runs
	// another profiler can declare it (CPUOwner): both keep the CPU column.
	DisableCPU bool

	// CPUOwner declares that another profiler owns the process's CPU
	// profiler: a push-mode profiler such as pyroscope-go or Datadog's,
	// which restart their CPU profile back to back, so that introspection
	// could only take it from them. Introspection then never starts the CPU
	// profiler; the CPU column says "cpu: owned by <CPUOwner>" (on screen,
	// in the live snapshot and in the recording) instead of going blank;
	// memory and stalls work as ever; and where the owner's uploads pass
	// through [ProfileUploads], CPU is attributed from its
	// profiles. Without it introspection finds the owner by itself (from
	// the goroutine that started the running profile) and backs off, but a
	// profiler started after introspection fails to start (or, if it stops
	// introspection's profile first, costs one of its windows), and the
	// CPU of the time introspection stands aside is in no session's
	// cpu_seconds (stated as unsampled). It is also the way for a library
	// that only calls pprof.StartCPUProfile, which would otherwise never
	// get the profiler.
	CPUOwner string

	// HideSessionLabel keeps the session id out of the profiles that other
	// profilers see, keeping agent and tenant: an unbounded label value is
	// a cardinality problem for a fleet profiler (Pyroscope's maintainers
	// advise against one). The profiles introspection serves
	// (CPUProfileHandler, CPUProfile) always drop it; and with CPUOwner set,
	// Begin does not put it on the session's goroutines at all, since the
	// owner profiles them itself. That costs introspection's own per-session
	// CPU (cpu_pct, cpu_seconds) and goroutine counts, which come from
	// those labels; memory shares and stalls on loops and mutexes, whose
	// holder is named at Enter, keep their session (the holder carries the
	// label only while it holds).
	HideSessionLabel bool

	// SlowThreshold is how long a session may hold a watched loop or section,
	// or the scheduler may lag, before it is a stall. Zero means 50ms, as in
	// OpenRTC.
	SlowThreshold time.Duration

	// SlowWindow is how long a session shows "slow" after a stall. Zero
	// means 5s, as in OpenRTC.
	SlowWindow time.Duration

	// Record is where to record every event: a file (a name ending in .zst)
	// or a directory, in which recordings rotate and are retained within
	// the caps of RecordOptions. Empty means no recording.
	Record string

	// RecordOptions tune the recorder; nil means its defaults.
	RecordOptions *recorder.Options

	// Logger receives lifecycle and stall events (and samples and keyframes
	// at DEBUG, when it is enabled for them). Nil means a console logger at
	// INFO on stderr: github.com/lmittmann/tint when stderr is a terminal,
	// slog's JSON handler when it is not.
	Logger *slog.Logger

	// Upload, when set, takes each closed file of the recording elsewhere
	// (bucket.NewUploader: S3, GCS, Azure, a directory), so that it
	// survives the worker's disk. Record must name a directory. The
	// retention caps of RecordOptions then apply only to files uploaded.
	Upload RecordingUploader

	// Observers are told of every event, as it is emitted: the way to feed
	// metrics (package prom) or anything else that folds events, without a
	// second measurement path. Nil costs nothing.
	Observers []Observer

	// Socket is the path of the private Unix socket that serves the live
	// view to `openrtc-replay live`. Empty means DefaultSocketPath(Worker);
	// "off" serves nothing. Its directory is created with mode 0700 when
	// missing; an existing one must be ours and closed to group and others,
	// or Start fails (see live.Listen). The snapshot is OpenRTC's, with our fields
	// added, so OpenRTC's `openrtc top --socket PATH` reads it too, up to
	// about 170 sessions: its client reads one line of at most 64 KiB.
	Socket string

	// watchedCPUWindow, when set, is the CPU window while the live view is
	// watched (CPUWindow was left to its default).
	watchedCPUWindow time.Duration
}

// SocketOff is the value of [Options.Socket] that serves no live view.
const SocketOff = "off"

const (
	defaultSampleInterval = time.Second
	defaultSlowThreshold  = 50 * time.Millisecond
	defaultSlowWindow     = 5 * time.Second
	defaultCPUWindow      = 5 * time.Second
	// watchedFor is how long a read of the live socket keeps CPU windows
	// short: a few refreshes of a screen that polls every second or two.
	watchedFor = 30 * time.Second
)

func (o Options) withDefaults() Options {
	if o.Worker == "" {
		o.Worker = executableName()
	}
	if o.SampleInterval <= 0 {
		o.SampleInterval = defaultSampleInterval
	}
	if o.CPUWindow <= 0 {
		o.CPUWindow, o.watchedCPUWindow = max(defaultCPUWindow, o.SampleInterval), o.SampleInterval
	}
	if o.SlowThreshold <= 0 {
		o.SlowThreshold = defaultSlowThreshold
	}
	if o.SlowWindow <= 0 {
		o.SlowWindow = defaultSlowWindow
	}
	if disabledByEnv() {
		o.Disabled = true
	}
	return o
}

func disabledByEnv() bool {
	switch strings.ToLower(os.Getenv("OPENRTC_INTROSPECT")) {
	case "off", "0", "false", "no", "disabled":
		return true
	}
	return false
}

func executableName() string {
	exe, err := os.Executable()
	if err != nil {
		return "worker"
	}
	name := exe[strings.LastIndexByte(exe, '/')+1:]
	if name == "" {
		return "worker"
	}
	return name
}
