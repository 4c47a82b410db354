package sampler

import (
	"bytes"
	"context"
	"fmt"
	"runtime/pprof"
	"sync"
	"testing"
	"time"

	"github.com/google/pprof/profile"
)

// BenchmarkWindowCoverage measures how much of the process's CPU time
// (getrusage) the CPU profiler's samples cover when the same 5 s of two
// spinning goroutines are profiled in windows of different lengths. The
// profiler loses samples at every restart, so the shorter the windows, the
// less it sees (87.7–88.3 % at 1 s against 94.4–95.1 % at 5 s on the shared
// 2-core VM, BENCHMARKS.md). Run it alone, one iteration per window length:
//
//	go test -run '^$' -bench WindowCoverage -benchtime 1x ./sampler
func BenchmarkWindowCoverage(b *testing.B) {
	const total = 5 * time.Second
	for _, win := range []time.Duration{time.Second, total, 250 * time.Millisecond} {
		b.Run(fmt.Sprint(win), func(b *testing.B) {
			var covered float64
			for range b.N {
				ctx, cancel := context.WithCancel(context.Background())
				var wg sync.WaitGroup
				for range 2 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for ctx.Err() == nil {
							spin()
						}
					}()
				}
				time.Sleep(100 * time.Millisecond)
				cpu0, _ := ProcessCPU()
				var samples int64
				for range int(total / win) {
					var buf bytes.Buffer
					if err := pprof.StartCPUProfile(&buf); err != nil {
						b.Skip("profiler busy:", err)
					}
					time.Sleep(win)
					pprof.StopCPUProfile()
					p, err := profile.ParseData(buf.Bytes())
					if err != nil {
						b.Fatal(err)
					}
					for _, s := range p.Sample {
						samples += s.Value[0]
					}
				}
				cpu1, _ := ProcessCPU()
				cancel()
				wg.Wait()
				covered += float64(samples) * 0.01 / (cpu1 - cpu0).Seconds()
			}
			b.ReportMetric(100*covered/float64(b.N), "%sampled")
		})
	}
}
