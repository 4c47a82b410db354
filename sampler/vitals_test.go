package sampler

import (
	"os"
	"os/exec"
	"runtime"
	"runtime/metrics"
	"sync"
	"testing"
	"time"
)

func TestVitalsSeeAForcedGC(t *testing.T) {
	r := NewVitalsReader()
	runtime.GC()
	v := r.Read()
	t.Logf("%+v", v)
	if v.Goroutines <= 0 {
		t.Errorf("Goroutines = %d", v.Goroutines)
	}
	for name, n := range map[string]int{"Runnable": v.Runnable, "Running": v.Running, "Waiting": v.Waiting, "NotInGo": v.NotInGo} {
		if n < 0 {
			t.Errorf("%s = %d: Go 1.26 provides it", name, n)
		}
	}
	if v.Running < 1 {
		t.Errorf("Running = %d, but this goroutine runs", v.Running)
	}
	if v.HeapLive == 0 {
		t.Error("HeapLive = 0 after a GC")
	}
	if v.GCCycles < 1 {
		t.Errorf("GCCycles = %d after runtime.GC", v.GCCycles)
	}
	if v.GCPauseTotal <= 0 || v.GCPauseMax <= 0 {
		t.Errorf("GC pause total %v, max %v after runtime.GC", v.GCPauseTotal, v.GCPauseMax)
	}
	if v.Interval <= 0 || v.Time.IsZero() {
		t.Errorf("Interval %v, Time %v", v.Interval, v.Time)
	}
	checkLatencies(t, v)

	// An interval with no GC forced: counters are deltas, not totals.
	v2 := r.Read()
	if v2.GCCycles > 1 {
		t.Errorf("GCCycles = %d in an idle microsecond interval; deltas look cumulative", v2.GCCycles)
	}
	checkLatencies(t, v2)
}

func checkLatencies(t *testing.T, v Vitals) {
	t.Helper()
	if v.SchedLatencyP50 < 0 || v.SchedLatencyP50 > v.SchedLatencyP99 || v.SchedLatencyP99 > v.SchedLatencyMax {
		t.Errorf("scheduling latency p50 %v, p99 %v, max %v: want 0 ≤ p50 ≤ p99 ≤ max",
			v.SchedLatencyP50, v.SchedLatencyP99, v.SchedLatencyMax)
	}
	if v.SchedCount == 0 && v.SchedLatencyMax != 0 {
		t.Errorf("latency max %v with no scheduling events", v.SchedLatencyMax)
	}
	if v.MutexWait < 0 || v.MutexWaitRate < 0 {
		t.Errorf("mutex wait %v, rate %v", v.MutexWait, v.MutexWaitRate)
	}
}

func TestVitalsSeeMutexWaits(t *testing.T) {
	// The runtime times one lock wait in eight, so make plenty: eight
	// goroutines take turns holding a lock for 200µs, 50 times each, so
	// about seven of them wait at any moment for 80ms or more.
	r := NewVitalsReader()
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 50; j++ {
				mu.Lock()
				time.Sleep(200 * time.Microsecond)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	v := r.Read()
	t.Logf("mutex wait %v over %v (rate %.2f); sched p50 %v p99 %v max %v over %d",
		v.MutexWait, v.Interval, v.MutexWaitRate, v.SchedLatencyP50, v.SchedLatencyP99, v.SchedLatencyMax, v.SchedCount)
	if v.MutexWait < 50*time.Millisecond {
		t.Errorf("MutexWait = %v after 8 goroutines queued on one lock for %v", v.MutexWait, v.Interval)
	}
	if v.MutexWaitRate <= 0 {
		t.Errorf("MutexWaitRate = %v", v.MutexWaitRate)
	}
	if v.SchedCount == 0 {
		t.Error("no scheduling events while goroutines came and went")
	}
	checkLatencies(t, v)
}

func TestVitalsReadDoesNotAllocate(t *testing.T) {
	r := NewVitalsReader()
	r.Read()
	if n := testing.AllocsPerRun(100, func() { r.Read() }); n > 0 {
		t.Errorf("Read allocates %v times per call", n)
	}
}

// TestHeapBeforeFirstGC runs in a child process with the collector off, so
// no collection has run: the heap figure must still say what the heap holds,
// not zero (a fresh worker's first screens read "heap 0.0 MiB" otherwise).
func TestHeapBeforeFirstGC(t *testing.T) {
	if os.Getenv("SAMPLER_NO_GC_CHILD") == "1" {
		keep = make([]byte, 4<<20)
		st := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}}
		if metrics.Read(st); st[0].Value.Uint64() != 0 {
			t.Skip("a collection ran despite GOGC=off")
		}
		if v := NewVitalsReader().Read(); v.HeapLive < 4<<20 {
			t.Fatalf("HeapLive = %d before the first GC, want at least the 4 MiB allocated", v.HeapLive)
		}
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestHeapBeforeFirstGC$", "-test.count=1")
	cmd.Env = append(os.Environ(), "SAMPLER_NO_GC_CHILD=1", "GOGC=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
}

var keep []byte
