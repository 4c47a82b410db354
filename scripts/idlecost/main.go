// Command idlecost measures what introspection costs a worker whose sessions
// do nothing: its own wake-ups and work, with nothing of the workload's
// beside them. Every tick of a background goroutine there wakes a thread
// that would sleep (a futex wake, a context switch), which in a virtual
// machine costs far more than the tick's own work; beside a busy workload
// the same tick finds a thread awake, so this bounds such costs from above
// and names them where scripts/overhead's pairs cannot resolve them.
//
//	go run ./scripts/idlecost -mode on         # introspection with its defaults
//	go run ./scripts/idlecost -mode probe      # the scheduler probe alone
//
// Modes: off (nothing), on (introspection: recording, socket, CPU windows),
// nocpu (on with DisableCPU), norec (on without a recording), probe
// (stall.SchedProbe alone), watchdog (a stall.Watchdog alone, nothing
// held). Each begins -sessions sessions that wait for their context, waits
// 3 s, then prints the process's CPU (getrusage) and context switches a
// second over -dur. Run the modes alternately, several times: one run is
// as noisy as the machine.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/openrtc-go/introspect"
	"github.com/openrtc-go/introspect/stall"
)

func main() {
	mode := flag.String("mode", "on", "off, on, nocpu, norec, probe or watchdog")
	n := flag.Int("sessions", 1000, "sessions begun, each waiting for its context")
	dur := flag.Duration("dur", 10*time.Second, "measured stretch, after 3 s of warm-up")
	flag.Parse()
	if err := run(*mode, *n, *dur); err != nil {
		fmt.Fprintln(os.Stderr, "idlecost:", err)
		os.Exit(1)
	}
}

func run(mode string, n int, dur time.Duration) error {
	dir, err := os.MkdirTemp("", "idlecost-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var in *introspect.Introspector
	switch mode {
	case "off":
	case "on", "nocpu", "norec":
		o := introspect.Options{Worker: "idlecost", Socket: filepath.Join(dir, "live.sock"),
			Logger: slog.New(slog.DiscardHandler), DisableCPU: mode == "nocpu"}
		if mode != "norec" {
			o.Record = filepath.Join(dir, "rec.zst")
		}
		if in, err = introspect.Start(o); err != nil {
			return err
		}
		defer in.Close()
	case "probe":
		var p stall.SchedProbe
		done := make(chan struct{})
		defer func() { cancel(); <-done }()
		go func() { defer close(done); p.Run(ctx) }()
	case "watchdog":
		w := stall.New(stall.Options{Report: func(stall.Stall) {}})
		defer w.Close()
	default:
		return fmt.Errorf("unknown mode %q", mode)
	}
	for i := range n {
		go func() {
			sctx, end := in.Begin(ctx, fmt.Sprintf("idle-%05d", i))
			<-sctx.Done()
			end(nil)
		}()
	}
	time.Sleep(3 * time.Second)
	var a, b syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &a)
	time.Sleep(dur)
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &b)
	tv := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	cpu := tv(b.Utime) - tv(a.Utime) + tv(b.Stime) - tv(a.Stime)
	s := dur.Seconds()
	fmt.Printf("%-9s %6.3f %% of a core, %5.0f voluntary and %4.0f involuntary context switches/s, %4.0f page faults/s\n",
		mode, 100*cpu/s, float64(b.Nvcsw-a.Nvcsw)/s, float64(b.Nivcsw-a.Nivcsw)/s, float64(b.Minflt-a.Minflt)/s)
	return nil
}
