package sampler

import (
	"bytes"
	"context"
	"fmt"
	"runtime/metrics"
	"runtime/pprof"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/pprof/profile"
)

// BenchmarkRSSRead compares reading the RSS with the cheapest system call,
// getpid, in the same run: on a loaded virtual machine a system call alone
// can take microseconds.
func BenchmarkRSSRead(b *testing.B) {
	b.Run("statm", func(b *testing.B) {
		r, err := NewRSSReader()
		if err != nil {
			b.Skip(err)
		}
		defer r.Close()
		b.ReportAllocs()
		for b.Loop() {
			if _, err := r.Read(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("baseline=getpid", func(b *testing.B) {
		for b.Loop() {
			syscall.Getpid()
		}
	})
}

func BenchmarkVitalsRead(b *testing.B) {
	r := NewVitalsReader()
	r.Read()
	b.ReportAllocs()
	for b.Loop() {
		r.Read()
	}
}

// parkGoroutines starts n goroutines spread over sessions, each parked at
// the bottom of a stack depth frames deep (real session goroutines sit
// under a few frames of their own code), and returns a function that
// releases them and waits for them to exit.
func parkGoroutines(n, sessions, depth int) (release func()) {
	stop := make(chan struct{})
	var started, exited sync.WaitGroup
	started.Add(n)
	exited.Add(n)
	ctx := context.Background()
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("s%d", i%sessions)
		go pprof.Do(ctx, pprof.Labels(SessionLabel, id), func(context.Context) {
			defer exited.Done()
			started.Done()
			parkAt(depth, stop)
		})
	}
	// A goroutine that has not run yet has no labels: wait until each has
	// set its own.
	started.Wait()
	return func() { close(stop); exited.Wait() }
}

//go:noinline
func parkAt(depth int, stop <-chan struct{}) {
	if depth > 0 {
		parkAt(depth-1, stop)
		return
	}
	<-stop
}

// BenchmarkGoroutinesBySession measures a goroutine profile at several
// goroutine counts. Besides wall time it reports the process CPU time per
// profile (cpu-ns/op, which a loaded machine inflates less than wall time),
// CPU time per parked goroutine (cpu-ns/goroutine), and the median and
// longest non-GC stop-the-world pauses seen while profiling.
func BenchmarkGoroutinesBySession(b *testing.B) {
	for _, n := range []int{0, 1000, 10000} {
		b.Run(fmt.Sprintf("goroutines=%d", n), func(b *testing.B) {
			release := parkGoroutines(n, 100, 8)
			defer release()
			pauses := []metrics.Sample{{Name: "/sched/pauses/total/other:seconds"}}
			metrics.Read(pauses)
			before := append([]uint64(nil), pauses[0].Value.Float64Histogram().Counts...)
			b.ReportAllocs()
			cpu0 := processCPU(b)
			b.ResetTimer()
			for b.Loop() {
				by, total, err := GoroutinesBySession()
				if err != nil {
					b.Fatal(err)
				}
				if total < n || (n > 0 && len(by) != 100) {
					b.Fatalf("total %d sessions %d, want ≥ %d and 100", total, len(by), n)
				}
			}
			b.StopTimer()
			cpu := float64(processCPU(b)-cpu0) / float64(b.N)
			metrics.Read(pauses)
			h := pauses[0].Value.Float64Histogram()
			delta := make([]uint64, len(h.Counts))
			diffCounts(delta, before, h.Counts)
			b.ReportMetric(cpu, "cpu-ns/op")
			if n > 0 {
				b.ReportMetric(cpu/float64(n), "cpu-ns/goroutine")
			}
			b.ReportMetric(histQuantile(delta, h.Buckets, 0.5)*1e6, "stw-p50-µs")
			b.ReportMetric(histMax(delta, h.Buckets)*1e6, "stw-max-µs")
		})
	}
}

// cpuProfileFixture profiles 20 labelled sessions spinning at different
// rates for d and returns the raw profile.
func cpuProfileFixture(tb testing.TB, d time.Duration) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := pprof.StartCPUProfile(&buf); err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	var waits []func()
	for i := 0; i < 20; i++ {
		duty := 0.05 * float64(i%5+1)
		waits = append(waits, labelled(ctx, fmt.Sprintf("job-%02d", i), func(ctx context.Context) {
			dutyCycle(ctx, duty, 10*time.Millisecond)
		}))
	}
	for _, w := range waits {
		w()
	}
	cancel()
	pprof.StopCPUProfile()
	return buf.Bytes()
}

func BenchmarkParseCPUWindow(b *testing.B) {
	data := cpuProfileFixture(b, time.Second)
	w, err := parseCPUWindow(data, DefaultTopFrames)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(len(data)), "profile-bytes")
	b.ReportMetric(float64(w.Total), "samples")
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := parseCPUWindow(data, DefaultTopFrames); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGoroutineProfileForms compares, at 1,000 parked goroutines in 100
// sessions, the goroutine profile read the way TakeGoroutineProfile reads it
// (text form, only the pcs and labels lines) with the way it was read before
// (gzipped protocol buffer, parsed whole by github.com/google/pprof/profile),
// in process CPU and bytes allocated per profile.
func BenchmarkGoroutineProfileForms(b *testing.B) {
	release := parkGoroutines(1000, 100, 8)
	defer release()
	forms := []struct {
		name string
		read func() (int, error)
	}{
		{"text", func() (int, error) {
			p, err := TakeGoroutineProfile()
			if err != nil {
				return 0, err
			}
			return len(p.BySession), nil
		}},
		{"proto", func() (int, error) {
			var buf bytes.Buffer
			if err := pprof.Lookup("goroutine").WriteTo(&buf, 0); err != nil {
				return 0, err
			}
			p, err := profile.ParseData(buf.Bytes())
			if err != nil {
				return 0, err
			}
			by := map[string]int{}
			for _, s := range p.Sample {
				if v := s.Label[SessionLabel]; len(v) > 0 {
					by[v[0]] += int(s.Value[0])
				}
			}
			return len(by), nil
		}},
	}
	for _, f := range forms {
		b.Run(f.name, func(b *testing.B) {
			b.ReportAllocs()
			cpu0 := processCPU(b)
			for b.Loop() {
				if n, err := f.read(); err != nil || n != 100 {
					b.Fatalf("%d sessions, %v", n, err)
				}
			}
			b.ReportMetric(float64(processCPU(b)-cpu0)/float64(b.N), "cpu-ns/op")
		})
	}
}
