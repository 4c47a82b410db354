package fold

import (
	"fmt"
	"time"

	"github.com/openrtc-go/introspect/events"
	"github.com/openrtc-go/introspect/recorder"
)

// Timeline is one session's life, for the replay's drill-down.
type Timeline struct {
	// Row is the session's row at the end of its life, or at the end of
	// the recording for a session still live then.
	Row    Row             `json:"row"`
	Points []TimelinePoint `json:"points"` // one per sample, oldest first
	Stalls []Stall         `json:"stalls"` // the stalls the session was held responsible for
}

// TimelinePoint is one session's values at one sample, as the view's row
// showed them then.
type TimelinePoint struct {
	At         time.Time `json:"time"`
	CPUPct     float64   `json:"cpu_pct"`
	MemMB      float64   `json:"mem_mb"`
	Goroutines int       `json:"goroutines"` // -1 before a goroutine profile counted the session
}

// MaxTimelinePoints bounds a timeline: a longer life is thinned to about
// this many points, each the latest of its stretch with the stretch's
// highest CPU, so spikes survive.
const MaxTimelinePoints = 3600

// sampleLead is how far before a session's start its timeline begins
// reading, so that the sample just before its start gives it a memory share
// from its first moment, as the live fold does.
const sampleLead = 10 * time.Second

// SessionTimeline reads the life of the session of row from set: its values
// at every sample from row.Start to row.End (to the end of the recording
// for a session without an end) and its stalls. It folds a state that holds
// this one session, so every value comes from the same definitions as the
// top view, and reads only the frames of the session's life.
func SessionTimeline(set *recorder.Set, row Row) (Timeline, error) {
	id := row.SessionID
	s := New()
	s.KeepEnded = true
	started := false
	start := func(t time.Time) {
		tenant := ""
		if row.Tenant != nil {
			tenant = *row.Tenant
		}
		s.Apply(events.Decoded{Time: t, Kind: events.KindSessionStart, V: events.SchemaVersion,
			Event: events.SessionStart{SessionID: id, Agent: row.AgentName, Tenant: tenant, Pinned: row.Pinned}})
		started = true
	}
	var until time.Time
	if !row.End.IsZero() {
		until = row.End.Add(time.Nanosecond)
	}
	tl := Timeline{Points: []TimelinePoint{}, Stalls: []Stall{}}
	var stalls StallList
	sc := set.ScanRange(row.Start.Add(-sampleLead), until)
	for sc.Next() {
		r := sc.Record()
		kind := KindOf(r.Line)
		switch kind {
		case events.KindSample, events.KindSessionStart, events.KindSessionEnd,
			events.KindSlowSession, events.KindWorkerStart:
		default:
			continue // keyframes would replace the one-session state
		}
		if !started && r.Time.After(row.Start) {
			start(row.Start) // its session.start was lost: begin where the row says
		}
		d, err := events.Decode(r.Line)
		if err != nil || d.Event == nil {
			continue
		}
		switch e := d.Event.(type) {
		case events.SessionStart:
			if e.SessionID != id || started {
				continue
			}
			started = true
		case events.SessionEnd:
			if e.SessionID != id || !started {
				continue
			}
		case events.SlowSession:
			if e.SessionID != id || !started {
				continue
			}
			stalls.Add(d.Time, e)
		}
		s.Apply(d)
		if !started {
			continue
		}
		if kind == events.KindSample {
			if p, ok := pointOf(s, id, d.Time); ok {
				tl.Points = append(tl.Points, p)
			}
		}
		if _, live := s.sessions[id]; !live {
			break // ended, or lost to a restart
		}
	}
	if err := sc.Err(); err != nil {
		return tl, fmt.Errorf("fold: timeline of %s: %w", id, err)
	}
	if !started {
		start(row.Start)
	}
	rows := s.AllRows(s.Now())
	if len(rows) > 0 {
		tl.Row = rows[0]
	} else {
		tl.Row = row
	}
	tl.Stalls = stalls.Stalls()
	tl.Points = thin(tl.Points, MaxTimelinePoints)
	return tl, nil
}

// pointOf reads session id's values off the view at t.
func pointOf(s *State, id string, t time.Time) (TimelinePoint, bool) {
	for _, r := range s.View(t).Sessions {
		if r.SessionID != id {
			continue
		}
		p := TimelinePoint{At: t, CPUPct: r.CPUPct, MemMB: r.MemMB, Goroutines: -1}
		// The state holds this one session of the worker's many: its
		// share is the sample's (RSS / the sessions the worker counted),
		// not RSS / the one session here.
		if share, ok := s.sampleShare(); ok {
			p.MemMB = round2(float64(share) / mib)
		}
		if r.Goroutines != nil {
			p.Goroutines = *r.Goroutines
		}
		return p, true
	}
	return TimelinePoint{}, false
}

// thin reduces points to about n, keeping each stretch's latest point with
// the stretch's highest CPU.
func thin(points []TimelinePoint, n int) []TimelinePoint {
	if len(points) <= n {
		return points
	}
	k := (len(points) + n - 1) / n
	out := points[:0]
	for i := 0; i < len(points); i += k {
		end := min(i+k, len(points))
		p := points[end-1]
		for _, q := range points[i:end] {
			p.CPUPct = max(p.CPUPct, q.CPUPct)
		}
		out = append(out, p)
	}
	return out
}
