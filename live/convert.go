package live

import (
	"sort"
	"time"

	"github.com/openrtc-go/introspect/events"
	"github.com/openrtc-go/introspect/fold"
)

// Stamped is an event and its time.
type Stamped struct {
	Time  time.Time
	Event events.Event
}

// Converter turns successive snapshots of one socket into the events a
// worker running the introspector records itself, so that a polled worker
// (OpenRTC's Python worker, or ours without a recording) gets a recording
// the whole of openrtc-replay reads:
//
//   - worker.start when a worker is first seen or restarted (its start is
//     the snapshot's started_at, or the fetch time minus its uptime);
//   - session.start when a row appears (at its start, no earlier than the
//     previous event), session.end when it disappears (outcome error when
//     the worker's failed count rose by exactly the sessions that went);
//   - a sample per snapshot: RSS, live sessions, and a CPU window whose
//     per-session samples are the growth of each row's cumulative CPU
//     seconds since the previous snapshot;
//   - slow-session events marked derived: from our worker, one per stall its
//     row's count gained (with the duration when it raised the row's worst
//     stall); from OpenRTC's, one when a row turns slow and its final report
//     when it stops: the line, and for OpenRTC the duration, are not in a
//     snapshot;
//   - worker.stop when the worker stops answering, is replaced, or the
//     recording ends.
//
// Times never go backwards: an event due before the previous one is stamped
// with the previous one's time. A Converter is not safe for concurrent use.
type Converter struct {
	// Host names the machine in worker.start.
	Host string
	// Period is the polling period, announced as the sample interval.
	Period time.Duration

	run       *workerRun
	lastT     time.Time
	nextStall uint64
}

// workerRun is what the Converter keeps of the worker being polled.
type workerRun struct {
	pid  int
	kind string
	open map[string]*openSession
	last time.Time // of the previous snapshot
	// lastCPU is when the latest derived CPU window ended: the first
	// snapshot, or the latest whose sessions' CPU grew.
	lastCPU time.Time
	failed  int64
}

type openSession struct {
	agent   string
	cpuSent time.Duration // CPU time already written in samples
	stall   uint64        // the derived stall going on, 0 when none

	// Our worker's own stall count and worst stall (ms) for the session,
	// as of the previous snapshot; counted is false before the first.
	counted bool
	stalls  int
	worst   float64
}

// cpuPeriod is the sampling period the derived CPU windows are counted in.
const cpuPeriod = 10 * time.Millisecond

// Running reports whether a worker is being recorded.
func (c *Converter) Running() bool { return c.run != nil }

// Snapshot returns the events that take the recording from the previous
// snapshot to s, fetched at the given time.
func (c *Converter) Snapshot(s Snapshot, fetched time.Time) []Stamped {
	var out []Stamped
	if c.run != nil && (s.Restarted || (s.Peer.PID != 0 && c.run.pid != 0 && s.Peer.PID != c.run.pid)) {
		out = c.Gone(out, fetched, "restarted")
	}
	v, h := s.View, s.View.Worker
	if c.run == nil {
		start := h.Started
		if start.IsZero() || start.After(fetched) {
			start = fetched
		}
		ws := events.WorkerStart{
			Worker: h.Name, PID: s.Peer.PID, Host: c.Host, MaxSessions: h.MaxSessions,
			Config: events.Config{SampleInterval: c.Period, SlowWindow: 5 * time.Second},
		}
		if s.Kind == KindOpenRTC {
			ws.WorkerKind = KindOpenRTC // no Go vitals: replay shows OpenRTC's header
		}
		out = c.add(out, start, ws)
		c.run = &workerRun{pid: s.Peer.PID, kind: s.Kind, open: make(map[string]*openSession), failed: h.SessionsFailed}
	}
	run := c.run

	rows := make([]fold.Row, 0, len(v.Sessions))
	live := make(map[string]bool, len(v.Sessions))
	for _, r := range v.Sessions {
		if r.Status == fold.StatusEnded || r.Status == fold.StatusErrored || r.SessionID == "" {
			continue
		}
		if !live[r.SessionID] {
			live[r.SessionID] = true
			rows = append(rows, r)
		}
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].Start.Before(rows[j].Start) })

	// Sessions that went: their stalls end, then they do.
	var gone []string
	for id := range run.open {
		if !live[id] {
			gone = append(gone, id)
		}
	}
	sort.Strings(gone)
	outcome := events.OutcomeOK
	if d := h.SessionsFailed - run.failed; d > 0 && int(d) == len(gone) {
		outcome = events.OutcomeError
	}
	for _, id := range gone {
		out = c.endStall(out, fetched, id, run.open[id])
		out = c.add(out, fetched, events.SessionEnd{SessionID: id, Outcome: outcome})
		delete(run.open, id)
	}
	run.failed = h.SessionsFailed

	// Sessions that came.
	for _, r := range rows {
		if _, ok := run.open[r.SessionID]; ok {
			continue
		}
		at := r.Start
		if at.IsZero() || at.After(fetched) {
			at = fetched
		}
		e := events.SessionStart{SessionID: r.SessionID, Agent: r.AgentName, Pinned: r.Pinned}
		if r.Tenant != nil {
			e.Tenant = *r.Tenant
		}
		out = c.add(out, at, e)
		// CPU used before the recording began is not this recording's.
		var sent time.Duration
		if run.last.IsZero() {
			sent = seconds(r.CPUSeconds)
		}
		run.open[r.SessionID] = &openSession{agent: r.AgentName, cpuSent: sent}
	}

	// Stalls. Our worker counts each session's stalls and its worst: one
	// derived stall per new one, the one that raised the worst with that
	// duration. OpenRTC's says only "slow": one derived stall per run of
	// slow polls, its duration unknown.
	source := "unknown"
	if s.Kind == KindOpenRTC {
		source = "event-loop" // OpenRTC watches the one asyncio loop
	}
	for _, r := range rows {
		o := run.open[r.SessionID]
		if s.Kind == KindIntrospect {
			if !o.counted {
				o.counted, o.stalls, o.worst = true, r.Stalls, r.WorstStall
				continue
			}
			for n := r.Stalls - o.stalls; n > 0; n-- {
				c.nextStall++
				e := events.SlowSession{StallID: c.nextStall, SessionID: r.SessionID, Agent: r.AgentName,
					Source: source, Confidence: 1, Derived: true}
				if n == 1 && r.WorstStall > o.worst {
					e.Blocked = events.FromMillis(r.WorstStall)
				}
				out = c.add(out, fetched, e)
			}
			o.stalls, o.worst = max(o.stalls, r.Stalls), max(o.worst, r.WorstStall)
			continue
		}
		switch {
		case r.Status == fold.StatusSlow && o.stall == 0:
			c.nextStall++
			o.stall = c.nextStall
			out = c.add(out, fetched, events.SlowSession{StallID: o.stall, SessionID: r.SessionID, Agent: r.AgentName,
				Source: source, Ongoing: true, Confidence: 1, Derived: true})
		case r.Status != fold.StatusSlow && o.stall != 0:
			out = c.endStall(out, fetched, r.SessionID, o)
		}
	}

	// The sample, with the CPU each session used since the CPU last grew.
	// Our worker's cumulative figures grow once per CPU window (5 s), not
	// once per poll: a window per poll would read as nothing, then as
	// twenty cores.
	smp := events.Sample{RSSBytes: h.RSSBytes, Sessions: len(rows), Goroutines: h.Goroutines,
		Runnable: -1, Running: -1, Waiting: -1, HeapBytes: h.HeapBytes}
	for _, r := range rows {
		if r.Goroutines != nil {
			if smp.GoroutinesBySession == nil {
				smp.GoroutinesBySession = make(map[string]int, len(rows))
			}
			smp.GoroutinesBySession[r.SessionID] = *r.Goroutines
		}
	}
	if run.lastCPU.IsZero() {
		run.lastCPU = fetched
	}
	if elapsed := fetched.Sub(run.lastCPU); !run.last.IsZero() && elapsed > 0 {
		w := events.CPUWindow{Duration: elapsed, Period: cpuPeriod, Total: int64(elapsed / cpuPeriod)}
		if h.ProcessCPUPct > 0 {
			// Our worker says what the whole process used: the rows'
			// growth is its labelled part.
			w.Total = int64(h.ProcessCPUPct / 100 * float64(elapsed) / float64(cpuPeriod))
		}
		var used int64
		for _, r := range rows {
			o := run.open[r.SessionID]
			// Rounding in the snapshot can make the cumulative figure dip
			// or jump: a session gets at most the window's length per
			// core, and what it is not given now it is given later.
			d := min(max(seconds(r.CPUSeconds)-o.cpuSent, 0), elapsed*64)
			n := int64(d / cpuPeriod)
			if n > 0 {
				if w.Sessions == nil {
					w.Sessions = make(map[string]int64)
				}
				w.Sessions[r.SessionID] = n
				o.cpuSent += time.Duration(n) * cpuPeriod
				used += n
			}
		}
		if used > 0 {
			if rate := h.ProcessCPUPct / 100 * h.CPUPct / 100; rate > 0 {
				// The growth of our worker's window can span more than the
				// time since the last one: the first began before the
				// recording. Its length is what the sessions used at the
				// rate the worker says they did.
				if d := time.Duration(float64(used) * float64(cpuPeriod) / rate); d > w.Duration*5/4 {
					w.Duration = d
					w.Total = int64(h.ProcessCPUPct / 100 * float64(d) / float64(cpuPeriod))
				}
			}
			w.Total = max(w.Total, used)
			w.Unlabelled = w.Total - used
			smp.CPU = w
			run.lastCPU = fetched
		}
	}
	out = c.add(out, fetched, smp)
	run.last = fetched
	return out
}

// Gone appends to out the events of a worker that stopped answering (or was
// replaced, or is no longer recorded): the end of its derived stalls and of
// its sessions, and worker.stop with the reason.
func (c *Converter) Gone(out []Stamped, at time.Time, reason string) []Stamped {
	if c.run == nil {
		return out
	}
	ids := make([]string, 0, len(c.run.open))
	for id := range c.run.open {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		out = c.endStall(out, at, id, c.run.open[id])
		out = c.add(out, at, events.SessionEnd{SessionID: id, Outcome: events.OutcomeCancelled})
	}
	out = c.add(out, at, events.WorkerStop{Reason: reason})
	c.run = nil
	return out
}

// Stop appends the events that end a recording while the worker still runs:
// the final report of each derived stall and worker.stop saying the
// recording stopped. Its sessions are left open, as they are.
func (c *Converter) Stop(out []Stamped, at time.Time) []Stamped {
	if c.run == nil {
		return out
	}
	for id, o := range c.run.open {
		out = c.endStall(out, at, id, o)
	}
	out = c.add(out, at, events.WorkerStop{Reason: "recording stopped"})
	c.run = nil
	return out
}

func (c *Converter) endStall(out []Stamped, at time.Time, id string, o *openSession) []Stamped {
	if o.stall == 0 {
		return out
	}
	source := "unknown"
	if c.run != nil && c.run.kind == KindOpenRTC {
		source = "event-loop"
	}
	out = c.add(out, at, events.SlowSession{StallID: o.stall, SessionID: id, Agent: o.agent,
		Source: source, Confidence: 1, Derived: true})
	o.stall = 0
	return out
}

func (c *Converter) add(out []Stamped, t time.Time, e events.Event) []Stamped {
	if t.Before(c.lastT) {
		t = c.lastT
	}
	c.lastT = t
	return append(out, Stamped{Time: t, Event: e})
}
