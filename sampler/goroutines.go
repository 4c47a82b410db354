package sampler

import (
	"bytes"
	"fmt"
	"runtime/pprof"
	"sync"
	"time"

	"github.com/google/pprof/profile"
)

// profileBufs recycles the buffers goroutine profiles are written into.
var profileBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// GoroutinesBySession counts the live goroutines of each session (by their
// pprof label "session") and in total, from a goroutine profile. Goroutines
// without a session label count only in total.
//
// A goroutine profile briefly stops the world twice (tens of microseconds
// each on an idle machine) and walks every goroutine's stack, so its cost
// grows with the number of goroutines: about 50ms of CPU at 10,000
// goroutines. Take it as often as [GoroutineInterval] says, not every tick.
func GoroutinesBySession() (bySession map[string]int, total int, err error) {
	buf := profileBufs.Get().(*bytes.Buffer)
	defer profileBufs.Put(buf)
	buf.Reset()
	if err := pprof.Lookup("goroutine").WriteTo(buf, 0); err != nil {
		return nil, 0, fmt.Errorf("sampler: write goroutine profile: %w", err)
	}
	return parseGoroutineProfile(buf.Bytes())
}

// parseGoroutineProfile counts a goroutine profile's goroutines per session.
// Each sample is a group of goroutines with the same stack and labels, and
// its value is how many there are.
func parseGoroutineProfile(data []byte) (map[string]int, int, error) {
	p, err := profile.ParseData(data)
	if err != nil {
		return nil, 0, fmt.Errorf("sampler: parse goroutine profile (%d bytes): %w", len(data), err)
	}
	by := make(map[string]int)
	total := 0
	for _, s := range p.Sample {
		if len(s.Value) == 0 || s.Value[0] <= 0 {
			continue
		}
		n := int(s.Value[0])
		total += n
		if id := sessionOf(s); id != "" {
			by[id] += n
		}
	}
	return by, total, nil
}

// The goroutine profile's cost in CPU time, measured by
// BenchmarkGoroutinesBySession (process CPU time per profile, from
// getrusage) on a shared 2-core linux/amd64 virtual machine with Go 1.26:
// 1.4–2.1ms with no goroutines to speak of, 8.4–10.5ms at 1,000 parked
// goroutines and 42–53ms at 10,000, each 8 frames deep in its session's
// code. The fixed part is mostly runtime/pprof's gzip writer, which
// allocates 1.2MB per profile; the part per goroutine is the stack walk and
// runtime/pprof formatting each goroutine's stack into a map key (26
// allocations per goroutine). The model
// below sits at the median at 1,000 goroutines and at the worst run at
// 10,000.
const (
	goroutineProfileFixedCost   = 4 * time.Millisecond
	goroutineProfileCostPerG    = 5 * time.Microsecond
	goroutineProfileBudget      = 0.0025 // 0.25% of one core
	goroutineIntervalResolution = 100 * time.Millisecond
)

// GoroutineInterval returns how long to wait between two calls of
// [GoroutinesBySession] when the process has the given number of
// goroutines, so that taking the profile costs at most about 0.25% of one
// core; it never returns less than base.
//
// The cost model is 4ms plus 5µs per goroutine (measured on a small
// linux/amd64 machine; see the benchmark), so the interval is 1.6s plus 2ms
// per goroutine: 1.8s at 100 goroutines, 3.6s at 1,000, 21.6s at 10,000
// and about 3m22s at 100,000 (before applying base). The result is rounded
// up to a tenth of a second.
func GoroutineInterval(goroutines int, base time.Duration) time.Duration {
	goroutines = max(goroutines, 0)
	cost := goroutineProfileFixedCost + time.Duration(goroutines)*goroutineProfileCostPerG
	d := time.Duration(float64(cost) / goroutineProfileBudget)
	if r := d % goroutineIntervalResolution; r != 0 {
		d += goroutineIntervalResolution - r
	}
	return max(d, base)
}
