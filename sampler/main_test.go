package sampler

import (
	"context"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// Tests that run the CPU profiler must not run in parallel with each other:
// the profiler is process-global. None of the tests in this package calls
// t.Parallel.

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// labelled runs f in a new goroutine carrying the session label id and
// returns a function that waits for it to finish.
func labelled(ctx context.Context, id string, f func(context.Context)) (wait func()) {
	var wg sync.WaitGroup
	wg.Add(1)
	go pprof.Do(ctx, pprof.Labels(SessionLabel, id, "agent", "test"), func(ctx context.Context) {
		defer wg.Done()
		f(ctx)
	})
	return wg.Wait
}

// dutyCycle keeps the CPU busy for duty × period out of every period until
// ctx is done, by spinning and then sleeping.
func dutyCycle(ctx context.Context, duty float64, period time.Duration) {
	busy := time.Duration(duty * float64(period))
	for ctx.Err() == nil {
		start := time.Now()
		for time.Since(start) < busy {
			spin()
		}
		if rest := period - time.Since(start); rest > 0 {
			time.Sleep(rest)
		}
	}
}

// spinSink keeps spin's work from being optimised away.
var spinSink atomic.Uint64

// spin does about ten microseconds of pure CPU work, enough that the clock
// reads around it (a system call on some virtual machines) stay a small part
// of a burner's samples.
func spin() {
	x := spinSink.Load() | 1
	for i := 0; i < 10000; i++ {
		x = x*6364136223846793005 + 1442695040888963407
	}
	if x == 0 {
		spinSink.Add(1)
	}
}

// collect runs s until ctx is done and returns the windows it delivered.
func collect(ctx context.Context, s *CPUSampler) (<-chan CPUWindow, func()) {
	ch := make(chan CPUWindow, 1024)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(ch)
		s.Run(ctx, func(w CPUWindow) { ch <- w })
	}()
	return ch, func() { <-done }
}
