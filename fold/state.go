package fold

import (
	"math"
	"sort"
	"time"

	"github.com/openrtc-go/introspect/events"
)

// DefaultSlowWindow is how long a session shows "slow" after a stall when the
// worker did not announce its own window: OpenRTC's 5 seconds.
const DefaultSlowWindow = 5 * time.Second

// historyLen is the number of CPU windows kept for the header's sparkline:
// a minute at the default one-second window.
const historyLen = 60

// State is the folded state of one worker. The zero value is not usable; call
// [New]. A State is not safe for concurrent use.
type State struct {
	// KeepEnded keeps every ended session, for a report over a whole
	// recording (see [State.AllRows]). A live view leaves it false so memory
	// stays bounded by the live sessions.
	KeepEnded bool

	worker     events.WorkerState
	config     events.Config
	sessions   map[string]*session
	recent     []*session            // ended within the slow window, newest last
	ended      []*session            // every ended session, when KeepEnded
	openStalls map[uint64]*openStall // stalls whose final report is still to come
	last       events.Sample         // the latest sample, without its maps
	haveSample bool
	lastAt     time.Time           // time of the latest sample
	cpu        events.CPUWindow    // the latest CPU window, valid or not, without its map
	cpuCounts  []cpuCount          // the latest CPU window's samples per session
	cpuHistory []float64           // process CPU %, one per window, oldest first
	peaks      shareSeries         // the memory share of the samples, for peak_mb
	scratch    events.SampleCounts // ApplyLine's, reused
	dropped    int64
	judged     bool // a stall report carried a cause: the worker judges them
	stopped    bool
	now        time.Time // time of the latest event applied
	seq        int64     // start order
}

type session struct {
	events.KeySession
	seq     int64
	end     time.Time // zero while live
	outcome string
	errText string
	// While live, PeakBytes is the peak up to the share of sample number
	// joined of the peaks series; the samples since then are in the series
	// (see peakOf). Once ended, PeakBytes is the session's peak.
	joined int64
	gor    *gorTrack // its goroutine track, when a Report folds the state
	// The session's mem_mb and cpu_pct at its end, for its row in a
	// report over the whole recording.
	endShare  uint64
	endCPUPct float64
	// unknown counts the session's holds whose final report gave no
	// cause (see [Row.UnknownStalls]). A keyframe does not keep it: a
	// fold resumed from one counts only the holds since.
	unknown int
}

// openStall is a stall reported ongoing whose final report has not come
// yet. Its hold may still be going on, or it may have ended with the final
// report still to come: a hold whose holder no profile found parked is
// reported finally only once the CPU samples of the hold are in, seconds
// after it ended (see [OngoingGrace]).
type openStall struct {
	ss *session // nil when the stall came from a keyframe
	// due is when the next ongoing report would come if the hold still
	// went on: the watchdog reports a hold again each time its length
	// doubles, so at its start plus twice the length last reported. Zero
	// when unknown (a stall from a keyframe).
	due   time.Time
	cause string // the latest report's cause; "" while nothing says
}

// OngoingGrace is how late a hold's next ongoing report may be before the
// fold holds that the hold has ended. The watchdog reports a hold as it
// crosses the threshold and again each time its length doubles, at most
// half a threshold late in a healthy process and a scheduler lag late in a
// saturated one; a hold not reported again by its start plus twice the
// length last reported plus OngoingGrace has ended, even if its final
// report (which may wait seconds for the CPU samples of the hold) has not
// come yet.
const OngoingGrace = 250 * time.Millisecond

// held reports whether the hold of o may still be going on at time at.
func (o *openStall) held(at time.Time) bool {
	return o.due.IsZero() || !at.After(o.due.Add(OngoingGrace))
}

// cpuCount is one session's samples in a CPU window. id is the session's own
// string when it is live, so that keeping the window costs no allocation.
type cpuCount struct {
	id string
	n  int64
}

// New returns an empty State.
func New() *State {
	return &State{sessions: make(map[string]*session), openStalls: make(map[uint64]*openStall)}
}

// Now returns the time of the latest event applied.
func (s *State) Now() time.Time { return s.now }

func (s *State) slowWindow() time.Duration {
	if s.config.SlowWindow > 0 {
		return s.config.SlowWindow
	}
	return DefaultSlowWindow
}

// ApplyLine decodes one JSON line and applies it. Lines that are not events
// of ours (application logs) are ignored; a malformed line returns the
// decoding error and changes nothing.
func (s *State) ApplyLine(line []byte) error {
	d, err := events.DecodeCounts(line, &s.scratch)
	if err != nil {
		return err
	}
	s.apply(d, &s.scratch)
	return nil
}

// Observe applies a line the recorder has written, so that the State can
// produce keyframes; it implements the recorder's Keyframer.
func (s *State) Observe(line []byte) { _ = s.ApplyLine(line) }

// Apply folds one decoded record into the state.
func (s *State) Apply(d events.Decoded) { s.apply(d, nil) }

// apply folds d; for a sample decoded by events.DecodeCounts, counts holds
// its per-session objects, and for one of Apply (maps), counts is nil.
func (s *State) apply(d events.Decoded, counts *events.SampleCounts) {
	if d.Event == nil {
		return
	}
	if d.Time.After(s.now) {
		s.now = d.Time
	}
	t := d.Time
	switch e := d.Event.(type) {
	case events.WorkerStart:
		s.workerStart(t, e)
	case events.SessionStart:
		s.sessionStart(t, e)
	case events.SessionEnd:
		s.sessionEnd(t, e.SessionID, e.Outcome, e.Error)
	case events.Sample:
		if counts == nil {
			counts = countsOf(e)
		}
		s.sample(t, e, counts)
	case events.SlowSession:
		s.slow(t, e)
	case events.Keyframe:
		s.keyframe(t, e)
	case events.RecorderDrop:
		s.dropped += e.Dropped
	case events.WorkerStop:
		s.stopped = true
	}
	s.expireRecent(t)
}

// workerStart begins a new worker life. In a stitched timeline a second
// worker.start means the process restarted: sessions still open belonged to
// the old process and are closed as lost.
func (s *State) workerStart(t time.Time, e events.WorkerStart) {
	for _, ss := range s.liveInOrder() {
		s.sessionEnd(t, ss.SessionID, "lost", "worker restarted")
	}
	s.worker = events.WorkerState{Name: e.Worker, Started: t, MaxSessions: e.MaxSessions, Kind: e.WorkerKind}
	s.config = e.Config
	s.haveSample, s.last, s.cpu, s.cpuCounts, s.cpuHistory = false, events.Sample{}, events.CPUWindow{}, nil, nil
	s.openStalls = make(map[uint64]*openStall)
	s.stopped, s.dropped = false, 0
}

func (s *State) sessionStart(t time.Time, e events.SessionStart) {
	if _, ok := s.sessions[e.SessionID]; ok {
		return // a repeated start changes nothing
	}
	s.seq++
	ss := &session{seq: s.seq, joined: s.peaks.n, KeySession: events.KeySession{
		SessionID: e.SessionID, Agent: e.Agent, Tenant: e.Tenant, Pinned: e.Pinned,
		Labels: e.Labels, Start: t,
	}}
	// No share yet: the latest sample's RSS was divided among sessions that
	// did not include this one. The next sample gives it its first share.
	s.sessions[e.SessionID] = ss
	s.worker.Begun++
}

func (s *State) sessionEnd(t time.Time, id, outcome, errText string) {
	ss, ok := s.sessions[id]
	if !ok {
		return
	}
	delete(s.sessions, id)
	ss.PeakBytes = s.peakOf(ss)
	if share, ok := s.sampleShare(); ok && !ss.Start.After(s.lastAt) {
		ss.endShare = share // its share at the latest sample it was live for
	}
	if s.cpu.Valid() {
		for _, c := range s.cpuCounts {
			if c.id == id {
				ss.endCPUPct = round1(pct(c.n, s.cpu.Total))
			}
		}
	}
	ss.end, ss.outcome, ss.errText = t, outcome, errText
	if outcome == events.OutcomeError {
		s.worker.Failed++
	}
	s.recent = append(s.recent, ss)
	if s.KeepEnded {
		s.ended = append(s.ended, ss)
	}
}

func (s *State) expireRecent(t time.Time) {
	w := s.slowWindow()
	i := 0
	for i < len(s.recent) && t.Sub(s.recent[i].end) > w {
		i++
	}
	if i > 0 {
		s.recent = append(s.recent[:0], s.recent[i:]...)
	}
}

// share returns the memory share of each live session: the latest sample's
// RSS divided by the sessions live now, so that the live rows' shares sum
// to RSS whatever started or ended since the sample.
func (s *State) share() (uint64, bool) {
	if !s.haveSample || len(s.sessions) == 0 {
		return 0, false
	}
	return s.last.RSSBytes / uint64(len(s.sessions)), true
}

// sampleShare is the memory share of a sample as the worker saw it (RSS /
// the live sessions it counted), the series the sessions' peaks come from.
func (s *State) sampleShare() (uint64, bool) {
	if !s.haveSample || s.last.Sessions <= 0 {
		return 0, false
	}
	return s.last.RSSBytes / uint64(s.last.Sessions), true
}

// sample folds a sample: e's fields, and its per-session objects from
// counts (e's maps are not read). Typed samples ([State.Apply]) and lines
// ([State.ApplyLine], the replay's decoding pipeline) both come here: it is
// the one definition of the memory share, the peak, the CPU figures and the
// goroutine counts of a session.
func (s *State) sample(t time.Time, e events.Sample, counts *events.SampleCounts) {
	for id, groups := range e.GoroutineStacks {
		if ss, ok := s.sessions[id]; ok {
			ss.GorStacks = groups
		} else if ss := s.recentSession([]byte(id)); ss != nil {
			ss.GorStacks = groups // a leak's groups after its session ended
		}
	}
	e.CPU.Sessions, e.GoroutinesBySession, e.GoroutineStacks = nil, nil, nil
	s.last, s.haveSample, s.lastAt = e, true, t
	if share, ok := s.sampleShare(); ok {
		s.pushShare(share)
	}
	if e.CPU.Duration > 0 || e.CPU.Unavailable != "" {
		s.cpuWindow(e.CPU, counts.CPU)
	}
	for _, g := range counts.Gor {
		n := int(g.N)
		if ss, ok := s.sessions[string(g.ID)]; ok {
			ss.Goroutines = n
			ss.GorPeak = max(ss.GorPeak, n)
		} else if ss := s.recentSession(g.ID); ss != nil {
			// Goroutines that outlived their session's end still carry
			// its labels: a leak's last count comes after the end, and
			// its peak must hold it as the summary's leak finding does.
			ss.GorPeak = max(ss.GorPeak, n)
		}
	}
}

// cpuWindow folds a CPU window: w without its map, and its samples per
// session.
func (s *State) cpuWindow(w events.CPUWindow, counts []events.SessionCount) {
	s.cpu = w
	cpuCounters{&s.worker.CPUNs, &s.worker.UnsampledCPUNs, &s.worker.MissedCPUNs}.add(w)
	s.cpuCounts = s.cpuCounts[:0]
	valid := w.Valid()
	rate := rateOf(w)
	for _, c := range counts {
		ss := s.sessions[string(c.ID)]
		if ss == nil {
			// A session that ended while the window ran is credited with
			// its last samples: every session ends inside a window.
			ss = s.recentSession(c.ID)
		}
		if ss == nil {
			// On CPU but not known here (its start was lost): kept for
			// the window, not counted.
			s.cpuCounts = append(s.cpuCounts, cpuCount{string(c.ID), c.N})
			continue
		}
		s.cpuCounts = append(s.cpuCounts, cpuCount{ss.SessionID, c.N})
		if !valid {
			continue
		}
		// A session's CPU time is what its samples stand for (see
		// events.CPUWindow.SessionCPU). Cumulative samples are scaled to the window's span, as the
		// CPU time is, for keyframes read by older versions.
		n := c.N
		if rate.scale != 1 {
			n = int64(math.Round(float64(n) * rate.scale))
		}
		ss.CPUSamples += n
		ss.CPUNanos += rate.nanos(c.N)
		if p := round1(pct(c.N, w.Total)); p > ss.MaxCPUPct {
			ss.MaxCPUPct = p
		}
	}
	if !valid {
		return
	}
	s.cpuHistory = append(s.cpuHistory, w.ProcessCPUPct())
	if len(s.cpuHistory) > historyLen {
		s.cpuHistory = s.cpuHistory[len(s.cpuHistory)-historyLen:]
	}
}

// windowRate is what a CPU window's samples are worth, read from the
// window once: events.CPUWindow.SessionCPU and Scale are methods of the
// window's value, which copied the window for every session on CPU (a fifth
// of the fold's time in the CPU windows of a day).
type windowRate struct {
	scale, period float64
}

func rateOf(w events.CPUWindow) windowRate {
	return windowRate{scale: w.Scale(), period: float64(w.Period)}
}

// nanos is w.SessionCPU(n) in nanoseconds: its arithmetic, in its order,
// so the figures are the same to the bit.
func (r windowRate) nanos(n int64) int64 {
	return int64(math.Round(float64(n) * r.period * r.scale))
}

// recentSession returns the session of that id which ended within the slow
// window, or nil. Ends are few per window and the list is short, newest
// last; the newest match wins, should an id have been reused.
func (s *State) recentSession(id []byte) *session {
	for i := len(s.recent) - 1; i >= 0; i-- {
		if s.recent[i].SessionID == string(id) {
			return s.recent[i]
		}
	}
	return nil
}

// cpuSessions returns the latest CPU window's samples per session as a map,
// as the window's event carries them; nil when it had none.
func (s *State) cpuSessions() map[string]int64 {
	if len(s.cpuCounts) == 0 {
		return nil
	}
	m := make(map[string]int64, len(s.cpuCounts))
	for _, c := range s.cpuCounts {
		m[c.id] = c.n
	}
	return m
}

// countsOf lists the maps of a typed sample, as events.DecodeCounts does
// for a line, so that both fold the same way.
func countsOf(e events.Sample) *events.SampleCounts {
	c := &events.SampleCounts{
		CPU: make([]events.SessionCount, 0, len(e.CPU.Sessions)),
		Gor: make([]events.SessionCount, 0, len(e.GoroutinesBySession)),
	}
	for id, n := range e.CPU.Sessions {
		c.CPU = append(c.CPU, events.SessionCount{ID: []byte(id), N: n})
	}
	for id, n := range e.GoroutinesBySession {
		c.Gor = append(c.Gor, events.SessionCount{ID: []byte(id), N: int64(n)})
	}
	return c
}

// slow counts a stall once, however many reports it has: all reports of one
// stall share its id, and only the first is counted.
func (s *State) slow(t time.Time, e events.SlowSession) {
	ss := s.sessions[e.SessionID]
	prev, seen := s.openStalls[e.StallID]
	if e.StallID == 0 || !seen {
		s.worker.Stalls++
		if ss != nil {
			ss.Stalls++
		}
	} else if prev.ss != nil {
		ss = prev.ss
	}
	// A holder that waited for a CPU is the stall's victim. The latest
	// report's cause is the stall's: a stall counted starved by an
	// ongoing report is uncounted if its final report says otherwise.
	if e.Cause != "" {
		s.judged = true
	}
	victim := e.Cause == events.CauseWaitingForCPU
	wasVictim := seen && e.StallID != 0 && prev.cause == events.CauseWaitingForCPU
	if ss != nil && victim != wasVictim && e.Cause != "" {
		if victim {
			ss.Starved++
		} else {
			ss.Starved = max(ss.Starved-1, 0)
		}
	}
	if e.Ongoing && e.StallID != 0 {
		o := prev
		if o == nil {
			o = &openStall{}
			s.openStalls[e.StallID] = o
		}
		o.ss = ss
		if e.Cause != "" {
			o.cause = e.Cause
		}
		start := e.Start
		if start.IsZero() {
			start = t.Add(-e.Blocked) // recordings before Start was written
		}
		o.due = start.Add(2 * e.Blocked)
	} else {
		delete(s.openStalls, e.StallID)
		if ss != nil && e.Cause == "" && e.Source != events.SourceScheduler {
			ss.unknown++
		}
	}
	if ss == nil {
		return
	}
	if ms := events.Millis(e.Blocked); ms > ss.WorstStall {
		ss.WorstStall = ms
	}
	ss.LastStallAt = t
	if until := t.Add(s.slowWindow()); until.After(ss.SlowUntil) {
		ss.SlowUntil = until
	}
}

// openCounts returns how many stalls are still held at time at, and how
// many ended with their final report still to come and no cause yet, in
// all and per session (nil when none).
func (s *State) openCounts(at time.Time) (held, pending int, bySession map[*session]int) {
	for _, o := range s.openStalls {
		switch {
		case o.held(at):
			held++
		case o.cause == "":
			pending++
			if o.ss != nil {
				if bySession == nil {
					bySession = make(map[*session]int)
				}
				bySession[o.ss]++
			}
		}
	}
	return held, pending, bySession
}

// keyframe replaces the live state with the keyframe's. Sessions the fold
// holds but the keyframe does not ended while events were lost.
func (s *State) keyframe(t time.Time, e events.Keyframe) {
	live := make(map[string]*session, len(e.Sessions))
	for _, ks := range e.Sessions {
		ss := s.sessions[ks.SessionID]
		if ss == nil {
			s.seq++
			ss = &session{seq: s.seq}
		}
		ss.KeySession = ks
		ss.joined = s.peaks.n
		live[ks.SessionID] = ss
	}
	for id := range s.sessions {
		if _, ok := live[id]; !ok {
			s.sessionEnd(t, id, "unknown", "")
		}
	}
	s.sessions = live
	s.worker = e.Worker
	if e.Worker.SlowWindowMs > 0 {
		s.config.SlowWindow = events.FromMillis(e.Worker.SlowWindowMs)
	}
	// A keyframe keeps only the ids of the open stalls: until their next
	// report, their holder and whether the hold still goes on are unknown,
	// and they count as ongoing.
	s.openStalls = make(map[uint64]*openStall, len(e.OpenStalls))
	for _, id := range e.OpenStalls {
		s.openStalls[id] = &openStall{}
	}
	if e.Last != nil {
		s.last, s.haveSample, s.lastAt = *e.Last, true, t
		s.last.CPU.Sessions, s.last.GoroutinesBySession, s.last.GoroutineStacks = nil, nil, nil
		if w := e.Last.CPU; w.Duration > 0 || w.Unavailable != "" {
			s.cpu, s.cpuCounts = w, s.cpuCounts[:0]
			s.cpu.Sessions = nil
			for id, n := range w.Sessions {
				s.cpuCounts = append(s.cpuCounts, cpuCount{id, n})
			}
		}
	}
}

// Keyframe returns the full state as a keyframe event: it implements the
// recorder's Keyframer.
func (s *State) Keyframe(time.Time) events.Keyframe {
	kf := events.Keyframe{Worker: s.worker}
	kf.Worker.SlowWindowMs = events.Millis(s.config.SlowWindow)
	for _, ss := range s.liveInOrder() {
		ks := ss.KeySession
		ks.PeakBytes = s.peakOf(ss)
		kf.Sessions = append(kf.Sessions, ks)
	}
	for id := range s.openStalls {
		kf.OpenStalls = append(kf.OpenStalls, id)
	}
	sort.Slice(kf.OpenStalls, func(i, j int) bool { return kf.OpenStalls[i] < kf.OpenStalls[j] })
	if s.haveSample {
		last := s.last
		last.CPU = s.cpu
		last.CPU.Sessions = s.cpuSessions()
		last.GoroutinesBySession = nil // per-session counts live in the sessions
		kf.Last = &last
	}
	return kf
}

func (s *State) liveInOrder() []*session {
	out := make([]*session, 0, len(s.sessions))
	for _, ss := range s.sessions {
		out = append(out, ss)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Start.Equal(out[j].Start) {
			return out[i].Start.Before(out[j].Start)
		}
		return out[i].SessionID < out[j].SessionID
	})
	return out
}

func pct(n, total int64) float64 {
	if total <= 0 {
		return 0
	}
	return float64(n) * 100 / float64(total)
}
