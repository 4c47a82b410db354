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
// and a little CPU per frame on a shared mixer) with introspection off and on,
// alternating, in the same process, and reports what introspection adds:
//
//	overhead_cpu_%core  extra process CPU, in percent of one core
//	overhead_cpu_%      extra process CPU relative to the workload's own
//	throughput_ratio    frames with introspection on ÷ frames off
//	extra_heap_MB       extra live heap while on
//
// Run it with -benchtime=1x; each iteration is rounds × 2 runs of -overhead.dur.
func BenchmarkOverhead(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("sessions=%d", n), func(b *testing.B) {
			if testing.Short() && n > 1000 {
				b.Skip("10,000 sessions in -short mode")
			}
			const rounds = 3
			dur := 4 * time.Second
			var cpuOn, cpuOff, wallOn, wallOff time.Duration
			var framesOn, framesOff int64
			var heapOn, heapOff float64
			for i := 0; i < b.N; i++ {
				for r := 0; r < rounds; r++ {
					for _, on := range []bool{false, true} {
						st, cpu, wall, heap := overheadRun(b, n, on, dur)
						if on {
							cpuOn, wallOn, framesOn, heapOn = cpuOn+cpu, wallOn+wall, framesOn+st.Frames, heapOn+heap
						} else {
							cpuOff, wallOff, framesOff, heapOff = cpuOff+cpu, wallOff+wall, framesOff+st.Frames, heapOff+heap
						}
					}
				}
			}
			onCores := cpuOn.Seconds() / wallOn.Seconds()
			offCores := cpuOff.Seconds() / wallOff.Seconds()
			b.ReportMetric((onCores-offCores)*100, "overhead_cpu_%core")
			b.ReportMetric((onCores/offCores-1)*100, "overhead_cpu_%")
			b.ReportMetric(float64(framesOn)/float64(framesOff), "throughput_ratio")
			b.ReportMetric((heapOn-heapOff)/float64(rounds*b.N)/(1<<20), "extra_heap_MB")
			b.ReportMetric(offCores*100, "workload_cpu_%core")
		})
	}
}

// overheadRun runs the workload for dur and returns what it did, the process
// CPU time and wall time it took, and the live heap at the end.
func overheadRun(b *testing.B, sessions int, on bool, dur time.Duration) (workload.Stats, time.Duration, time.Duration, float64) {
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
	// A little CPU per frame: the whole workload keeps about half a core
	// busy, whatever the session count, so a 2-core machine is not saturated.
	work := 10 * time.Microsecond * 1000 / time.Duration(sessions)
	st := workload.Run(ctx, in, workload.Config{Sessions: sessions, FrameWork: work})
	cpu, wall := processCPU()-cpu0, time.Since(wall0)
	heap := <-heapc
	if in != nil {
		in.Close()
	}
	return st, cpu, wall, heap
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
