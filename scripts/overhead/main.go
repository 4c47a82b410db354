// Command overhead measures what introspection costs a dense worker, in
// percent of one core, by the method BENCHMARKS.md describes: the synthetic
// worker (internal/workload: sessions on 20 ms tickers, each frame a FIXED
// number of SHA-256 blocks, so CPU per frame does not depend on how busy
// the machine is) runs as separate processes, one variant each, interleaved
//
//	off, X1, off, X2, …, Xn, off        (order of the X reversed every other round)
//
// and each X is paired with the mean of its two neighbouring off runs. CPU
// is the process's user+system time (getrusage) over a measured stretch
// after a warm-up, divided by the frames done in that stretch, so a run
// that got fewer frames (a busy machine delays timers) is not counted as
// cheaper. The overhead of X is (CPU per frame of X − CPU per frame of its
// off pair) × X's frame rate: what introspection adds, in cores.
//
// It prints one row per variant: the median of the paired differences and
// their spread (min to max), beside the rates that explain costs (voluntary
// context switches, page faults, GC cycles, per second).
//
//	go run ./scripts/overhead -rounds 6           # the table (about 2 min a round)
//
// 10,000 sessions run 10 frames a second (50 would be 500,000 timer
// wake-ups a second, which saturate a 2-core machine by themselves).
//
//	go run ./scripts/overhead -child on           # one run, one JSON line (for perf)
//
// scripts/overhead.sh builds it and runs the table.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/openrtc-go/introspect"
	"github.com/openrtc-go/introspect/internal/workload"
	"github.com/openrtc-go/introspect/sampler"
	"github.com/openrtc-go/introspect/stall"
)

// A variant is one way of running the worker.
type variant struct {
	name     string
	about    string
	sessions int
	off      string // the variant this one is paired with
	diag     bool   // a diagnostic: measured only when -variants names it
}

// The variants of the table, in the order of a round. Every X is paired
// with the off variant of its session count.
var variants = []variant{
	{"off", "no introspection (the pair of every 1,000-session row)", 1000, "", false},
	{"on", "introspection with its defaults: Begin, RSS and vitals every second, CPU windows of 5 s, goroutine profiles, scheduler probe, watchdog, recording, live socket", 1000, "off", false},
	{"disablecpu", "on, Options.DisableCPU", 1000, "off", false},
	{"cpuevery", "on, Options.CPUWindow 1s and CPUEvery 5s (one 1 s window in five, the profiler free between)", 1000, "off", false},
	{"labels", "no introspector; sessions tagged with pprof labels directly", 1000, "off", false},
	{"profiler", "labels, plus the CPU sampler alone, in the library's default 5 s windows", 1000, "off", false},
	{"watched", "on, and every frame's mix a watched hold of the mixer loop", 1000, "off", false},
	{"window1s", "on, Options.CPUWindow 1s (the windows the library used before: a window a second)", 1000, "off", false},
	{"probe", "no introspector; the scheduler probe alone (stall.SchedProbe, 10 ms ticks)", 1000, "off", false},
	{"watchdog", "no introspector; the loop watchdog alone (stall.New), nothing watched", 1000, "off", false},
	{"onlabels", "on, but sessions tagged with pprof labels directly instead of Begin", 1000, "off", true},
	{"norecord", "on, without a recording", 1000, "off", true},
	{"offb", "off, every session's frame clock started at once (timers bunched, no phase)", 1000, "", true},
	{"onb", "on, timers bunched as in offb", 1000, "offb", true},
	{"off10k", "no introspection, 10,000 sessions", 10000, "", false},
	{"on10k", "on, 10,000 sessions", 10000, "off10k", false},
}

func lookup(name string) (variant, bool) {
	for _, v := range variants {
		if v.name == name {
			return v, true
		}
	}
	return variant{}, false
}

// A run is what one child process measured.
type run struct {
	Variant string  `json:"variant"`
	Wall    float64 `json:"wall_s"`
	CPU     float64 `json:"cpu_s"`
	User    float64 `json:"user_s"`
	Sys     float64 `json:"sys_s"`
	Frames  int64   `json:"frames"`
	NVCSW   int64   `json:"nvcsw"`
	NIVCSW  int64   `json:"nivcsw"`
	MinFlt  int64   `json:"minflt"`
	GCs     uint64  `json:"gcs"`
}

func (r run) cpuPerFrame() float64 { return r.CPU / float64(r.Frames) }
func (r run) frameRate() float64   { return float64(r.Frames) / r.Wall }

func main() {
	child := flag.String("child", "", "run one variant in this process and print its measurement as JSON")
	rounds := flag.Int("rounds", 6, "rounds of the interleaved sequence")
	warm := flag.Duration("warmup", 1500*time.Millisecond, "warm-up before measuring, in each run")
	dur := flag.Duration("dur", 7*time.Second, "measured stretch of each run")
	hashes := flag.Int("hashes", 40, "SHA-256 blocks per frame at 1,000 sessions (a tenth of that at 10,000)")
	only := flag.String("variants", "", "comma-separated variants to measure (default: all)")
	raw := flag.String("raw", "", "append every run's JSON line to this file")
	memprofile := flag.String("memprofile", "", "with -child: write an allocation profile of the run here (and of its warm-up to this path with .base appended, for go tool pprof -base)")
	flag.Parse()

	if *child != "" {
		if *memprofile != "" {
			runtime.MemProfileRate = 4096 // fine enough to split the costs
		}
		v, ok := lookup(*child)
		if !ok {
			fmt.Fprintf(os.Stderr, "overhead: unknown variant %q\n", *child)
			os.Exit(2)
		}
		r, err := measure(v, *warm, *dur, *hashes, *memprofile)
		if err == nil && *memprofile != "" {
			err = writeHeapProfile(*memprofile)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "overhead:", err)
			os.Exit(1)
		}
		_ = json.NewEncoder(os.Stdout).Encode(r)
		return
	}
	if err := table(*rounds, *warm, *dur, *hashes, *only, *raw); err != nil {
		fmt.Fprintln(os.Stderr, "overhead:", err)
		os.Exit(1)
	}
}

// measure runs the worker as v says and measures dur of it after warm.
// With memprofile set, the allocations of the warm-up are written to
// memprofile+".base", for go tool pprof -base.
func measure(v variant, warm, dur time.Duration, hashes int, memprofile string) (run, error) {
	dir, err := os.MkdirTemp("", "overhead-")
	if err != nil {
		return run{}, err
	}
	defer os.RemoveAll(dir)

	cfg := workload.Config{Sessions: v.sessions, FrameHashes: hashes, Frames: new(atomic.Int64)}
	if v.sessions > 1000 {
		// 10,000 sessions at 50 frames a second would be 500,000 timer
		// wake-ups a second, which saturate a 2-core machine by themselves:
		// they run 10 frames a second, each with the same work as at 1,000.
		cfg.Frame = 100 * time.Millisecond
		cfg.FrameHashes = max(1, hashes/2)
	}
	cfg.Unwatched = v.name != "watched"
	var in *introspect.Introspector
	opts := introspect.Options{Worker: "overhead", Record: filepath.Join(dir, "rec.zst"),
		Socket: filepath.Join(dir, "live.sock"), Logger: slog.New(slog.DiscardHandler)}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	switch v.name {
	case "off", "off10k":
	case "offb":
		cfg.Bunched = true
	case "labels":
		cfg.LabelsOnly = true
	case "probe":
		var p stall.SchedProbe
		done := make(chan struct{})
		defer func() { <-done }()
		defer cancel()
		go func() { defer close(done); p.Run(ctx) }()
	case "watchdog":
		w := stall.New(stall.Options{Report: func(stall.Stall) {}})
		defer w.Close()
	case "profiler":
		cfg.LabelsOnly = true
		s := sampler.NewCPUSampler(sampler.CPUOptions{Window: 5 * time.Second})
		done := make(chan struct{})
		defer func() { <-done }()
		defer cancel()
		go func() { defer close(done); _ = s.Run(ctx, func(sampler.CPUWindow) {}) }()
	case "disablecpu":
		opts.DisableCPU = true
		fallthrough
	case "cpuevery":
		if v.name == "cpuevery" {
			opts.CPUWindow, opts.CPUEvery = time.Second, 5*time.Second
		}
		fallthrough
	case "norecord":
		opts.Record = ""
		fallthrough
	case "window1s":
		if v.name == "window1s" {
			opts.CPUWindow = time.Second
		}
		fallthrough
	default: // on, watched, on10k, onlabels
		in, err = introspect.Start(opts)
		if err != nil {
			return run{}, err
		}
		defer in.Close()
	}
	win := in
	if v.name == "onb" {
		cfg.Bunched = true
	}
	if v.name == "onlabels" {
		cfg.LabelsOnly, win = true, nil
	}

	wctx, wcancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); workload.Run(wctx, win, cfg) }()
	time.Sleep(warm)
	if memprofile != "" {
		if err := writeHeapProfile(memprofile + ".base"); err != nil {
			wcancel()
			<-done
			return run{}, err
		}
	}

	f0, ru0, gc0, t0 := cfg.Frames.Load(), rusage(), gcCycles(), time.Now()
	time.Sleep(dur)
	f1, ru1, gc1, t1 := cfg.Frames.Load(), rusage(), gcCycles(), time.Now()
	wcancel()
	<-done

	tv := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	r := run{
		Variant: v.name, Wall: t1.Sub(t0).Seconds(), Frames: f1 - f0,
		User: tv(ru1.Utime) - tv(ru0.Utime), Sys: tv(ru1.Stime) - tv(ru0.Stime),
		NVCSW: ru1.Nvcsw - ru0.Nvcsw, NIVCSW: ru1.Nivcsw - ru0.Nivcsw, MinFlt: ru1.Minflt - ru0.Minflt,
		GCs: gc1 - gc0,
	}
	r.CPU = r.User + r.Sys
	if r.Frames == 0 {
		return r, fmt.Errorf("%s: no frames done", v.name)
	}
	return r, nil
}

func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return pprof.Lookup("allocs").WriteTo(f, 0)
}

func rusage() syscall.Rusage {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru
}

func gcCycles() uint64 {
	s := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// table runs the interleaved rounds as child processes and prints the
// table.
func table(rounds int, warm, dur time.Duration, hashes int, only, raw string) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	var xs1k, xs10k, xsb []string
	for _, v := range variants {
		named := only != "" && slices.Contains(strings.Split(only, ","), v.name)
		if v.off == "" || (only != "" && !named) || (v.diag && !named) {
			continue
		}
		switch v.off {
		case "off":
			xs1k = append(xs1k, v.name)
		case "off10k":
			xs10k = append(xs10k, v.name)
		default:
			xsb = append(xsb, v.name)
		}
	}
	var raww io.Writer = io.Discard
	if raw != "" {
		f, err := os.OpenFile(raw, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			return err
		}
		defer f.Close()
		raww = f
	}
	start := time.Now()
	fmt.Printf("%d rounds; each run %v warm-up + %v measured; 1,000 sessions at 50 frames/s of %d SHA-256 blocks, 10,000 at 10 frames/s of %d; GOMAXPROCS %d; %s\n",
		rounds, warm, dur, hashes, max(1, hashes/2), runtime.GOMAXPROCS(0), runtime.Version())
	exec1 := func(name string) (run, error) {
		cmd := exec.Command(exe, "-child", name, "-warmup", warm.String(), "-dur", dur.String(), "-hashes", fmt.Sprint(hashes))
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		if err != nil {
			return run{}, fmt.Errorf("%s: %w", name, err)
		}
		var r run
		if err := json.Unmarshal(out, &r); err != nil {
			return run{}, fmt.Errorf("%s: %w: %q", name, err, out)
		}
		fmt.Fprintf(raww, "%s", out)
		fmt.Fprintf(os.Stderr, "  %-10s %6.3f cores %8.2f µs/frame %7.0f frames/s %6.0f csw/s %5d GCs\n",
			name, r.CPU/r.Wall, r.cpuPerFrame()*1e6, r.frameRate(), float64(r.NVCSW)/r.Wall, r.GCs)
		return r, nil
	}
	pairs := map[string][]pair{}
	offs := map[string][]run{}
	sequence := func(off string, xs []string) error {
		prev, err := exec1(off)
		if err != nil {
			return err
		}
		offs[off] = append(offs[off], prev)
		for _, x := range xs {
			rx, err := exec1(x)
			if err != nil {
				return err
			}
			next, err := exec1(off)
			if err != nil {
				return err
			}
			offs[off] = append(offs[off], next)
			pairs[x] = append(pairs[x], pair{x: rx, off0: prev, off1: next})
			prev = next
		}
		return nil
	}
	for r := range rounds {
		fmt.Fprintf(os.Stderr, "round %d/%d (%v so far)\n", r+1, rounds, time.Since(start).Round(time.Second))
		a, b := slices.Clone(xs1k), slices.Clone(xs10k)
		if r%2 == 1 {
			slices.Reverse(a)
			slices.Reverse(b)
		}
		if len(a) > 0 {
			if err := sequence("off", a); err != nil {
				return err
			}
		}
		if len(b) > 0 {
			if err := sequence("off10k", b); err != nil {
				return err
			}
		}
		if c := slices.Clone(xsb); len(c) > 0 {
			if r%2 == 1 {
				slices.Reverse(c)
			}
			if err := sequence("offb", c); err != nil {
				return err
			}
		}
	}
	fmt.Printf("(%v)\n\n", time.Since(start).Round(time.Second))
	printTable(offs, pairs, slices.Concat(xs1k, xs10k, xsb))
	return nil
}

// A pair is one X run and the off runs on either side of it.
type pair struct{ x, off0, off1 run }

// delta is the pair's overhead in percent of one core: X's extra CPU per
// frame over the mean of its neighbours', at X's frame rate.
func (p pair) delta() float64 {
	off := (p.off0.cpuPerFrame() + p.off1.cpuPerFrame()) / 2
	return (p.x.cpuPerFrame() - off) * p.x.frameRate() * 100
}

// perFrameNs is the pair's extra CPU per frame, in nanoseconds.
func (p pair) perFrameNs() float64 {
	return (p.x.cpuPerFrame() - (p.off0.cpuPerFrame()+p.off1.cpuPerFrame())/2) * 1e9
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func rates(rs []run) (cores, csw, flt, gcs float64) {
	var a, b, c, d []float64
	for _, r := range rs {
		a = append(a, r.CPU/r.Wall)
		b = append(b, float64(r.NVCSW)/r.Wall)
		c = append(c, float64(r.MinFlt)/r.Wall)
		d = append(d, float64(r.GCs)/r.Wall*10)
	}
	return median(a), median(b), median(c), median(d)
}

func printTable(offs map[string][]run, pairs map[string][]pair, xs []string) {
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	fmt.Fprintln(w, "| variant | sessions | overhead, % of a core: median of pairs | spread (min … max) | pairs | CPU, cores | vol. ctx switches/s | page faults/s | GCs per 10 s |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|")
	for _, off := range []string{"off", "off10k", "offb"} {
		if len(offs[off]) == 0 {
			continue
		}
		v, _ := lookup(off)
		c, s, f, g := rates(offs[off])
		fmt.Fprintf(w, "| %s | %d | (the pair) | | %d runs | %.3f | %.0f | %.0f | %.1f |\n", off, v.sessions, len(offs[off]), c, s, f, g)
	}
	var onPerFrame []float64
	for _, x := range xs {
		ps := pairs[x]
		if len(ps) == 0 {
			continue
		}
		v, _ := lookup(x)
		var ds, xr []float64
		var runs []run
		for _, p := range ps {
			ds = append(ds, p.delta())
			xr = append(xr, p.perFrameNs())
			runs = append(runs, p.x)
		}
		if x == "on" {
			onPerFrame = xr
		}
		c, s, f, g := rates(runs)
		fmt.Fprintf(w, "| %s | %d | **%+.2f** | %+.2f … %+.2f | %d | %.3f | %.0f | %.0f | %.1f |\n",
			x, v.sessions, median(ds), slices.Min(ds), slices.Max(ds), len(ps), c, s, f, g)
		if x == "watched" && len(onPerFrame) > 0 {
			// One watched hold per frame: the hold's cost is the watched
			// variant's extra CPU per frame less the unwatched one's.
			defer fmt.Fprintf(w, "\nwatched hold (enter+leave), CPU per hold: %.2f µs (median of watched pairs %.2f µs/frame − median of on pairs %.2f µs/frame)\n",
				(median(xr)-median(onPerFrame))/1e3, median(xr)/1e3, median(onPerFrame)/1e3)
		}
	}
	fmt.Fprintln(w)
	for _, x := range append([]string{"off", "off10k", "offb"}, xs...) {
		if v, ok := lookup(x); ok && (len(pairs[x]) > 0 || len(offs[x]) > 0) {
			fmt.Fprintf(w, "- %s: %s\n", v.name, v.about)
		}
	}
}
