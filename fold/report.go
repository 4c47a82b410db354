package fold

import (
	"slices"
	"strings"
	"time"

	"github.com/openrtc-go/introspect/events"
)

// Report accumulates, in one pass over a whole recording, what the replay's
// `sessions` and `summary` commands print: a row for every session that
// lived in it, every stall, and the figures of the post-mortem.
//
// Feed it every line with [Report.Line] (or decoded records with
// [Report.Apply]) in time order, then ask for [Report.Rows] and
// [Report.Summary]. A Report is not safe for concurrent use.
type Report struct {
	state  *State
	stalls StallList

	lines, bytes, bad int64
	counts            map[string]int64 // records by kind; "" for other lines
	first, last       time.Time        // time range of the events folded
	newer             bool             // a record of a newer schema version was seen

	workers []WorkerLife

	peakLive   int
	peakLiveAt time.Time

	rss   rssTrend // process RSS
	share rssTrend // RSS per live session: what mem_mb shows

	// Per-session signals the rows do not keep.
	hot map[string]*hotTrack // sessions that had ≥ hotShare of a CPU window's samples
	gor map[string]*gorTrack // goroutine counts over the session's life

	scratch events.SampleCounts // Line's, reused

	// The process's CPU over the whole input and the part no sample
	// covered, across worker restarts (see CPUAccount).
	cpuNs, unsampledNs, missedNs int64
	unsampledBy                  CPUAccount // only its Owners
}

// hotShare is the share of one CPU window's samples above which a session
// counts as hot in that window.
const hotShare = 25.0

type hotTrack struct {
	windows int           // windows at or over hotShare
	time    time.Duration // the profiled time of those windows
	peak    float64       // the highest share
	peakAt  time.Time     // the end of that window
}

type gorTrack struct {
	first, last, peak int
	ups, downs        int
	peakAt            time.Time
	stacks            []events.GoroutineGroup // where they were parked when last seen growing
}

// hotSamples returns the fewest samples of a window of total that make a
// session hot (pct ≥ hotShare): pct rises with the samples, so counting
// against it spares a division for every session of every window.
func hotSamples(total int64) int64 {
	n := max(0, total*int64(hotShare)/100-1)
	for pct(n, total) < hotShare && n <= total {
		n++
	}
	return n
}

// NewReport returns an empty Report.
func NewReport() *Report {
	s := New()
	s.KeepEnded = true
	return &Report{
		state:  s,
		counts: make(map[string]int64),
		hot:    make(map[string]*hotTrack),
		gor:    make(map[string]*gorTrack),
	}
}

// Line folds one JSON line. Lines that are not our events are counted and
// skipped without being decoded, and so are keyframes that agree with the
// state already folded (see [State.Agrees]): that is what keeps a report
// over a day of recording fast. A malformed event line is counted in
// [Summary.BadLines] and its decoding error returned; the report goes on.
func (r *Report) Line(line []byte) error {
	l := decodedLine{line: line, kind: KindOf(line)}
	if needsDecode(l.kind) {
		l.d, l.err = events.DecodeCounts(line, &r.scratch)
		l.counts, l.decoded = &r.scratch, true
	}
	return r.applyLine(&l)
}

// applyLine folds a line, decoded already (l.decoded) or not.
func (r *Report) applyLine(l *decodedLine) error {
	line, kind, d, err := l.line, l.kind, l.d, l.err
	r.lines++
	r.bytes += int64(len(line))
	switch {
	case kind == "":
		r.counts[""]++
		return nil
	case kind == events.KindKeyframe && r.state.Agrees(line):
		r.counts[kind]++
		return nil
	}
	counts := l.counts
	if !l.decoded {
		counts = &r.scratch
		d, err = events.DecodeCounts(line, counts)
	}
	if err != nil {
		r.bad++
		return err
	}
	r.apply(d, counts)
	return nil
}

// Apply folds one decoded record.
func (r *Report) Apply(d events.Decoded) { r.apply(d, nil) }

// apply folds d; counts holds the per-session objects of a sample decoded
// by events.DecodeCounts, and is nil for one of Apply.
func (r *Report) apply(d events.Decoded, counts *events.SampleCounts) {
	if d.Event == nil {
		r.counts[""]++
		return
	}
	if d.Newer() {
		r.newer = true
	}
	kind := d.Event.Kind()
	r.counts[kind]++
	if r.first.IsZero() || d.Time.Before(r.first) {
		r.first = d.Time
	}
	if d.Time.After(r.last) {
		r.last = d.Time
	}
	switch e := d.Event.(type) {
	case events.WorkerStart:
		if n := len(r.workers); n > 0 && r.workers[n-1].End.IsZero() {
			r.workers[n-1].End = d.Time
		}
		r.workers = append(r.workers, WorkerLife{Name: e.Worker, PID: e.PID, Host: e.Host,
			GoVersion: e.GoVersion, Start: d.Time})
	case events.WorkerStop:
		if n := len(r.workers); n > 0 {
			w := &r.workers[n-1]
			w.End, w.Stopped, w.StopReason = d.Time, true, e.Reason
		}
	case events.RecorderDrop:
		if n := len(r.workers); n > 0 {
			w := &r.workers[n-1]
			w.Dropped += e.Dropped
			if reason, ok := strings.CutPrefix(e.Reason, events.DropFinalPrefix); ok {
				w.End, w.StoppedFailing, w.StopReason = d.Time, true, reason
			}
		}
	case events.SlowSession:
		r.stalls.Add(d.Time, e)
	case events.Sample:
		if counts == nil {
			counts = countsOf(e)
		}
		r.sample(d.Time, e, counts)
	}
	r.state.apply(d, counts)
	if n := len(r.state.sessions); n > r.peakLive {
		r.peakLive, r.peakLiveAt = n, d.Time
	}
}

func (r *Report) sample(t time.Time, e events.Sample, counts *events.SampleCounts) {
	r.rss.add(t, e.RSSBytes)
	if e.Sessions > 0 {
		r.share.add(t, e.RSSBytes/uint64(e.Sessions))
	}
	if e.CPU.Duration > 0 || e.CPU.Unavailable != "" {
		cpuCounters{&r.cpuNs, &r.unsampledNs, &r.missedNs}.add(e.CPU)
		if e.CPU.UnsampledCPU() > 0 {
			r.unsampledBy.addOwner(e.CPU.Owner)
		}
	}
	if e.CPU.Valid() {
		hot := hotSamples(e.CPU.Total)
		for _, c := range counts.CPU {
			if c.N < hot {
				continue
			}
			if p := pct(c.N, e.CPU.Total); p >= hotShare {
				h := r.hot[string(c.ID)]
				if h == nil {
					h = &hotTrack{}
					r.hot[string(c.ID)] = h
				}
				h.windows++
				h.time += e.CPU.Duration
				if p > h.peak {
					h.peak, h.peakAt = p, t
				}
			}
		}
	}
	defer func() {
		for id, groups := range e.GoroutineStacks {
			if g := r.gor[id]; g != nil {
				g.stacks = groups
			}
		}
	}()
	for _, c := range counts.Gor {
		n := int(c.N)
		// A live session holds its track, which saves a lookup in the
		// map of every session of the day.
		ss := r.state.sessions[string(c.ID)]
		var g *gorTrack
		if ss != nil {
			g = ss.gor
		}
		if g == nil {
			g = r.gor[string(c.ID)]
		}
		if g == nil {
			if ss == nil {
				continue
			}
			ss.gor = &gorTrack{first: n, last: n, peak: n, peakAt: t}
			r.gor[ss.SessionID] = ss.gor
			continue
		}
		if ss != nil {
			ss.gor = g
		}
		switch {
		case n > g.last:
			g.ups++
		case n < g.last:
			g.downs++
		}
		g.last = n
		if n > g.peak {
			g.peak, g.peakAt = n, t
		}
	}
}

// CPU returns the process's CPU time over the whole input, the sum of the
// sessions' cpu_seconds, and the part of the process's CPU that no sample
// covered, which no session's figure holds.
func (r *Report) CPU() CPUAccount {
	a := cpuAccount(r.cpuNs, r.unsampledNs, r.missedNs)
	a.Owners = slices.Clone(r.unsampledBy.Owners)
	for _, ss := range r.state.inStartOrder() {
		a.SessionsCPUS += float64(ss.CPUNanos)
	}
	a.SessionsCPUS = round3(a.SessionsCPUS / 1e9)
	return a
}

// Rows returns a row for every session of the input, in start order: the
// ended ones with their outcome, and those still live at the last event
// with their duration so far.
func (r *Report) Rows() []Row { return r.state.AllRows(r.state.Now()) }

// Stalls returns every stall of the input in time order.
func (r *Report) Stalls() []Stall { return r.stalls.Stalls() }

// Time returns the time range of the events folded.
func (r *Report) Time() (first, last time.Time) { return r.first, r.last }

// WorkerLife is one run of a worker process within the input, from its
// worker.start to its worker.stop, the next start or the end of the input.
type WorkerLife struct {
	Name       string    `json:"name"`
	PID        int       `json:"pid"`
	Host       string    `json:"host"`
	GoVersion  string    `json:"go_version"`
	Start      time.Time `json:"start"`
	End        time.Time `json:"end,omitzero"`
	Stopped    bool      `json:"stopped"` // it wrote the clean-shutdown marker
	StopReason string    `json:"stop_reason,omitempty"`
	Dropped    int64     `json:"dropped_events"` // events its recorder could not write
	// StoppedFailing: its recorder was closed while its writes failed (a
	// full disk): the recording ends with the count of what was lost
	// (StopReason is the write error), not in a crash.
	StoppedFailing bool `json:"stopped_while_writes_failed,omitempty"`
}

// rssTrend keeps the extremes of a memory figure and a least-squares line
// through it.
type rssTrend struct {
	n                 float64
	origin            time.Time
	sx, sy, sxx, sxy  float64 // x in hours since origin, y in MiB
	syy               float64
	low, high         uint64
	lowAt, highAt     time.Time
	firstMiB, lastMiB float64
}

func (t *rssTrend) add(at time.Time, rss uint64) {
	if t.n == 0 {
		t.origin, t.low, t.high, t.lowAt, t.highAt = at, rss, rss, at, at
		t.firstMiB = float64(rss) / mib
	}
	if rss < t.low {
		t.low, t.lowAt = rss, at
	}
	if rss > t.high {
		t.high, t.highAt = rss, at
	}
	x, y := at.Sub(t.origin).Hours(), float64(rss)/mib
	t.n++
	t.sx += x
	t.sy += y
	t.sxx += x * x
	t.sxy += x * y
	t.syy += y * y
	t.lastMiB = y
}

// fit returns the slope in MiB per hour and the coefficient of
// determination of the line; ok is false with fewer than two distinct
// times.
func (t *rssTrend) fit() (slope, r2 float64, ok bool) {
	den := t.n*t.sxx - t.sx*t.sx
	if t.n < 2 || den <= 0 {
		return 0, 0, false
	}
	slope = (t.n*t.sxy - t.sx*t.sy) / den
	vy := t.n*t.syy - t.sy*t.sy
	if vy <= 0 {
		return slope, 0, true
	}
	num := t.n*t.sxy - t.sx*t.sy
	return slope, num * num / (den * vy), true
}

// mean returns the mean RSS in MiB.
func (t *rssTrend) mean() float64 {
	if t.n == 0 {
		return 0
	}
	return t.sy / t.n
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
