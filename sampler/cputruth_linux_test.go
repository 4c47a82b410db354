//go:build linux

package sampler

import (
	"context"
	"math"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// threadCPU is the calling thread's CPU time: ground truth for a goroutine
// locked to its thread, measured by the kernel, not by the profiler.
func threadCPU(tb testing.TB) time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		tb.Fatalf("clock_gettime: %v", err)
	}
	return time.Duration(ts.Nano())
}

// A session's CPU time from its windows (samples / total × CPUTime, scaled
// to the span) against its thread's CPU clock, beside an unlabelled burner
// of the same size; counting samples × period instead comes out short.
//
// The margin is for what a locked thread costs: the runtime preempts a
// spinning goroutine every 10ms and, locked, hands its thread over and back,
// 8–9 % of its CPU again in other threads that no sample sees, which the
// share of the measured total bills to the sessions in proportion. An
// unlocked worker does not pay it, but the truth can only be measured locked.
func TestCPUTimeAgainstThreadClock(t *testing.T) {
	if testing.Short() {
		t.Skip("burns 3s of CPU")
	}
	const burn = 1500 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	ch, wait := collect(ctx, NewCPUSampler(CPUOptions{Window: 500 * time.Millisecond}))
	res := make(chan time.Duration, 2)
	burner := func(context.Context) {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		t0 := threadCPU(t)
		for threadCPU(t)-t0 < burn {
			spin()
		}
		res <- threadCPU(t) - t0
	}
	waitA := labelled(context.Background(), "a", burner)
	go burner(context.Background())
	waitA()
	truth, other := <-res, <-res
	time.Sleep(time.Second) // the window that saw the end closes
	cancel()
	wait()
	var billed, counted float64
	for w := range ch {
		if w.Unavailable != "" || w.Total == 0 || w.CPUTime == 0 {
			continue
		}
		scale := 1.0
		if w.Duration > 0 && w.Span > w.Duration {
			scale = float64(w.Span) / float64(w.Duration)
		}
		billed += float64(w.BySession["a"]) / float64(w.Total) * w.CPUTime.Seconds() * scale
		counted += float64(w.BySession["a"]) * w.Period.Seconds()
	}
	t.Logf("session a: thread clock %.3fs (the unlabelled burner %.3fs); share × measured CPU %.3fs; samples × period %.3fs",
		truth.Seconds(), other.Seconds(), billed, counted)
	if math.Abs(billed-truth.Seconds()) > 0.15*truth.Seconds() {
		t.Errorf("session a billed %.3fs, its thread used %.3fs", billed, truth.Seconds())
	}
}
