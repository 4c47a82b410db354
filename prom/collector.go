package prom

import (
	"net/http"
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/openrtc-go/introspect/events"
)

// DefaultBuckets are the upper bounds, in seconds, of the stall-duration
// histogram: from OpenRTC's 50 ms threshold to a minute.
var DefaultBuckets = []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}

// DefaultExemplarWindow is how long the worst stall of a bucket stays its
// exemplar before a milder one may take its place.
const DefaultExemplarWindow = 10 * time.Minute

// Options configure a [Collector]. The zero value is the sensible default.
type Options struct {
	// Namespace prefixes every metric name. Empty means "openrtc".
	Namespace string

	// Tenant adds a tenant label to the per-agent series. Off by default: the
	// number of tenants is often unbounded, and every tenant multiplies the
	// series of each agent.
	Tenant bool

	// Buckets are the stall-duration histogram's upper bounds in seconds,
	// increasing. Nil means DefaultBuckets.
	Buckets []float64

	// ExemplarWindow is how long the worst stall of a bucket stays its
	// exemplar; after that the next stall in the bucket replaces it, however
	// short. Zero means DefaultExemplarWindow.
	ExemplarWindow time.Duration
}

// A Collector folds the introspector's events into per-worker counters and
// gauges and serves them to Prometheus. It implements
// [prometheus.Collector], and its Observe method makes it an observer of the
// introspector's events. Its methods are safe for concurrent use; Observe
// takes one mutex and does no I/O, so the worker never waits on a scrape
// for longer than the copy of a few maps.
type Collector struct {
	opts  Options
	descs descs

	mu       sync.Mutex
	worker   workerInfo
	sessions map[string]sessionKey // live session id → its agent and tenant
	active   map[sessionKey]int
	ended    map[endKey]uint64
	cpu      map[sessionKey]float64 // CPU seconds
	gor      map[string]int         // live session id → goroutines, as last sampled
	stalls   map[stallKey]uint64
	open     map[uint64]struct{} // stall ids counted but not yet ended
	hist     map[string]*histogram
	sample   events.Sample
	sampled  bool
	unavail  uint64
	dropped  uint64
}

type workerInfo struct {
	name, host, goVersion string
	started               time.Time
}

type sessionKey struct{ agent, tenant string }

type endKey struct {
	sessionKey
	outcome string
}

type stallKey struct {
	source, agent, cause string
}

// New returns a Collector with the given options.
func New(opts Options) *Collector {
	if opts.Namespace == "" {
		opts.Namespace = "openrtc"
	}
	if opts.Buckets == nil {
		opts.Buckets = DefaultBuckets
	}
	opts.Buckets = slices.Clone(opts.Buckets)
	sort.Float64s(opts.Buckets)
	if opts.ExemplarWindow <= 0 {
		opts.ExemplarWindow = DefaultExemplarWindow
	}
	c := &Collector{opts: opts}
	c.descs = newDescs(opts.Namespace, opts.Tenant)
	c.reset()
	return c
}

// reset forgets the live state of a previous worker life: sessions and open
// stalls. Counters are cumulative and survive, as Prometheus expects.
func (c *Collector) reset() {
	c.sessions = make(map[string]sessionKey)
	c.active = make(map[sessionKey]int)
	c.gor = make(map[string]int)
	c.open = make(map[uint64]struct{})
	if c.ended == nil {
		c.ended = make(map[endKey]uint64)
		c.cpu = make(map[sessionKey]float64)
		c.stalls = make(map[stallKey]uint64)
		c.hist = make(map[string]*histogram)
	}
}

// Observe folds one event into the metrics. The introspector calls it for
// every event it emits, in order; it may also be fed the records of a
// recording (events.Decode of each line) to serve the metrics of a worker
// after the fact.
func (c *Collector) Observe(d events.Decoded) {
	if d.Event == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	switch e := d.Event.(type) {
	case events.WorkerStart:
		c.reset()
		c.worker = workerInfo{e.Worker, e.Host, e.GoVersion, d.Time}
	case events.SessionStart:
		if _, dup := c.sessions[e.SessionID]; dup {
			return
		}
		k := c.key(e.Agent, e.Tenant)
		c.sessions[e.SessionID] = k
		c.active[k]++
	case events.SessionEnd:
		k, ok := c.sessions[e.SessionID]
		if !ok {
			return
		}
		delete(c.sessions, e.SessionID)
		delete(c.gor, e.SessionID)
		if c.active[k]--; c.active[k] <= 0 {
			delete(c.active, k)
		}
		c.ended[endKey{k, e.Outcome}]++
	case events.Sample:
		c.observeSample(e)
	case events.SlowSession:
		c.observeStall(d.Time, e)
	case events.RecorderDrop:
		c.dropped += uint64(max(e.Dropped, 0))
	case events.WorkerStop:
		c.open = make(map[uint64]struct{})
	}
}

func (c *Collector) key(agent, tenant string) sessionKey {
	if !c.opts.Tenant {
		tenant = ""
	}
	return sessionKey{agent, tenant}
}

// observeSample keeps the vitals and adds each session's CPU time to its
// agent, with the one definition replay uses (events.CPUWindow.SessionCPU).
func (c *Collector) observeSample(e events.Sample) {
	w, gor := e.CPU, e.GoroutinesBySession
	e.CPU.Sessions, e.GoroutinesBySession = nil, nil
	c.sample, c.sampled = e, true
	if w.Unavailable != "" {
		c.unavail++
	}
	if w.Valid() {
		for id, n := range w.Sessions {
			k, ok := c.sessions[id]
			if !ok {
				continue
			}
			c.cpu[k] += w.SessionCPU(n).Seconds()
		}
	}
	for id, n := range gor {
		if _, ok := c.sessions[id]; !ok {
			continue
		}
		if n <= 0 {
			delete(c.gor, id)
		} else {
			c.gor[id] = n
		}
	}
}

// observeStall counts a stall at its first report, so the counter rises
// while the stall still holds the loop, and observes its duration at its
// last, when the total is known.
func (c *Collector) observeStall(t time.Time, e events.SlowSession) {
	if _, seen := c.open[e.StallID]; !seen {
		c.stalls[stallKey{e.Source, e.Agent, e.Cause}]++
		if len(c.open) >= maxOpenStalls {
			c.open = make(map[uint64]struct{}) // final reports lost; do not grow
		}
		c.open[e.StallID] = struct{}{}
	}
	if e.Ongoing {
		return
	}
	delete(c.open, e.StallID)
	h := c.hist[e.Source]
	if h == nil {
		h = newHistogram(c.opts.Buckets)
		c.hist[e.Source] = h
	}
	h.observe(t, e.Blocked.Seconds(), e.SessionID, e.StallID, c.opts.ExemplarWindow)
}

// maxOpenStalls bounds the stalls remembered between their first and last
// report; far more than can be going on at once.
const maxOpenStalls = 4096

// Handler returns an HTTP handler that serves this collector alone, in the
// OpenMetrics format when the scraper asks for it (which carries the
// exemplars) and in the text format otherwise.
func (c *Collector) Handler() http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{EnableOpenMetrics: true, Registry: reg})
}

// Describe sends the descriptors of every metric the collector exports.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs.all() {
		ch <- d
	}
}

// Collect sends the current value of every series. The series are made
// under the collector's lock and sent after it is released: the worker's
// events never wait on the scrape's encoding.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	for _, m := range c.metrics() {
		ch <- m
	}
}

// metrics returns every series, made under the lock.
func (c *Collector) metrics() []prometheus.Metric {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]prometheus.Metric, 0, 2*len(c.active)+len(c.ended)+len(c.cpu)+len(c.stalls)+len(c.hist)+8)
	ch := &appender{&out}
	d := &c.descs
	if c.worker.name != "" {
		ch.add(prometheus.MustNewConstMetric(d.info, prometheus.GaugeValue, 1, c.worker.name, c.worker.host, c.worker.goVersion))
		ch.add(prometheus.MustNewConstMetric(d.started, prometheus.GaugeValue, float64(c.worker.started.UnixNano())/1e9))
	}
	gorByKey := make(map[sessionKey]int, len(c.active))
	for id, n := range c.gor {
		gorByKey[c.sessions[id]] += n
	}
	for k, n := range c.active {
		ch.add(prometheus.MustNewConstMetric(d.active, prometheus.GaugeValue, float64(n), c.labels(k)...))
		ch.add(prometheus.MustNewConstMetric(d.sessionGor, prometheus.GaugeValue, float64(gorByKey[k]), c.labels(k)...))
	}
	for k, n := range c.ended {
		ch.add(prometheus.MustNewConstMetric(d.ended, prometheus.CounterValue, float64(n), append(c.labels(k.sessionKey), k.outcome)...))
	}
	for k, s := range c.cpu {
		ch.add(prometheus.MustNewConstMetric(d.cpu, prometheus.CounterValue, s, c.labels(k)...))
	}
	for k, n := range c.stalls {
		ch.add(prometheus.MustNewConstMetric(d.stalls, prometheus.CounterValue, float64(n), k.source, k.agent, k.cause))
	}
	for src, h := range c.hist {
		ch.add(h.metric(d.stallSeconds, src))
	}
	if c.sampled {
		s := c.sample
		ch.add(prometheus.MustNewConstMetric(d.goroutines, prometheus.GaugeValue, float64(s.Goroutines)))
		ch.add(prometheus.MustNewConstMetric(d.schedP99, prometheus.GaugeValue, s.SchedP99.Seconds()))
		ch.add(prometheus.MustNewConstMetric(d.schedMax, prometheus.GaugeValue, s.SchedMax.Seconds()))
		ch.add(prometheus.MustNewConstMetric(d.rss, prometheus.GaugeValue, float64(s.RSSBytes)))
	}
	ch.add(prometheus.MustNewConstMetric(d.unavail, prometheus.CounterValue, float64(c.unavail)))
	ch.add(prometheus.MustNewConstMetric(d.dropped, prometheus.CounterValue, float64(c.dropped)))
	return out
}

type appender struct{ ms *[]prometheus.Metric }

func (a *appender) add(m prometheus.Metric) { *a.ms = append(*a.ms, m) }

func (c *Collector) labels(k sessionKey) []string {
	if c.opts.Tenant {
		return []string{k.agent, k.tenant}
	}
	return []string{k.agent}
}

// descs are the metric descriptors, named by Prometheus' conventions: base
// units, _total for counters, _seconds for time.
type descs struct {
	info, started, active, sessionGor, ended, cpu, stalls, stallSeconds *prometheus.Desc
	goroutines, schedP99, schedMax, rss, unavail, dropped               *prometheus.Desc
}

func newDescs(ns string, tenant bool) descs {
	per := []string{"agent"}
	if tenant {
		per = append(per, "tenant")
	}
	n := func(name string) string { return ns + "_" + name }
	nd := prometheus.NewDesc
	return descs{
		info:         nd(n("worker_info"), "The worker introspected: its name, host and Go version.", []string{"worker", "host", "go_version"}, nil),
		started:      nd(n("worker_start_time_seconds"), "When the worker started introspecting, in seconds since the Unix epoch.", nil, nil),
		active:       nd(n("sessions_active"), "Sessions live now.", per, nil),
		sessionGor:   nd(n("session_goroutines"), "Goroutines started under live sessions, as last sampled; growth while sessions do not is a leak.", per, nil),
		ended:        nd(n("sessions_ended_total"), "Sessions ended, by outcome (ok, error, cancelled).", append(slices.Clone(per), "outcome"), nil),
		cpu:          nd(n("session_cpu_seconds_total"), "CPU time of sessions, from labelled CPU profile samples.", per, nil),
		stalls:       nd(n("stalls_total"), "Stalls: a session held a shared loop or section (source is its name), or the scheduler lagged (source=\"scheduler\"), longer than the slow threshold. Counted when first seen; cause is its verdict then: blocked (the holder waited on I/O, a lock, a sleep), waiting-for-cpu (a victim: it was runnable while others had the CPU), running, or empty when not yet known.", []string{"source", "agent", "cause"}, nil),
		stallSeconds: nd(n("stall_duration_seconds"), "How long stalls lasted; each bucket's exemplar names the session and stall id of its worst recent stall.", []string{"source"}, nil),
		goroutines:   nd(n("goroutines"), "Goroutines in the worker, as last sampled.", nil, nil),
		schedP99:     nd(n("scheduler_latency_p99_seconds"), "99th percentile of goroutine scheduling latency over the last sample interval.", nil, nil),
		schedMax:     nd(n("scheduler_latency_max_seconds"), "Worst goroutine scheduling latency over the last sample interval.", nil, nil),
		rss:          nd(n("resident_memory_bytes"), "Resident memory of the worker, as last sampled; each session's share is this over sessions_active.", nil, nil),
		unavail:      nd(n("cpu_windows_unavailable_total"), "CPU profile windows that could not be taken (another CPU profile was running), so per-session CPU is missing for them.", nil, nil),
		dropped:      nd(n("recorder_dropped_records_total"), "Records the recorder could not write (queue full or write error).", nil, nil),
	}
}

func (d *descs) all() []*prometheus.Desc {
	return []*prometheus.Desc{d.info, d.started, d.active, d.sessionGor, d.ended, d.cpu, d.stalls, d.stallSeconds,
		d.goroutines, d.schedP99, d.schedMax, d.rss, d.unavail, d.dropped}
}

var _ prometheus.Collector = (*Collector)(nil)

// stallIDLabel formats a stall id for an exemplar.
func stallIDLabel(id uint64) string { return strconv.FormatUint(id, 10) }
