package stall

import (
	"context"
	"fmt"
	"runtime/pprof"
	"slices"
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
	costPhase    = 100 * time.Millisecond // one phase of one mode
	costPairs    = 30                     // phases of each mode: 3s of each
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
// none. The phases alternate every 100ms, so that both modes see the same
// machine; a shared machine still disturbs single pairs, so the cost per
// hold (cpu-ns/hold) is the median over the pairs of the extra CPU of the
// holding phase over its neighbour, per hold made. It also reports the CPU
// of both modes in cores, over all phases. The figure is the price of
// watching a shared loop in a 1,000-session worker (50,000 holds a second).
func BenchmarkHoldCost(b *testing.B) {
	for _, kind := range []string{"Loop", "Mutex"} {
		b.Run(kind, func(b *testing.B) {
			var cores [2]float64 // by mode: 0 none, 1 holding
			var perHold []float64
			for b.Loop() {
				c, ns := holdCost(kind)
				cores[0] += c[0]
				cores[1] += c[1]
				perHold = append(perHold, ns...)
			}
			n := float64(b.N)
			b.ReportMetric(cores[0]/n, "cores-none")
			b.ReportMetric(cores[1]/n, "cores-hold")
			slices.Sort(perHold)
			b.ReportMetric(perHold[len(perHold)/2], "cpu-ns/hold")
		})
	}
}

// holdCost runs one alternating measurement and returns the cores used with
// no holds and with holds, and the CPU per hold in nanoseconds of each pair
// of phases.
func holdCost(kind string) (cores [2]float64, nsPerHold []float64) {
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
	time.Sleep(5 * costFrame)
	var cpu, wall [2]time.Duration
	for range costPairs {
		var pc [2]time.Duration
		var pw [2]time.Duration
		var holds int64
		for md := range int32(2) {
			mode.Store(md)
			time.Sleep(costFrame) // ticks already under way finish in the old mode
			c0, n0, t0 := cpuTime(), sum(), time.Now()
			time.Sleep(costPhase)
			pc[md], pw[md] = cpuTime()-c0, time.Since(t0)
			if md == 1 {
				holds = sum() - n0
			}
			cpu[md] += pc[md]
			wall[md] += pw[md]
		}
		// The extra CPU rate of holding, times the holding phase's length,
		// per hold.
		extra := pc[1].Seconds() - pc[0].Seconds()*pw[1].Seconds()/pw[0].Seconds()
		nsPerHold = append(nsPerHold, extra*1e9/float64(holds))
	}
	close(stop)
	wg.Wait()

	for md := range 2 {
		cores[md] = cpu[md].Seconds() / wall[md].Seconds()
	}
	return cores, nsPerHold
}

// BenchmarkColdHold measures a hold the way BenchmarkHoldCost finds it,
// cold, but on one goroutine, so that a machine shared with other work
// disturbs the figure less: it makes holds for 1,000 sessions in turn and,
// between two holds, walks 4KiB of a 64MiB buffer, as the other sessions'
// wake-ups and work would. Only the holds are timed (hold-ns, the clock
// reads' own cost taken off), so the walk does not count.
func BenchmarkColdHold(b *testing.B) {
	for _, kind := range []string{"Loop", "Mutex"} {
		b.Run(kind, func(b *testing.B) {
			w := New(Options{Report: func(Stall) {}})
			defer w.Close()
			defer pprof.SetGoroutineLabels(context.Background())
			l := w.Loop("mixer")
			m := w.Mutex("room")
			ctxs := make([]context.Context, costSessions)
			for i := range ctxs {
				labels := pprof.Labels("session", fmt.Sprintf("job-%04d", i), "agent", "voice", "tenant", "acme")
				ctxs[i] = pprof.WithLabels(context.Background(), labels)
			}
			junk := make([]byte, 64<<20)
			const stride = 4 << 10
			var clock, held int64
			i, off := 0, 0
			for b.Loop() {
				ctx := ctxs[i]
				pprof.SetGoroutineLabels(ctx)
				t0 := monoNow()
				t1 := monoNow()
				if kind == "Mutex" {
					m.LockCtx(ctx)
					m.Unlock()
				} else {
					l.Enter(ctx)()
				}
				t2 := monoNow()
				clock += t1 - t0
				held += t2 - t1
				for j := off; j < off+stride; j += 64 {
					junk[j]++
				}
				off = (off + stride) % len(junk)
				i = (i + 1) % len(ctxs)
			}
			b.ReportMetric(float64(held-clock)/float64(b.N), "hold-ns")
		})
	}
}
