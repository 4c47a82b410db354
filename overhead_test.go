package introspect_test

import (
	"context"
	"fmt"
	"runtime"
	"runtime/metrics"
	"syscall"
	"testing"
	"time"

	"github.com/openrtc-go/introspect"
	"github.com/openrtc-go/introspect/internal/workload"
)

// BenchmarkOverhead runs the synthetic worker (sessions with a 20ms frame loop
// and a little CPU per frame, mixed on a shared mixer) three ways, alternating
// in the same process: without introspection, with introspection (sessions
// tagged, memory, CPU profile windows, goroutines, scheduler probe, recording)
// but the mixer unwatched, and with every frame's mix a watched hold of the
// mixer loop. It reports:
//
//	overhead_%core    what introspection adds, unwatched, in percent of one core
//	overhead_%        the same, relative to the workload's own CPU
//	hold_ns           CPU per watched hold (enter + leave), from the third run
//	holds/s           watched holds per second in the third run
//	throughput_ratio  frames with introspection (unwatched) ÷ frames without
//	extra_heap_MB     live heap introspection adds
//
// Run it with -benchtime=1x; each iteration is rounds × 3 runs of 4 s.
func BenchmarkOverhead(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("sessions=%d", n), func(b *testing.B) {
			if testing.Short() && n > 1000 {
				b.Skip("10,000 sessions in -short mode")
			}
			const rounds = 3
			const dur = 4 * time.Second
			var off, on, watched result
			for i := 0; i < b.N; i++ {
				for r := 0; r < rounds; r++ {
					off.add(overheadRun(b, n, false, false, dur))
					on.add(overheadRun(b, n, true, false, dur))
					watched.add(overheadRun(b, n, true, true, dur))
				}
			}
			b.ReportMetric((on.cores()-off.cores())*100, "overhead_%core")
			b.ReportMetric((on.cores()/off.cores()-1)*100, "overhead_%")
			b.ReportMetric(float64(on.frames)/float64(off.frames), "throughput_ratio")
			b.ReportMetric((on.heap-off.heap)/float64(rounds*b.N)/(1<<20), "extra_heap_MB")
			holds := float64(watched.frames)
			b.ReportMetric((watched.cpu.Seconds()-on.cores()*watched.wall.Seconds())*1e9/holds, "hold_ns")
			b.ReportMetric(holds/watched.wall.Seconds(), "holds/s")
			b.ReportMetric(off.cores()*100, "workload_%core")
		})
	}
}

type result struct {
	cpu, wall time.Duration
	frames    int64
	heap      float64
}

func (r *result) add(x result) {
	r.cpu, r.wall, r.frames, r.heap = r.cpu+x.cpu, r.wall+x.wall, r.frames+x.frames, r.heap+x.heap
}

func (r result) cores() float64 { return r.cpu.Seconds() / r.wall.Seconds() }

// overheadRun runs the workload for dur and returns the process CPU time and
// wall time it took, the frames it mixed, and the live heap near the end.
func overheadRun(b *testing.B, sessions int, on, watched bool, dur time.Duration) result {
	b.Helper()
	var in *introspect.Introspector
	if on {
		var err error
		in, err = introspect.Start(introspect.Options{Worker: "overhead", Socket: introspect.SocketOff,
			Record: b.TempDir() + "/rec.zst", Logger: discardLogger()})
		if err != nil {
			b.Fatal(err)
		}
	}
	runtime.GC()
	ctx, cancel := context.WithTimeout(context.Background(), dur)
	defer cancel()
	cpu0, wall0 := processCPU(), time.Now()
	heapc := make(chan float64, 1)
	go func() {
		// Read the heap just before the end, while everything is live.
		time.Sleep(dur - 200*time.Millisecond)
		heapc <- liveHeap()
	}()
	// A fixed amount of CPU per frame (hash blocks, not a spin for a
	// length of wall time, whose CPU grows when the machine is busy): about
	// a third of a core at 1,000 sessions, so a 2-core machine is not
	// saturated. scripts/overhead.sh is the interleaved measurement
	// BENCHMARKS.md reports; this benchmark is its quick in-process cousin.
	hashes := max(1, 40*1000/sessions)
	st := workload.Run(ctx, in, workload.Config{Sessions: sessions, FrameHashes: hashes, Unwatched: !watched})
	r := result{cpu: processCPU() - cpu0, wall: time.Since(wall0), frames: st.Frames, heap: <-heapc}
	if in != nil {
		in.Close()
	}
	return r
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func liveHeap() float64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return float64(s[0].Value.Uint64())
}
