package sampler

import (
	"runtime"
	"runtime/metrics"
	"time"
)

// Vitals describes the Go runtime over one interval: a few gauges read at the
// end of the interval and the change of the runtime's cumulative counters
// and histograms over it. All of it comes from [runtime/metrics], which reads
// without stopping the world.
//
// Latencies and pauses taken from runtime histograms have the resolution of
// the runtime's buckets, which are a quarter of a power of two wide (a
// bucket's upper bound is at most 25% above its lower bound). The runtime
// measures scheduling latency and lock waits on one goroutine state change
// in eight and scales the lock waits up, so those figures are estimates
// that need some traffic to be meaningful.
type Vitals struct {
	// Time is when the values were read.
	Time time.Time

	// Interval is the time since the previous read (or since the reader was
	// created, for the first read). The counters below cover it.
	Interval time.Duration

	// Goroutines is the number of live goroutines
	// (/sched/goroutines:goroutines).
	Goroutines int

	// Runnable, Running, Waiting and NotInGo split Goroutines by state:
	// ready to run and queued, running Go code, blocked (channels, locks,
	// timers, network), and in a system call or cgo call. They are
	// approximate and need not add up to Goroutines. Each is -1 when the
	// runtime does not provide it (before Go 1.26).
	Runnable, Running, Waiting, NotInGo int

	// HeapLive is the heap memory, in bytes, occupied by objects the
	// previous garbage collection found live (/gc/heap/live:bytes). Before
	// the first collection, which finds nothing yet, it is the heap
	// occupied by all objects, live or not yet collected
	// (/memory/classes/heap/objects:bytes), rather than zero.
	HeapLive uint64

	// GCCycles is the number of garbage collection cycles that completed in
	// the interval, automatic and forced.
	GCCycles uint64

	// GCPauseTotal is the total time the world was stopped for the garbage
	// collector in the interval, stopping included
	// (/sched/pauses/total/gc:seconds), estimated by taking each pause at
	// its bucket's midpoint; GCPauseMax is the longest single pause, rounded
	// up to its bucket's upper bound.
	GCPauseTotal, GCPauseMax time.Duration

	// SchedLatencyP50, SchedLatencyP99 and SchedLatencyMax describe how long
	// goroutines that became runnable in the interval waited in the run
	// queue before they ran (/sched/latencies:seconds): the median, the
	// 99th percentile (both interpolated within a bucket) and the maximum
	// (the upper bound of the highest bucket reached). High values mean the
	// process is CPU-saturated or paused. All three are zero when no
	// scheduling was observed in the interval.
	SchedLatencyP50, SchedLatencyP99, SchedLatencyMax time.Duration

	// SchedCount is the number of scheduling latencies observed in the
	// interval, the observations behind the figures above. The runtime
	// observes about one goroutine wake-up in eight.
	SchedCount uint64

	// MutexWait is the time goroutines spent blocked on a sync.Mutex, a
	// sync.RWMutex or a runtime-internal lock in the interval, summed over
	// goroutines (/sync/mutex/wait/total:seconds). The runtime times one
	// block in eight and multiplies by eight, so a handful of waits may
	// show as zero or as eight times their length.
	MutexWait time.Duration

	// MutexWaitRate is MutexWait divided by Interval: on average, how many
	// goroutines were waiting for a lock at any moment. A rate of 2 means
	// that each second, two goroutine-seconds were lost to lock waits.
	MutexWaitRate float64
}

// The metrics a VitalsReader reads, in the order of its samples.
const (
	mGoroutines = iota
	mRunnable
	mRunning
	mWaiting
	mNotInGo
	mHeapLive
	mHeapObjects
	mGCCycles
	mGCPauses
	mSchedLatencies
	mMutexWait
	numMetrics
)

var vitalsMetricNames = [numMetrics]string{
	mGoroutines:     "/sched/goroutines:goroutines",
	mRunnable:       "/sched/goroutines/runnable:goroutines",
	mRunning:        "/sched/goroutines/running:goroutines",
	mWaiting:        "/sched/goroutines/waiting:goroutines",
	mNotInGo:        "/sched/goroutines/not-in-go:goroutines",
	mHeapLive:       "/gc/heap/live:bytes",
	mHeapObjects:    "/memory/classes/heap/objects:bytes",
	mGCCycles:       "/gc/cycles/total:gc-cycles",
	mGCPauses:       "/sched/pauses/total/gc:seconds",
	mSchedLatencies: "/sched/latencies:seconds",
	mMutexWait:      "/sync/mutex/wait/total:seconds",
}

// A VitalsReader reads [Vitals], keeping the previous read's cumulative values
// so that each read covers the interval since the one before.
//
// A VitalsReader is not safe for concurrent use; read it from one goroutine
// (the one that ticks).
type VitalsReader struct {
	samples []metrics.Sample
	last    time.Time

	gcCycles  uint64
	mutexWait float64
	latencies []uint64 // cumulative bucket counts at the previous read
	pauses    []uint64
	delta     []uint64 // scratch for one interval's bucket counts
}

// NewVitalsReader returns a reader whose first [VitalsReader.Read] covers
// the interval since this call.
func NewVitalsReader() *VitalsReader {
	r := &VitalsReader{samples: make([]metrics.Sample, numMetrics)}
	for i, name := range vitalsMetricNames {
		r.samples[i].Name = name
	}
	r.read()
	r.advance(time.Now())
	return r
}

// Read returns the vitals for the interval since the previous Read.
func (r *VitalsReader) Read() Vitals {
	r.read()
	now := time.Now()
	v := Vitals{
		Time:       now,
		Interval:   now.Sub(r.last),
		Goroutines: r.intOr(mGoroutines, runtime.NumGoroutine()),
		Runnable:   r.intOr(mRunnable, -1),
		Running:    r.intOr(mRunning, -1),
		Waiting:    r.intOr(mWaiting, -1),
		NotInGo:    r.intOr(mNotInGo, -1),
		HeapLive:   r.uint(mHeapLive),
	}
	if v.HeapLive == 0 {
		v.HeapLive = r.uint(mHeapObjects)
	}
	if c := r.uint(mGCCycles); c > r.gcCycles {
		v.GCCycles = c - r.gcCycles
	}

	if h := r.hist(mGCPauses); h != nil {
		r.delta = resize(r.delta, len(h.Counts))
		diffCounts(r.delta, r.pauses, h.Counts)
		// /cpu/classes/gc/pause:cpu-seconds ÷ GOMAXPROCS would give an
		// exact total, but it counts the time spent stopping the world as
		// the stopping thread's CPU time rather than as wall time, and on a
		// loaded machine stopping can be most of a pause.
		v.GCPauseTotal = seconds(histSum(r.delta, h.Buckets))
		v.GCPauseMax = seconds(histMax(r.delta, h.Buckets))
	}

	if h := r.hist(mSchedLatencies); h != nil {
		r.delta = resize(r.delta, len(h.Counts))
		diffCounts(r.delta, r.latencies, h.Counts)
		for _, c := range r.delta {
			v.SchedCount += c
		}
		v.SchedLatencyP50 = seconds(histQuantile(r.delta, h.Buckets, 0.50))
		v.SchedLatencyP99 = seconds(histQuantile(r.delta, h.Buckets, 0.99))
		v.SchedLatencyMax = seconds(histMax(r.delta, h.Buckets))
	}

	if w := r.float(mMutexWait); w > r.mutexWait {
		v.MutexWait = seconds(w - r.mutexWait)
		if v.Interval > 0 {
			v.MutexWaitRate = v.MutexWait.Seconds() / v.Interval.Seconds()
		}
	}

	r.advance(now)
	return v
}

// read refreshes the samples. Reusing the same samples lets runtime/metrics
// reuse the histograms' memory, so steady-state reads do not allocate.
func (r *VitalsReader) read() { metrics.Read(r.samples) }

// advance remembers the current cumulative values as the next interval's
// starting point. The histograms' counts are copied: the runtime may reuse
// their memory at the next read.
func (r *VitalsReader) advance(now time.Time) {
	r.last = now
	r.gcCycles = r.uint(mGCCycles)
	r.mutexWait = r.float(mMutexWait)
	if h := r.hist(mSchedLatencies); h != nil {
		r.latencies = append(r.latencies[:0], h.Counts...)
	}
	if h := r.hist(mGCPauses); h != nil {
		r.pauses = append(r.pauses[:0], h.Counts...)
	}
}

// The accessors below tolerate a metric the runtime does not know (an older
// or newer Go release), which metrics.Read reports as KindBad.

func (r *VitalsReader) uint(i int) uint64 {
	if v := r.samples[i].Value; v.Kind() == metrics.KindUint64 {
		return v.Uint64()
	}
	return 0
}

func (r *VitalsReader) intOr(i int, missing int) int {
	if v := r.samples[i].Value; v.Kind() == metrics.KindUint64 {
		return int(v.Uint64())
	}
	return missing
}

func (r *VitalsReader) float(i int) float64 {
	if v := r.samples[i].Value; v.Kind() == metrics.KindFloat64 {
		return v.Float64()
	}
	return 0
}

func (r *VitalsReader) hist(i int) *metrics.Float64Histogram {
	if v := r.samples[i].Value; v.Kind() == metrics.KindFloat64Histogram {
		return v.Float64Histogram()
	}
	return nil
}

// resize returns s with length n, reusing its memory when it is big enough.
func resize(s []uint64, n int) []uint64 {
	if cap(s) >= n {
		return s[:n]
	}
	return make([]uint64, n)
}
