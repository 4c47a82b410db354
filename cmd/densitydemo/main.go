// Command densitydemo is a demo worker: many concurrent sessions in one
// process, introspected through the public API exactly as a user would, with
// culprits of each kind the density-debugging runbook covers. It records to a
// file and serves the live view, until interrupted or for --duration.
//
//	go run ./cmd/densitydemo --sessions 200 --blocker --cpu-hog --leak --record /tmp/demo.zst
//	openrtc-replay live --socket "$(go run ./cmd/densitydemo --print-socket)"
//
// The bundled incident, fixtures/incident.zst, is a recording of this worker
// (see fixtures/README.md for the command that makes it).
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/openrtc-go/introspect"
	"github.com/openrtc-go/introspect/internal/workload"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "densitydemo:", err)
		os.Exit(1)
	}
}

func run() error {
	var (
		cfg         workload.Config
		duration    = flag.Duration("duration", 0, "run for this long, then stop cleanly (0: until interrupted)")
		record      = flag.String("record", "", "record every event to this .zst file or directory")
		socket      = flag.String("socket", "", `live socket path ("" default path, "off" none)`)
		worker      = flag.String("worker", "densitydemo", "worker name")
		threshold   = flag.Duration("slow-threshold", 50*time.Millisecond, "slow-session threshold")
		quiet       = flag.Bool("quiet", false, "log only warnings (stalls) to the console")
		printSocket = flag.Bool("print-socket", false, "print the default socket path for --worker and exit")
	)
	flag.IntVar(&cfg.Sessions, "sessions", 100, "well-behaved sessions kept live at once")
	flag.Float64Var(&cfg.Churn, "churn", 0.02, "fraction of sessions replaced per second")
	flag.BoolVar(&cfg.Blocker, "blocker", false, "add a session that holds the shared mixer loop with a synchronous call")
	flag.DurationVar(&cfg.BlockFor, "block-for", 300*time.Millisecond, "how long the blocker holds the loop")
	flag.DurationVar(&cfg.BlockEvery, "block-every", 5*time.Second, "how often the blocker holds the loop")
	flag.BoolVar(&cfg.CPUHog, "cpu-hog", false, "add a CPU-hot session")
	flag.Float64Var(&cfg.HogShare, "hog-share", 0.8, "share of one core the CPU-hot session burns")
	flag.BoolVar(&cfg.Leaker, "leak", false, "add a session that leaks goroutines and memory")
	flag.Uint64Var(&cfg.Seed, "seed", 1, "seed for session ids and churn")
	flag.Parse()
	if flag.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (flags only; see -h)", flag.Arg(0))
	}
	if *printSocket {
		fmt.Println(introspect.DefaultSocketPath(*worker))
		return nil
	}

	level := slog.LevelInfo
	if *quiet {
		level = slog.LevelWarn
	}
	in, err := introspect.Start(introspect.Options{
		Worker:        *worker,
		Record:        *record,
		Socket:        *socket,
		SlowThreshold: *threshold,
		Logger:        slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})),
	})
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *duration)
		defer cancel()
	}
	st := workload.Run(ctx, in, cfg)
	err = in.Close()
	fmt.Fprintf(os.Stderr, "densitydemo: %d sessions, %d frames\n", st.Sessions, st.Frames)
	return err
}
