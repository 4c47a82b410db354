package stall

import (
	"context"
	"fmt"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The microbenchmarks in bench_test.go run one goroutine in a tight loop, so
// everything a hold touches stays in the CPU's caches. A real worker is
// different: each session's goroutine wakes once per frame on whichever
// processor is free, enters the shared loop, and sleeps again, so a hold
// finds the loop's lock, its list of holds and its label cache cold, and
// the processors fight over them. BenchmarkHoldCost measures that case.

const (
	costSessions = 1000
	costFrame    = 20 * time.Millisecond
	costPhase    = 500 * time.Millisecond // one phase of one mode
	costPhases   = 6                      // per mode: 3s of each
)

// costCounter is one session's tick count, alone on its cache line so the
// counting is the same cheap store in every mode.
type costCounter struct {
	n atomic.Int64
	_ [56]byte
}

// BenchmarkHoldCost runs 1,000 sessions, each labelled with pprof.Do and
// ticking every 20ms, and compares the process CPU (getrusage: user+system,
// all threads, so the garbage collector counts) of phases where each tick
// makes one hold on one shared Loop (or Mutex) with phases where it makes
// none, alternating in the same run. It reports the CPU of both in cores and
// the difference per hold in cpu-ns/hold: the price of watching a shared
// loop in a 1,000-session worker (50,000 holds a second).
func BenchmarkHoldCost(b *testing.B) {
	for _, kind := range []string{"Loop", "Mutex"} {
		b.Run(kind, func(b *testing.B) {
			var cores [2]float64 // by mode: 0 none, 1 holding
			var perHold float64
			for b.Loop() {
				c, ns := holdCost(kind)
				cores[0] += c[0]
				cores[1] += c[1]
				perHold += ns
			}
			n := float64(b.N)
			b.ReportMetric(cores[0]/n, "cores-none")
			b.ReportMetric(cores[1]/n, "cores-hold")
			b.ReportMetric(perHold/n, "cpu-ns/hold")
		})
	}
}

// holdCost runs one alternating measurement and returns the cores used with
// no holds and with holds, and the CPU per hold in nanoseconds.
func holdCost(kind string) (cores [2]float64, nsPerHold float64) {
	w := New(Options{Report: func(Stall) {}})
	defer w.Close()
	l := w.Loop("mixer")
	m := w.Mutex("room")

	var mode atomic.Int32 // 0 none, 1 holding
	stop := make(chan struct{})
	counts := make([]costCounter, costSessions)
	var wg sync.WaitGroup
	for i := range costSessions {
		wg.Add(1)
		labels := pprof.Labels("session", fmt.Sprintf("job-%04d", i), "agent", "voice", "tenant", "acme")
		go pprof.Do(context.Background(), labels, func(ctx context.Context) {
			defer wg.Done()
			t := time.NewTicker(costFrame)
			defer t.Stop()
			c := &counts[i].n
			for {
				select {
				case <-stop:
					return
				case <-t.C:
				}
				if mode.Load() == 1 {
					if kind == "Mutex" {
						m.LockCtx(ctx)
						m.Unlock()
					} else {
						l.Enter(ctx)()
					}
				}
				c.Store(c.Load() + 1)
			}
		})
	}
	sum := func() (n int64) {
		for i := range counts {
			n += counts[i].n.Load()
		}
		return n
	}

	// Let the tickers spread out before measuring.
	time.Sleep(costPhase)
	var cpu, wall [2]time.Duration
	var ticks [2]int64
	for p := range 2 * costPhases {
		md := int32(p % 2)
		mode.Store(md)
		time.Sleep(costFrame) // ticks already under way finish in the old mode
		c0, n0, t0 := cpuTime(), sum(), time.Now()
		time.Sleep(costPhase)
		cpu[md] += cpuTime() - c0
		ticks[md] += sum() - n0
		wall[md] += time.Since(t0)
	}
	close(stop)
	wg.Wait()

	for md := range 2 {
		cores[md] = cpu[md].Seconds() / wall[md].Seconds()
	}
	// Per hold: the extra CPU rate of holding over not, per hold made.
	holdsPerSec := float64(ticks[1]) / wall[1].Seconds()
	nsPerHold = (cores[1] - cores[0]) * 1e9 / holdsPerSec
	return cores, nsPerHold
}
