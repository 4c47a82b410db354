package stall

import (
	"bytes"
	"context"
	"fmt"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func benchCtx() context.Context {
	return pprof.WithLabels(context.Background(), pprof.Labels("session", "job-bench", "agent", "voice"))
}

// BenchmarkEnterLeave measures the cost a session pays per hold, against the
// two things a hold is made of: a label switch and an uncontended lock.
func BenchmarkEnterLeave(b *testing.B) {
	ctx := benchCtx()
	w := New(Options{Report: func(Stall) {}})
	defer w.Close()
	defer pprof.SetGoroutineLabels(context.Background())

	b.Run("baseline=SetGoroutineLabels", func(b *testing.B) {
		b.ReportAllocs()
		defer reportCPU(b, cpuTime())
		for b.Loop() {
			pprof.SetGoroutineLabels(ctx)
		}
	})
	b.Run("baseline=WithLabels+Set", func(b *testing.B) {
		b.ReportAllocs()
		defer reportCPU(b, cpuTime())
		for b.Loop() {
			pprof.SetGoroutineLabels(pprof.WithLabels(ctx, pprof.Labels(HoldLabel, "12345")))
			pprof.SetGoroutineLabels(ctx)
		}
	})
	b.Run("baseline=2×clock", func(b *testing.B) {
		// A hold reads the monotonic clock twice; on a VM whose clock
		// source is slow (kvm-clock) these reads are much of its cost.
		b.ReportAllocs()
		defer reportCPU(b, cpuTime())
		var sink int64
		for b.Loop() {
			//lint:ignore SA4000 two clock reads are what is measured
			sink += monoNow() - monoNow()
		}
		_ = sink
	})
	b.Run("baseline=sync.Mutex", func(b *testing.B) {
		var mu sync.Mutex
		b.ReportAllocs()
		defer reportCPU(b, cpuTime())
		for b.Loop() {
			mu.Lock()
			//lint:ignore SA2001 an uncontended lock and unlock is the baseline
			mu.Unlock() // measuring the empty critical section
		}
	})
	b.Run("Loop", func(b *testing.B) {
		l := w.Loop("bench")
		b.ReportAllocs()
		defer reportCPU(b, cpuTime())
		for b.Loop() {
			l.Enter(ctx)()
		}
	})
	b.Run("Mutex", func(b *testing.B) {
		m := w.Mutex("bench-mu")
		b.ReportAllocs()
		defer reportCPU(b, cpuTime())
		for b.Loop() {
			m.LockCtx(ctx)
			m.Unlock()
		}
	})
	b.Run("Loop/parallel", func(b *testing.B) {
		// Each goroutine is its own session, as in a worker; run with
		// -cpu to vary the processors that contend for the loop.
		l := w.Loop("bench-par")
		var n atomic.Int64
		b.ReportAllocs()
		defer reportCPU(b, cpuTime())
		b.RunParallel(func(pb *testing.PB) {
			ctx := pprof.WithLabels(context.Background(), pprof.Labels("session", fmt.Sprintf("job-par-%d", n.Add(1))))
			for pb.Next() {
				l.Enter(ctx)()
			}
		})
	})
}

// parkSessions starts n goroutines, each labelled as its own session and
// parked until the returned stop is called.
func parkSessions(n int) (stop func()) {
	release := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		ctx := pprof.WithLabels(context.Background(), pprof.Labels("session", fmt.Sprintf("job-%d", i)))
		go func() {
			defer wg.Done()
			pprof.SetGoroutineLabels(ctx)
			<-release
		}()
	}
	return func() { close(release); wg.Wait() }
}

// BenchmarkCapture measures one stack capture (goroutine profile, parse,
// pick the holder) with 1k and 10k other goroutines, each its own session.
func BenchmarkCapture(b *testing.B) {
	// The holder holds for the whole benchmark; a threshold of an hour keeps
	// the watchdog's own captures out of the measurement.
	w := New(Options{Threshold: time.Hour, Report: func(Stall) {}})
	defer w.Close()
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("goroutines=%d", n), func(b *testing.B) {
			stop := parkSessions(n)
			defer stop()
			entered := make(chan use)
			release := make(chan struct{})
			done := make(chan struct{})
			go func() {
				defer close(done)
				h := w.Loop("capture").enter(benchCtx())
				entered <- h
				<-release
				h.leave()
			}()
			h := <-entered
			label := h.h.entry.label
			var buf bytes.Buffer
			b.ReportAllocs()
			cpu0 := cpuTime()
			for b.Loop() {
				stacks, err := captureHolders(&buf)
				if err != nil {
					b.Fatal(err)
				}
				if _, ok := stacks[label]; !ok {
					b.Fatal("holder not found")
				}
			}
			reportCPU(b, cpu0)
			b.ReportMetric(float64(buf.Len()), "profile-bytes")
			close(release)
			<-done
		})
	}
}

// BenchmarkCheck measures one watchdog check over many holds that are all
// under the threshold: the steady cost of watching, paid every Interval.
func BenchmarkCheck(b *testing.B) {
	for _, n := range []int{100, 10000} {
		b.Run(fmt.Sprintf("holds=%d", n), func(b *testing.B) {
			w := New(Options{Threshold: time.Hour, Report: func(Stall) {}})
			defer w.Close()
			l := w.Loop("many")
			ctx := benchCtx()
			holds := make([]use, n)
			for i := range holds {
				holds[i] = l.enter(ctx)
			}
			pprof.SetGoroutineLabels(context.Background())
			now := time.Now()
			cpu0 := cpuTime()
			for b.Loop() {
				w.check(now)
			}
			reportCPU(b, cpu0)
			for _, h := range holds {
				h.leave()
			}
			pprof.SetGoroutineLabels(context.Background())
		})
	}
}

// BenchmarkDetectionLatency holds a loop for 200ms with the default options
// and reports how long after the hold began the first ongoing report came
// (detect-ms; the goal is at most threshold + interval = 75ms), how long
// after that a report carried the holder's frame (frame-ms, 0 when the first
// one did), and how long after the hold ended the final report came
// (final-ms), for the first stall a watchdog sees. With 10,000 other
// goroutines a profile is slow, so the watchdog reports first and follows up
// with the frame.
func BenchmarkDetectionLatency(b *testing.B) {
	for _, n := range []int{0, 10000} {
		b.Run(fmt.Sprintf("goroutines=%d", n), func(b *testing.B) {
			stop := parkSessions(n)
			defer stop()
			type seen struct {
				at time.Time
				s  Stall
			}
			ch := make(chan seen, 64)
			var detect, framed, final, worst time.Duration
			for b.Loop() {
				// A new watchdog each time: its capture budget is
				// fresh, as for the first stall of an incident.
				w := New(Options{Report: func(s Stall) { ch <- seen{time.Now(), s} }})
				l := w.Loop("room-loop")
				var begin, end time.Time
				done := make(chan struct{})
				go func() {
					defer close(done)
					ctx := benchCtx()
					begin = time.Now()
					leave := l.Enter(ctx)
					time.Sleep(200 * time.Millisecond)
					leave()
					end = time.Now()
					pprof.SetGoroutineLabels(context.Background())
				}()
				first := <-ch
				withFrame := first
				for withFrame.s.Frame == "" && withFrame.s.Ongoing {
					withFrame = <-ch
				}
				<-done
				last := withFrame
				for last.s.Ongoing {
					last = <-ch
				}
				d := first.at.Sub(begin)
				detect += d
				worst = max(worst, d)
				framed += withFrame.at.Sub(first.at)
				final += last.at.Sub(end)
				w.Close()
			}
			n := float64(b.N)
			b.ReportMetric(float64(detect.Microseconds())/n/1000, "detect-ms")
			b.ReportMetric(float64(worst.Microseconds())/1000, "worst-detect-ms")
			b.ReportMetric(float64(framed.Microseconds())/n/1000, "frame-ms")
			b.ReportMetric(float64(final.Microseconds())/n/1000, "final-ms")
		})
	}
}

// BenchmarkSchedProbeTick measures one tick of the scheduler probe on an
// idle scheduler: the witness's clock read, and the queuer's two around a
// trip through the run queue. At the default 10ms that is a hundred ticks a
// second.
func BenchmarkSchedProbeTick(b *testing.B) {
	var p SchedProbe
	for b.Loop() {
		p.witness(monoNow())
		p.trip()
	}
}
