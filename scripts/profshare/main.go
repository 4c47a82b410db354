// Command profshare measures how a continuous CPU profiler of the
// application's own fares beside introspection: what fraction of its
// attempts to take the CPU profiler succeed, and what fraction of the
// process's CPU introspection then leaves unsampled (in no session's
// cpu_s, stated as unsampled).
//
// The profiler does what the common ones do, every -period (10 s) a profile
// of -period (so back to back once it has the profiler):
//
//   - -mode start-only: runtime/pprof.StartCPUProfile, and on failure the
//     next try a period later, as dd-trace-go's profiler, net/http/pprof's
//     /debug/pprof/profile hit by a scraper, or an application's own
//     StartCPUProfile do;
//   - -mode stop-first: pprof.StopCPUProfile, then StartCPUProfile, as
//     pyroscope-go's collector does at each upload (it stops whatever
//     profile runs).
//
// Introspection runs with its defaults (5 s windows), with -every (its
// Options.CPUEvery: one window per -every, the profiler free between them),
// or with -owner (Options.CPUOwner: it never takes the profiler). Two
// sessions keep 15 % of a core busy (several runs side by side on a small
// machine). The profiler starts at a random phase in its first period. At
// the end it prints one line:
//
//	go run ./scripts/profshare -mode start-only -dur 2m
//	go run ./scripts/profshare -mode start-only -every 30s -dur 2m
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"runtime/pprof"
	"sync/atomic"
	"time"

	"github.com/openrtc-go/introspect"
)

func main() {
	mode := flag.String("mode", "start-only", "start-only or stop-first")
	every := flag.Duration("every", 0, "introspect.Options.CPUEvery (0: back-to-back windows)")
	owner := flag.String("owner", "", "introspect.Options.CPUOwner (declare the profiler)")
	window := flag.Duration("window", 0, "introspect.Options.CPUWindow (0: its default, 5 s)")
	period := flag.Duration("period", 10*time.Second, "the profiler's period and profile length")
	dur := flag.Duration("dur", 2*time.Minute, "how long to run")
	flag.Parse()
	if *mode != "start-only" && *mode != "stop-first" {
		fmt.Fprintln(os.Stderr, "profshare: -mode must be start-only or stop-first")
		os.Exit(2)
	}

	in, err := introspect.Start(introspect.Options{
		Socket: introspect.SocketOff, Logger: slog.New(slog.DiscardHandler),
		CPUWindow: *window, CPUEvery: *every, CPUOwner: *owner,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "profshare:", err)
		os.Exit(1)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *dur)
	defer cancel()
	for _, s := range []struct {
		id   string
		duty float64
	}{{"busy", 0.1}, {"light", 0.05}} {
		sctx, end := in.Begin(ctx, s.id)
		go func() { defer end(nil); burn(sctx, s.duty) }()
	}

	// The continuous profiler, starting at a phase of its own, as an
	// application's would.
	var tries, wins int
	var held time.Duration
	time.Sleep(time.Second + time.Duration(rand.Int64N(int64(*period))))
	start := time.Now()
	for ctx.Err() == nil {
		tries++
		t0 := time.Now()
		if *mode == "stop-first" {
			pprof.StopCPUProfile()
		}
		var buf bytes.Buffer
		if err := pprof.StartCPUProfile(&buf); err == nil {
			wins++
			sleep(ctx, *period)
			pprof.StopCPUProfile()
			held += time.Since(t0)
			continue
		}
		sleep(ctx, *period-time.Since(t0))
	}
	wall := time.Since(start)
	h := in.View().Worker
	in.Close()
	// The header states the unsampled CPU, and the process's, once some
	// went unsampled.
	unsampled := "introspection sampled all the process's CPU"
	if h.UnsampledCPUS > 0 {
		unsampled = fmt.Sprintf("introspection left %.0f %% of the process's CPU unsampled (%.1f s of %.1f s, stated)",
			100*h.UnsampledCPUS/h.ProcessCPUS, h.UnsampledCPUS, h.ProcessCPUS)
	}
	fmt.Printf("mode=%s every=%v owner=%q window=%v: profiler %d/%d tries (%.0f %%), held the profiler %.0f %% of %v; %s\n",
		*mode, *every, *owner, *window, wins, tries, 100*float64(wins)/float64(max(tries, 1)),
		100*held.Seconds()/wall.Seconds(), wall.Round(time.Second), unsampled)
}

func sleep(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

var sink atomic.Uint64

// burn keeps a core busy duty of every 10 ms until ctx is done.
func burn(ctx context.Context, duty float64) {
	busy := time.Duration(duty * float64(10*time.Millisecond))
	for ctx.Err() == nil {
		t0 := time.Now()
		x := sink.Load()
		for time.Since(t0) < busy {
			for i := 0; i < 1000; i++ {
				x = x*6364136223846793005 + 1442695040888963407
			}
		}
		sink.Store(x)
		time.Sleep(10*time.Millisecond - busy)
	}
}
