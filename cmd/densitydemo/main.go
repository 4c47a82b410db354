// Command densitydemo is a demo worker: many concurrent sessions in one
// process, introspected through the public API exactly as a user would, with
// culprits of each kind the density-debugging runbook covers. It records to a
// file and serves the live view, until interrupted or for --duration.
//
//	go run ./cmd/densitydemo --sessions 120 --blocker --cpu-hog --leak --record /tmp/demo.zst
//	go run ./cmd/openrtc-replay live      # in another terminal
//
// The well-behaved sessions run a 20ms frame loop with a little CPU per frame
// and take a short turn on a shared mixer loop (one goroutine, like an event
// loop), and sessions end and start over time (--churn). The culprits are
// named so the runbook can point at them:
//
//   - call-blocker (--blocker) holds the mixer loop with a synchronous call
//     of --block-for every --block-every: every session's frames wait.
//   - call-cpuhog (--cpu-hog) burns --hog-share of a core.
//   - call-leaker (--leak) leaks a goroutine and --leak-bytes every
//     --leak-every.
//
// The console gets lifecycle and stall events (with --quiet, stalls only) as
// slog text lines, so `grep slow-session` works on it. The bundled
// incident, fixtures/incident.zst, is a recording of this worker made by
// scripts/make-incident.sh (see fixtures/README.md).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/openrtc-go/introspect"
	_ "gocloud.dev/blob/fileblob" // --upload file:///dir
	_ "gocloud.dev/blob/s3blob"   // --upload s3://bucket/prefix

	"github.com/openrtc-go/introspect/bucket"
	"github.com/openrtc-go/introspect/internal/workload"
	"github.com/openrtc-go/introspect/prom"
)

func main() {
	switch err := run(os.Args[1:]); {
	case err == nil, errors.Is(err, flag.ErrHelp):
	case errors.Is(err, errUsage):
		os.Exit(2) // the flag package has said what was wrong
	default:
		fmt.Fprintln(os.Stderr, "densitydemo:", err)
		os.Exit(1)
	}
}

// errUsage is a bad command line, already reported by the flag package.
var errUsage = errors.New("usage")

func run(args []string) error {
	fs := flag.NewFlagSet("densitydemo", flag.ContinueOnError)
	var (
		cfg         = workload.Config{MixerLoop: true}
		duration    = fs.Duration("duration", 0, "run for this long, then stop cleanly (0: until interrupted)")
		record      = fs.String("record", "", "record every event to this .zst file or directory")
		socket      = fs.String("socket", "", `live socket path ("": the default path for --worker, "off": none)`)
		worker      = fs.String("worker", "densitydemo", "worker name")
		threshold   = fs.Duration("slow-threshold", 50*time.Millisecond, "slow-session threshold")
		quiet       = fs.Bool("quiet", false, "log only warnings (stalls) to the console")
		printSocket = fs.Bool("print-socket", false, "print the default socket path for --worker and exit")
		inlineMixer = fs.Bool("inline-mixer", false, "mix on each session's goroutine instead of one shared mixer loop (holds are watched, nobody waits)")
		sampleEvery = fs.Duration("sample-interval", 0, "introspection sample interval (0: 1s)")
		pprofAddr   = fs.String("pprof", "", "serve net/http/pprof (its CPU profile from introspection's windows) on this address, such as localhost:6060 (\"\": none)")
		maxSessions = fs.Int("max-sessions", 0, `the worker's session limit, shown as "n / max" (0: none)`)
		uploadURL   = fs.String("upload", "", "upload each closed recording file to this bucket URL (s3://bucket/prefix?region=..., file:///dir); needs --record DIR")
		metricsAddr = fs.String("metrics", "", "serve Prometheus metrics at /metrics on this address, such as localhost:9464 (\"\": none)")
	)
	fs.IntVar(&cfg.Sessions, "sessions", 100, "well-behaved sessions kept live at once")
	fs.Float64Var(&cfg.Churn, "churn", 0.02, "fraction of sessions replaced per second (at least one a second when > 0)")
	fs.DurationVar(&cfg.FrameWork, "frame-work", 50*time.Microsecond, "CPU each well-behaved frame burns (a tenth more on the mixer)")
	fs.DurationVar(&cfg.CulpritsAfter, "culprits-after", 0, "start the culprits this long after the worker, so the recording begins healthy")
	fs.BoolVar(&cfg.Blocker, "blocker", false, "add call-blocker, which holds the shared mixer loop with a synchronous call")
	fs.DurationVar(&cfg.BlockFor, "block-for", 400*time.Millisecond, "how long call-blocker holds the mixer")
	fs.DurationVar(&cfg.BlockEvery, "block-every", 3*time.Second, "how often call-blocker holds the mixer")
	fs.BoolVar(&cfg.CPUHog, "cpu-hog", false, "add call-cpuhog, a CPU-hot session")
	fs.Float64Var(&cfg.HogShare, "hog-share", 0.8, "share of one core call-cpuhog burns (at most 1)")
	fs.BoolVar(&cfg.Leaker, "leak", false, "add call-leaker, which leaks goroutines and memory")
	fs.DurationVar(&cfg.LeakEvery, "leak-every", 200*time.Millisecond, "how often call-leaker leaks")
	fs.IntVar(&cfg.LeakBytes, "leak-bytes", 256<<10, "bytes each leaked goroutine keeps")
	fs.Uint64Var(&cfg.Seed, "seed", 1, "seed for agents, tenants and churn")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (flags only; see -h)", fs.Arg(0))
	}
	if err := checkFlags(cfg); err != nil {
		fmt.Fprintln(os.Stderr, "densitydemo:", err)
		return errUsage
	}
	cfg.MixerLoop = !*inlineMixer
	if *printSocket {
		fmt.Println(introspect.DefaultSocketPath(*worker))
		return nil
	}

	level := slog.LevelInfo
	if *quiet {
		level = slog.LevelWarn
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	var observers []introspect.Observer
	var metrics *prom.Collector
	if *metricsAddr != "" {
		metrics = prom.New(prom.Options{})
		observers = append(observers, metrics)
	}
	var upload introspect.RecordingUploader
	if *uploadURL != "" {
		up, err := bucket.NewUploader(context.Background(), bucket.UploadOptions{URL: *uploadURL, Logger: logger})
		if err != nil {
			return err
		}
		upload = up
	}
	in, err := introspect.Start(introspect.Options{
		Upload:         upload,
		Observers:      observers,
		Worker:         *worker,
		MaxSessions:    *maxSessions,
		Record:         *record,
		Socket:         *socket,
		SlowThreshold:  *threshold,
		SampleInterval: *sampleEvery,
		Logger:         logger,
	})
	if err != nil {
		return err
	}
	if *socket != introspect.SocketOff {
		path := *socket
		if path == "" {
			path = introspect.DefaultSocketPath(*worker)
		}
		fmt.Fprintf(os.Stderr, "densitydemo: live view: openrtc-replay live --socket %s\n", path)
	}
	if metrics != nil {
		ln, err := net.Listen("tcp", *metricsAddr)
		if err != nil {
			in.Close()
			return fmt.Errorf("metrics: %w", err)
		}
		defer ln.Close()
		fmt.Fprintf(os.Stderr, "densitydemo: metrics: http://%s/metrics\n", ln.Addr())
		mux := http.NewServeMux()
		mux.Handle("/metrics", metrics.Handler())
		go http.Serve(ln, mux)
	}
	if *pprofAddr != "" {
		ln, err := net.Listen("tcp", *pprofAddr)
		if err != nil {
			in.Close()
			return fmt.Errorf("pprof: %w", err)
		}
		defer ln.Close()
		fmt.Fprintf(os.Stderr, "densitydemo: pprof: http://%s/debug/pprof/\n", ln.Addr())
		// net/http/pprof's handlers, but the CPU profile from
		// introspection's own windows: its runtime profile would fail
		// while introspection holds the CPU profiler.
		mux := http.NewServeMux()
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
		mux.Handle("/debug/pprof/profile", in.CPUProfileHandler())
		go http.Serve(ln, mux)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *duration)
		defer cancel()
	}
	// The recording stops first, with every session still live, so that it
	// ends at the height of the incident (as when a worker is restarted
	// with its calls on it) rather than on an empty table; then the
	// sessions wind down.
	wctx, stopWork := context.WithCancel(context.Background())
	done := make(chan workload.Stats, 1)
	go func() { done <- workload.Run(wctx, in, cfg) }()
	<-ctx.Done()
	err = in.Close()
	stopWork()
	st := <-done
	fmt.Fprintf(os.Stderr, "densitydemo: %d sessions, %d frames, %d goroutines leaked\n", st.Sessions, st.Frames, st.Leaked)
	return err
}

// checkFlags refuses the numbers the workload cannot run with, in one line,
// rather than letting them panic or misbehave later.
func checkFlags(cfg workload.Config) error {
	switch {
	case cfg.Sessions < 0:
		return fmt.Errorf("--sessions %d: want 0 or more", cfg.Sessions)
	case cfg.Churn < 0:
		return fmt.Errorf("--churn %g: want 0 or more", cfg.Churn)
	case cfg.FrameWork < 0:
		return fmt.Errorf("--frame-work %s: want 0 or more", cfg.FrameWork)
	case cfg.HogShare < 0 || cfg.HogShare > 1:
		return fmt.Errorf("--hog-share %g: want 0 to 1", cfg.HogShare)
	case cfg.Blocker && (cfg.BlockFor <= 0 || cfg.BlockEvery <= 0):
		return fmt.Errorf("--block-for and --block-every: want positive durations")
	case cfg.Leaker && (cfg.LeakEvery <= 0 || cfg.LeakBytes < 0):
		return fmt.Errorf("--leak-every: want a positive duration, --leak-bytes 0 or more")
	}
	return nil
}
