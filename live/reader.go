package live

import (
	"context"
	"math"
	"time"

	"github.com/openrtc-go/introspect/fold"
)

// Snapshot is one snapshot as a [Reader] returns it.
type Snapshot struct {
	View fold.View
	Kind string // KindIntrospect or KindOpenRTC
	Peer Peer   // who served it
	// Restarted reports that the worker is not the one of the previous
	// snapshot: another pid, an uptime that went back, another start time.
	Restarted bool
}

// Reader fetches successive snapshots from one socket and makes them read
// alike whichever kind of worker serves them. For OpenRTC's worker, whose
// rows' cpu_pct is a share of the sampler's ticks since the worker started,
// it turns two snapshots into the share of the time between them, as our
// own worker serves it; and it keeps each session's start as first seen, so
// that a row's start does not jitter with the rounding of its duration.
//
// A Reader is not safe for concurrent use.
type Reader struct {
	path   string
	points []cpuPoint           // earlier OpenRTC snapshots, oldest first
	starts map[string]time.Time // session → start, as first seen
	pid    int
	uptime float64
	start  time.Time
	kind   string
	seen   bool
}

// cpuPoint is what the CPU window needs of an earlier OpenRTC snapshot.
type cpuPoint struct {
	uptime float64
	cpu    map[string]float64 // session → cumulative cpu_pct
}

// Bounds of the CPU window. OpenRTC rounds cpu_pct to 0.1, so the share of a
// window of w seconds taken at uptime u is off by up to 0.05×2u/w points:
// after an hour, a one-second window would be noise. The window is the
// shortest that keeps that error under maxCPUError points; when no earlier
// snapshot is that old yet, the oldest one kept if its error is under
// looseCPUError; failing that, the cumulative share as served.
const (
	maxCPUError   = 1.0
	looseCPUError = 5.0
	maxCPUPoints  = 256
	minCPUWindowS = 0.9
)

// NewReader returns a Reader of the socket at path.
func NewReader(path string) *Reader {
	return &Reader{path: path, starts: make(map[string]time.Time)}
}

// Path returns the socket the Reader reads.
func (r *Reader) Path() string { return r.path }

// Fetch fetches one snapshot and decodes it (see [Reader.Decode]).
func (r *Reader) Fetch(ctx context.Context) (Snapshot, error) {
	b, peer, err := FetchFrom(ctx, r.path)
	if err != nil {
		return Snapshot{}, err
	}
	return r.Decode(b, peer, time.Now())
}

// Decode decodes a snapshot fetched at the given time from peer, in the
// light of the snapshots decoded before it.
func (r *Reader) Decode(b []byte, peer Peer, fetched time.Time) (Snapshot, error) {
	v, kind, err := Decode(b, fetched)
	if err != nil {
		return Snapshot{}, err
	}
	s := Snapshot{View: v, Kind: kind, Peer: peer}
	h := &s.View.Worker
	if r.seen {
		s.Restarted = (peer.PID != 0 && r.pid != 0 && peer.PID != r.pid) || kind != r.kind ||
			h.UptimeS+1 < r.uptime ||
			(kind == KindIntrospect && !h.Started.IsZero() && !r.start.IsZero() && !h.Started.Equal(r.start))
	}
	if s.Restarted {
		r.points = r.points[:0]
		clear(r.starts)
	}
	r.seen, r.pid, r.kind, r.uptime = true, peer.PID, kind, h.UptimeS
	if kind == KindIntrospect {
		r.start = h.Started
		return s, nil
	}
	// OpenRTC: steady starts, the worker's start as first seen, and the CPU
	// window.
	if r.start.IsZero() || s.Restarted {
		r.start = h.Started
	} else if !h.Started.IsZero() {
		h.Started = r.start
	}
	live := make(map[string]bool, len(s.View.Sessions))
	for i := range s.View.Sessions {
		row := &s.View.Sessions[i]
		live[row.SessionID] = true
		if st, ok := r.starts[row.SessionID]; ok {
			row.Start = st
		} else {
			r.starts[row.SessionID] = row.Start
		}
	}
	for id := range r.starts {
		if !live[id] {
			delete(r.starts, id)
		}
	}
	r.window(&s.View)
	return s, nil
}

// window replaces the cumulative shares of v by the shares over the window
// chosen as the constants above say, and keeps v as a point for later ones.
func (r *Reader) window(v *fold.View) {
	h := &v.Worker
	u2 := h.UptimeS
	cur := cpuPoint{uptime: u2, cpu: make(map[string]float64, len(v.Sessions))}
	for _, row := range v.Sessions {
		cur.cpu[row.SessionID] = row.CPUPct
	}
	pick := -1
	for i := len(r.points) - 1; i >= 0; i-- {
		w := u2 - r.points[i].uptime
		if w >= minCPUWindowS && cpuError(u2, r.points[i].uptime) <= maxCPUError {
			pick = i
			break
		}
	}
	if pick < 0 && len(r.points) > 0 {
		if w := u2 - r.points[0].uptime; w >= minCPUWindowS && cpuError(u2, r.points[0].uptime) <= looseCPUError {
			pick = 0
		}
	}
	if pick >= 0 {
		p := r.points[pick]
		w := u2 - p.uptime
		total := 0.0
		for i := range v.Sessions {
			row := &v.Sessions[i]
			p1, ok := p.cpu[row.SessionID]
			rw := w
			if !ok {
				if row.DurationS > w+2 {
					continue // older than the window yet not in it: keep the cumulative share
				}
				// Younger than the window: its share over its own life,
				// not diluted by the time before it began.
				rw = max(min(w, row.DurationS), minCPUWindowS)
			}
			share := min(max((row.CPUPct*u2-p1*p.uptime)/rw, 0), 100)
			row.CPUPct = round1(share)
			row.MaxCPUPct = row.CPUPct
			total += row.CPUPct
		}
		h.CPUPct = round1(min(total, 100))
		h.CPUWindowS = round1(w)
	}
	// Keep points spaced in proportion to the uptime, so that a bounded
	// number of them reaches back far enough for the window a long-running
	// worker needs.
	if n := len(r.points); n == 0 || u2-r.points[n-1].uptime >= max(minCPUWindowS, u2/200) {
		if n == maxCPUPoints {
			r.points = append(r.points[:0], r.points[1:]...)
		}
		r.points = append(r.points, cur)
	}
}

// cpuError is the largest error, in points, of the share over the window
// from uptime u1 to u2 that OpenRTC's rounding to 0.1 allows.
func cpuError(u2, u1 float64) float64 {
	if u2 <= u1 {
		return math.Inf(1)
	}
	return 0.05 * (u2 + u1) / (u2 - u1)
}
