package introspect

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lmittmann/tint"
	"golang.org/x/term"

	"github.com/openrtc-go/introspect/events"
	"github.com/openrtc-go/introspect/fold"
	"github.com/openrtc-go/introspect/live"
	"github.com/openrtc-go/introspect/recorder"
	"github.com/openrtc-go/introspect/sampler"
	"github.com/openrtc-go/introspect/stall"
)

// An Introspector watches the sessions of one worker. Create one per process
// with [Start] and stop it with [Introspector.Close]. Its methods are safe for
// concurrent use, and a nil *Introspector behaves as a disabled one.
type Introspector struct {
	opts Options
	off  bool

	smu   sync.Mutex
	live  map[string]string // live session id → agent
	anon  uint64
	epoch uint64 // sessions begun and ended, see sessionEpoch

	fmu       sync.Mutex // guards state and lastT, and orders events into the recording
	state     *fold.State
	lastT     time.Time
	dropsSeen int64 // recorder drops already told to observers

	console  slog.Handler
	out      slog.Handler // console, plus the recorder when recording: for Handler
	rec      *recorder.Recorder
	watchdog *stall.Watchdog
	server   *live.Server
	host     *sampler.Host // the host's vitals for the socket's snapshot
	// watchedAt is when the live view was last read (Unix nanoseconds):
	// CPU windows are short while someone watches.
	watchedAt atomic.Int64
	sampler   *sampleLoop

	cancel    context.CancelFunc
	wg        sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
}

// Start starts introspecting the process with the given options: it announces
// the worker, starts sampling memory, CPU and the scheduler, starts the
// watchdog for loops and sections, opens the recording and serves the live
// view on the socket. With Options.Disabled (or OPENRTC_INTROSPECT=off) it
// starts nothing and returns an Introspector whose methods do nothing.
//
// Start fails when the recording cannot be created or the socket cannot be
// served (another running worker serves the same path, or its directory is
// not private); nothing is left running then.
func Start(opts Options) (*Introspector, error) {
	opts = opts.withDefaults()
	in := &Introspector{opts: opts, off: opts.Disabled}
	if in.off {
		return in, nil
	}
	in.live = make(map[string]string)
	in.state = fold.New()

	console := consoleHandler(opts.Logger)
	in.console, in.out = console, console
	if opts.Upload != nil && !recordsToDir(opts.Record) {
		return nil, errUploadNeedsDir
	}
	if opts.Record != "" {
		rec, err := openRecording(opts.Record, opts.Worker, opts.RecordOptions, opts.Upload)
		if err != nil {
			return nil, err
		}
		in.rec = rec
		in.out = slog.NewMultiHandler(console, rec)
	}
	if opts.Socket != SocketOff {
		path := opts.Socket
		if path == "" {
			path = live.DefaultSocketPath(opts.Worker)
		}
		ln, err := live.Listen(path)
		if err != nil {
			in.closeRecording()
			return nil, fmt.Errorf("introspect: live socket: %w", err)
		}
		in.host = sampler.NewHost()
		in.server = live.Serve(ln, in.snapshot, live.ServerOptions{OnError: in.socketError})
	}

	host, _ := os.Hostname()
	in.emit(events.WorkerStart{
		Worker: opts.Worker, PID: os.Getpid(), Host: host, GoVersion: runtime.Version(),
		MaxSessions: opts.MaxSessions,
		Config: events.Config{
			SampleInterval: opts.SampleInterval, CPUWindow: opts.CPUWindow,
			SlowThreshold: opts.SlowThreshold, SlowWindow: opts.SlowWindow,
			KeyframeInterval: keyframeInterval(opts.RecordOptions),
		},
	})

	in.warnPprofHandler()
	sl, err := newSampleLoop(in)
	if err != nil {
		in.closeServer()
		in.closeRecording()
		return nil, err
	}
	wopts := stall.Options{Threshold: opts.SlowThreshold, Report: in.reportStall}
	if sl.cpu != nil {
		// A hold's final report waits for the CPU window that covers its
		// end, to tell a holder that ran from one that waited for a CPU.
		wopts.CPU = sl.history.seen
		wopts.CPUWait = in.cpuWait()
	}
	in.watchdog = stall.New(wopts)
	// The sessions' enters pin a stop's ends where the probe's own
	// goroutines, queued behind them, cannot.
	sl.probe.Watchdog = in.watchdog
	ctx, cancel := context.WithCancel(context.Background())
	in.cancel = cancel
	in.sampler = sl
	running.Store(in)
	in.wg.Add(1)
	go func() {
		defer in.wg.Done()
		sl.run(ctx)
	}()
	return in, nil
}

// cpuWait is how long a stall's final report waits for the CPU windows that
// cover it: a few windows, since the sampler may starve too.
func (in *Introspector) cpuWait() time.Duration {
	return 3*in.opts.CPUWindow + 2*time.Second
}

// Close stops introspection: it stops sampling (the CPU window it cuts
// short goes out in one last sample, so the sessions' CPU seconds run to the
// end) and the watchdog, writes the clean-shutdown marker, closes the
// recording and removes the socket. It is safe to call more than once.
func (in *Introspector) Close() error {
	if in == nil || in.off {
		return nil
	}
	in.closeOnce.Do(func() {
		running.CompareAndSwap(in, nil)
		in.cancel()
		in.wg.Wait()
		in.watchdog.Close()
		in.emit(events.WorkerStop{Reason: "closed"})
		err := in.closeServer()
		in.closeErr = errors.Join(err, in.closeRecording())
	})
	return in.closeErr
}

func (in *Introspector) closeServer() error {
	if in.server == nil {
		return nil
	}
	return in.server.Close()
}

func (in *Introspector) closeRecording() error {
	if in.rec == nil {
		return nil
	}
	err := in.rec.Close()
	if in.opts.Upload != nil {
		err = errors.Join(err, in.opts.Upload.Close())
	}
	return err
}

// Handler returns the handler introspection logs to: the console and, when
// recording, the recording. An application may log its own records through
// it (slog.New(in.Handler())) so they land in the recording beside the
// introspector's events. On a nil or disabled Introspector it returns a
// handler that discards everything.
func (in *Introspector) Handler() slog.Handler {
	if in == nil || in.off {
		return slog.DiscardHandler
	}
	return in.out
}

// View returns the live top view: the same fold openrtc-replay computes from
// a recording, at the current time.
func (in *Introspector) View() fold.View {
	if in == nil || in.off {
		return fold.View{Time: time.Now(), Sessions: []fold.Row{}}
	}
	in.fmu.Lock()
	defer in.fmu.Unlock()
	return in.state.View(time.Now())
}

// snapshot is the socket's payload: the live view as one JSON object, with
// the host's vitals that OpenRTC's header shows.
func (in *Introspector) snapshot() []byte {
	in.watchedAt.Store(time.Now().UnixNano())
	v := in.View()
	if in.host != nil {
		vit, hist := in.host.Read()
		v.Worker.System, v.Worker.HostCPUHistory = hostSystem(vit), hist
	}
	b, err := json.Marshal(v)
	if err != nil {
		return []byte(`{"error":` + fmt.Sprintf("%q", err.Error()) + `}`)
	}
	return b
}

// emit stamps e with the current time, folds it into the live state and logs
// it. Stamping, folding and queueing for the recording happen under one lock,
// so the recording's times never go backwards and replay, which folds up to
// the first record past the moment asked for, misses nothing. The recorder
// only queues, so the lock is never held over I/O; the console, which may
// block on a slow terminal, is written outside it.
//
// The fold is applied to the typed event directly; replay applies the same
// event decoded from its JSON line, and the events package's round-trip
// tests keep the two equal.
func (in *Introspector) emit(e events.Event) {
	ctx := context.Background()
	in.fmu.Lock()
	t := time.Now()
	if t.Before(in.lastT) {
		t = in.lastT // the wall clock stepped back
	}
	in.lastT = t
	d := events.Decoded{Time: t, Level: e.Level(), Kind: e.Kind(), V: events.SchemaVersion, Event: e}
	in.state.Apply(d)
	if len(in.opts.Observers) > 0 {
		in.observe(d)
		if d.Kind == events.KindSample {
			in.observeDrops(d)
		}
	}
	r := events.Record(t, e)
	if in.rec != nil && in.rec.Enabled(ctx, e.Level()) {
		_ = in.rec.Handle(ctx, r)
	}
	in.fmu.Unlock()
	if in.console.Enabled(ctx, e.Level()) {
		_ = in.console.Handle(ctx, r)
	}
}

// socketError reports a problem serving the live view (a refused peer, a
// client that stopped reading) on the console at DEBUG: it is not an event
// of the worker and is not recorded.
func (in *Introspector) socketError(err error) {
	ctx := context.Background()
	if in.console.Enabled(ctx, slog.LevelDebug) {
		r := slog.NewRecord(time.Now(), slog.LevelDebug, "live socket", 0)
		r.AddAttrs(slog.String("error", err.Error()))
		_ = in.console.Handle(ctx, r)
	}
}

func consoleHandler(l *slog.Logger) slog.Handler {
	if l != nil {
		return l.Handler()
	}
	if term.IsTerminal(int(os.Stderr.Fd())) {
		return tint.NewTextHandler(os.Stderr, &tint.Options{Level: slog.LevelInfo, TimeFormat: time.TimeOnly})
	}
	return slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo})
}

// openRecording opens a file when path names one (it ends in .zst), and a
// directory of rotated recordings otherwise.
func openRecording(path, worker string, ro *recorder.Options, up RecordingUploader) (*recorder.Recorder, error) {
	var o recorder.Options
	if ro != nil {
		o = *ro
	}
	if o.Worker == "" {
		o.Worker = worker
	}
	if up != nil {
		host := o.Host // as the recorder writes it in each file's header
		if host == "" {
			host, _ = os.Hostname()
		}
		if err := startUpload(up, path, recorder.WorkerID{Name: o.Worker, Host: host}); err != nil {
			return nil, err
		}
		o.FileClosed, o.Keep = up.FileClosed, up.Keep
	}
	// The recorder's keyframer is its own fold, fed by its writer with exactly
	// the lines it writes, so keyframes match the file.
	o.Keyframer = fold.New()
	var rec *recorder.Recorder
	var err error
	if strings.HasSuffix(path, ".zst") {
		if dir := filepath.Dir(path); dir != "" {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return nil, fmt.Errorf("introspect: recording: %w", err)
			}
		}
		rec, err = recorder.Create(path, &o)
	} else {
		rec, err = recorder.CreateDir(path, &o)
	}
	if err != nil {
		if up != nil {
			_ = up.Close()
		}
		return nil, fmt.Errorf("introspect: recording: %w", err)
	}
	return rec, nil
}

func keyframeInterval(o *recorder.Options) time.Duration {
	if o != nil && o.KeyframeInterval > 0 {
		return o.KeyframeInterval
	}
	return recorder.DefaultKeyframeInterval
}

// hostSystem is the snapshot's form of a host reading.
func hostSystem(h sampler.HostVitals) *fold.System {
	return &fold.System{
		Available: h.Available, CPUPct: h.CPUPct, VCPUs: h.VCPUs,
		MemUsedBytes: h.MemUsedBytes, MemTotalBytes: h.MemTotalBytes,
		SwapUsedBytes: h.SwapUsedBytes, SwapTotalBytes: h.SwapTotalBytes,
		Load1: h.Load1, Load5: h.Load5, Load15: h.Load15, NetRateBps: h.NetRateBps,
	}
}
