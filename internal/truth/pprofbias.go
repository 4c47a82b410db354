//go:build linux

package truth

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/pprof/profile"
)

// A ProfilerBias is what the Go runtime's own CPU profiler (runtime/pprof,
// one profile, no introspection) saw of three kinds of work beside a load,
// against their truth: the samples labelled with each, times the sampling
// period, over the CPU each used.
type ProfilerBias struct {
	// Loaded says whether a goroutine per P spun and 200 goroutines woke
	// every 2 ms beside the work.
	Loaded bool
	// Pool is a two-worker pool, each worker locked to its thread,
	// running 2 ms jobs under pprof.Do for a sender that burns 1 ms on its
	// own locked thread between them: bursty threads. Truth: the thread
	// clocks around the jobs and the sender's loop.
	Pool float64
	// Hog is a goroutine locked to its thread burning 1 ms steps without
	// rest. Truth: its thread clock.
	Hog float64
	// Free is three goroutines at 30 % duty, not locked to threads, each
	// measured step by step (freeMeter).
	Free float64
}

func (b ProfilerBias) String() string {
	load := "alone"
	if b.Loaded {
		load = "beside a load on every core"
	}
	return fmt.Sprintf("runtime/pprof %s: pool %.1f %%, locked hog %.1f %%, unlocked hog %.1f %% of their truth", load, 100*b.Pool, 100*b.Hog, 100*b.Free)
}

// MeasureProfilerBias runs the pool, the hog and the unlocked hog for d under
// one runtime/pprof CPU profile, with the load or without, and returns what
// the profile saw of each. It is the harness's check of the runtime itself:
// a CPU figure the introspector gets no closer than this is as close as Go's
// profiler lets anyone get.
func MeasureProfilerBias(d time.Duration, loaded bool) (ProfilerBias, error) {
	var buf bytes.Buffer
	if err := pprof.StartCPUProfile(&buf); err != nil {
		return ProfilerBias{}, err
	}
	labelled := func(s string) context.Context {
		return pprof.WithLabels(context.Background(), pprof.Labels("session", s))
	}
	stop := make(chan struct{})
	var bg sync.WaitGroup
	if loaded {
		for range procs() {
			bg.Go(func() {
				pprof.SetGoroutineLabels(labelled("load"))
				for {
					select {
					case <-stop:
						return
					default:
						crunch()
					}
				}
			})
		}
		for range 200 {
			bg.Go(func() {
				pprof.SetGoroutineLabels(labelled("small"))
				tk := time.NewTicker(2 * time.Millisecond)
				defer tk.Stop()
				for {
					select {
					case <-stop:
						return
					case <-tk.C:
						crunch()
					}
				}
			})
		}
	}
	var hogCPU atomic.Int64
	bg.Go(func() {
		pprof.SetGoroutineLabels(labelled("hog"))
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		c0 := threadCPU()
		defer func() { hogCPU.Store(int64(threadCPU() - c0)) }()
		for {
			select {
			case <-stop:
				return
			default:
				burn(time.Millisecond)
			}
		}
	})
	until := time.Now().Add(d)
	meters := []*freeMeter{newFreeMeter(), newFreeMeter(), newFreeMeter()}
	var free sync.WaitGroup
	for _, m := range meters {
		free.Go(func() {
			pprof.SetGoroutineLabels(labelled("free"))
			freeDutyCycle(m, 0.3, until)
		})
	}
	// The pool, as the scenario's pooled session runs it.
	jobs := make(chan func())
	var jobCPU atomic.Int64
	var workers sync.WaitGroup
	for range 2 {
		workers.Go(func() {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			for f := range jobs {
				f()
			}
		})
	}
	sender := labelled("pooled")
	pprof.SetGoroutineLabels(sender)
	runtime.LockOSThread()
	c0 := threadCPU()
	for time.Now().Before(until) {
		burn(time.Millisecond)
		done := make(chan struct{})
		jobs <- func() {
			pprof.Do(context.Background(), pprof.Labels("session", "pooled"), func(context.Context) {
				c := threadCPU()
				burn(2 * time.Millisecond)
				jobCPU.Add(int64(threadCPU() - c))
			})
			close(done)
		}
		<-done
		time.Sleep(4 * time.Millisecond)
	}
	own := threadCPU() - c0
	runtime.UnlockOSThread()
	pprof.SetGoroutineLabels(context.Background())
	close(jobs)
	workers.Wait()
	free.Wait()
	close(stop)
	bg.Wait()
	pprof.StopCPUProfile()

	p, err := profile.Parse(&buf)
	if err != nil {
		return ProfilerBias{}, err
	}
	by := map[string]time.Duration{}
	for _, s := range p.Sample {
		if v := s.Label["session"]; len(v) > 0 {
			by[v[0]] += time.Duration(s.Value[1]) // the second value is CPU time in nanoseconds
		}
	}
	var meter time.Duration
	for _, m := range meters {
		meter += m.used
	}
	ratio := func(got, truth time.Duration) float64 {
		if truth <= 0 {
			return 0
		}
		return float64(got) / float64(truth)
	}
	return ProfilerBias{
		Loaded: loaded,
		Pool:   ratio(by["pooled"], own+time.Duration(jobCPU.Load())),
		Hog:    ratio(by["hog"], time.Duration(hogCPU.Load())),
		Free:   ratio(by["free"], meter),
	}, nil
}
