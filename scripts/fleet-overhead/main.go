// Command fleet-overhead measures what each fleet path adds to a worker
// that introspects with its defaults: Prometheus metrics (package prom,
// scraped once a second), uploads of closed recordings (package bucket, to
// a file:// bucket, files rotated every 2 s so the uploader has work), and
// events shipped over OpenTelemetry (package otelevents, OTLP/HTTP to a
// receiver in another process's stead: a loopback endpoint that discards).
//
// The method is BENCHMARKS.md's: separate processes, interleaved
//
//	base, X1, base, X2, base, X3, base     (the X reversed every other round)
//
// each X paired with the mean of its two neighbouring base runs; CPU is the
// process's user+system time over a measured stretch after a warm-up,
// divided by the frames the synthetic worker (internal/workload, a fixed
// number of SHA-256 blocks a frame) did in it. The figure is X's extra CPU
// per frame as a ratio to the base's (added CPU / the worker's CPU), and in
// percent of one core at X's frame rate; median and spread of the rounds.
//
//	go run ./scripts/fleet-overhead -rounds 5
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync/atomic"
	"syscall"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	_ "gocloud.dev/blob/fileblob"

	"github.com/openrtc-go/introspect"
	"github.com/openrtc-go/introspect/bucket"
	"github.com/openrtc-go/introspect/internal/workload"
	"github.com/openrtc-go/introspect/otelevents"
	"github.com/openrtc-go/introspect/prom"
	"github.com/openrtc-go/introspect/recorder"
)

type run struct {
	Variant string  `json:"variant"`
	Wall    float64 `json:"wall_s"`
	CPU     float64 `json:"cpu_s"`
	Frames  int64   `json:"frames"`
}

func (r run) perFrame() float64 { return r.CPU / float64(r.Frames) }

var xs = []string{"metrics", "upload", "otel"}

func main() {
	child := flag.String("child", "", "run one variant (base, metrics, upload, otel) and print its measurement as JSON")
	rounds := flag.Int("rounds", 5, "rounds of the interleaved sequence")
	warm := flag.Duration("warmup", 1500*time.Millisecond, "warm-up of each run")
	dur := flag.Duration("dur", 6*time.Second, "measured stretch of each run")
	sessions := flag.Int("sessions", 1000, "sessions of the synthetic worker")
	flag.Parse()
	if *child != "" {
		r, err := measure(*child, *warm, *dur, *sessions)
		if err != nil {
			fmt.Fprintln(os.Stderr, "fleet-overhead:", err)
			os.Exit(1)
		}
		_ = json.NewEncoder(os.Stdout).Encode(r)
		return
	}
	exe, _ := os.Executable()
	one := func(name string) run {
		out, err := exec.Command(exe, "-child", name, "-warmup", warm.String(), "-dur", dur.String(), "-sessions", fmt.Sprint(*sessions)).Output()
		var r run
		if err != nil || json.Unmarshal(out, &r) != nil {
			fmt.Fprintf(os.Stderr, "fleet-overhead: %s: %v %s\n", name, err, out)
			os.Exit(1)
		}
		fmt.Fprintf(os.Stderr, "  %-8s %.3f cores, %.2f µs/frame\n", name, r.CPU/r.Wall, r.perFrame()*1e6)
		return r
	}
	ratios := map[string][]float64{}
	cores := map[string][]float64{}
	for i := range *rounds {
		fmt.Fprintf(os.Stderr, "round %d/%d\n", i+1, *rounds)
		order := slices.Clone(xs)
		if i%2 == 1 {
			slices.Reverse(order)
		}
		prev := one("base")
		for _, x := range order {
			rx := one(x)
			next := one("base")
			base := (prev.perFrame() + next.perFrame()) / 2
			ratios[x] = append(ratios[x], (rx.perFrame()-base)/base)
			cores[x] = append(cores[x], (rx.perFrame()-base)*float64(rx.Frames)/rx.Wall*100)
			prev = next
		}
	}
	fmt.Printf("%d rounds, %d sessions, %v measured a run; added CPU over the worker introspecting with its defaults (base)\n", *rounds, *sessions, *dur)
	fmt.Printf("%-8s %14s %22s %16s %22s\n", "path", "ratio median", "ratio spread", "% core median", "% core spread")
	for _, x := range xs {
		r, c := ratios[x], cores[x]
		slices.Sort(r)
		slices.Sort(c)
		fmt.Printf("%-8s %+13.2f%% %+10.2f%% .. %+6.2f%% %+15.2f %+10.2f .. %+6.2f\n", x, 100*median(r), 100*r[0], 100*r[len(r)-1], median(c), c[0], c[len(c)-1])
	}
}

func median(s []float64) float64 {
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// measure runs the worker with the path of variant and measures dur of it.
func measure(variant string, warm, dur time.Duration, sessions int) (run, error) {
	dir, err := os.MkdirTemp("", "fleet-overhead-")
	if err != nil {
		return run{}, err
	}
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opts := introspect.Options{Worker: "overhead", Record: filepath.Join(dir, "rec"), Socket: introspect.SocketOff,
		RecordOptions: &recorder.Options{MaxFileAge: 2 * time.Second},
		Logger:        slog.New(slog.DiscardHandler)}
	var stop []func()
	defer func() {
		for _, f := range stop {
			f()
		}
	}()
	switch variant {
	case "base":
	case "metrics":
		c := prom.New(prom.Options{})
		opts.Observers = []introspect.Observer{c}
		h := c.Handler()
		go func() { // a scrape a second, in OpenMetrics as Prometheus asks
			t := time.NewTicker(time.Second)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
					req := httptest.NewRequest("GET", "/metrics", nil)
					req.Header.Set("Accept", "application/openmetrics-text;version=1.0.0")
					h.ServeHTTP(httptest.NewRecorder(), req)
				}
			}
		}()
	case "upload":
		up, err := bucket.NewUploader(ctx, bucket.UploadOptions{URL: "file://" + filepath.Join(dir, "bucket"), Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			return run{}, err
		}
		opts.Upload = up
	case "otel":
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
		}))
		stop = append(stop, srv.Close)
		exp, err := otlploghttp.New(ctx, otlploghttp.WithEndpointURL(srv.URL+"/v1/logs"))
		if err != nil {
			return run{}, err
		}
		res, _ := otelevents.Resource("overhead", "overhead")
		lp := sdklog.NewLoggerProvider(sdklog.WithResource(res), sdklog.WithProcessor(sdklog.NewBatchProcessor(exp)))
		stop = append(stop, func() { _ = lp.Shutdown(context.Background()) })
		opts.Logger = slog.New(otelevents.Handler(lp, nil))
	default:
		return run{}, fmt.Errorf("unknown variant %q", variant)
	}
	in, err := introspect.Start(opts)
	if err != nil {
		return run{}, err
	}
	defer in.Close()
	// The demo's culprits would make stalls (the events worth shipping);
	// the synthetic worker's sessions start and end, which are events too.
	cfg := workload.Config{Sessions: sessions, FrameHashes: 40, Frames: new(atomic.Int64), Churn: 0.02}
	wctx, wcancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); workload.Run(wctx, in, cfg) }()
	time.Sleep(warm)
	f0, c0, t0 := cfg.Frames.Load(), cpu(), time.Now()
	time.Sleep(dur)
	f1, c1, t1 := cfg.Frames.Load(), cpu(), time.Now()
	wcancel()
	<-done
	if f1 == f0 {
		return run{}, fmt.Errorf("%s: no frames", variant)
	}
	return run{Variant: variant, Wall: t1.Sub(t0).Seconds(), CPU: c1 - c0, Frames: f1 - f0}, nil
}

func cpu() float64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	tv := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	return tv(ru.Utime) + tv(ru.Stime)
}
