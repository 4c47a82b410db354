package fold

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/openrtc-go/introspect/events"
)

// Session statuses, as shown in the status column.
const (
	StatusActive  = "active"  // live, no recent stall
	StatusSlow    = "slow"    // live, stalled within the slow window
	StatusEnded   = "ended"   // ended within the slow window
	StatusErrored = "errored" // ended with an error within the slow window
)

// View is the top view of a worker at one moment. Its JSON form is OpenRTC's
// snapshot, {"worker": {...}, "sessions": [...]}, field for field, with ours
// added: a time, and the sessions that ended within the slow window in a
// separate "ended_sessions" array, so that a client counting "sessions" counts
// live ones only (see view_json.go).
type View struct {
	Time     time.Time `json:"time"`
	Worker   Header    `json:"worker"`
	Sessions []Row     `json:"sessions"`
}

// Header is the worker line of the view.
type Header struct {
	Name string `json:"name"`
	// Kind is the kind of worker the view was read from: empty for ours
	// (and for a recording), KindOpenRTC for OpenRTC's Python worker, whose
	// snapshot carries no Go vitals (heap, goroutines, scheduler, GC).
	Kind string `json:"kind,omitempty"`
	// Started is when the worker started. OpenRTC's "started" is a count of
	// sessions (SessionsBegun), so the time is "started_at".
	Started        time.Time `json:"started_at,omitzero"`
	UptimeS        float64   `json:"uptime_s"`
	ActiveSessions int       `json:"active_sessions"`
	MaxSessions    int       `json:"max_sessions"`
	SessionsBegun  int64     `json:"started"`
	SessionsFailed int64     `json:"failed"`
	// SavedBytes is OpenRTC's estimate of the memory saved by sharing one
	// worker; null from ours, which makes no such estimate.
	SavedBytes *int64 `json:"saved_bytes"`
	// Draining is OpenRTC's flag for a worker that takes no new sessions.
	Draining bool `json:"draining"`
	// System is the host's vitals at the moment of a live snapshot; nil in a
	// recording, which does not keep them.
	System *System `json:"system,omitempty"`
	// HostCPUHistory is OpenRTC's cpu_history: the host's CPU % (all cores,
	// 0-100), one value per live sample, the last 60. Empty in a recording.
	HostCPUHistory []float64 `json:"cpu_history"`
	RSSBytes       uint64    `json:"rss_bytes"`
	HeapBytes      uint64    `json:"heap_bytes"`
	Goroutines     int       `json:"goroutines"`
	// CPUPct is the share of the process's CPU time that sessions used in
	// the latest CPU window, in percent: the sum of the rows' cpu_pct, the
	// same meaning as the column. The rest went to the runtime, GC and
	// goroutines outside any session.
	CPUPct float64 `json:"cpu_pct"`
	// ProcessCPUPct is the CPU time the whole process used in the latest
	// window, in percent of one core (200 means two cores busy), as top
	// shows a process: measured with getrusage, not counted from samples
	// (older recordings, which lack the measurement, count samples).
	ProcessCPUPct float64 `json:"process_cpu_pct"`
	// CPUWindowS is the span the cpu_pct figures cover when it is not the
	// worker's own CPU window: for a view of OpenRTC's worker, the time
	// between the two polled snapshots they were taken from, or the uptime
	// when its cumulative shares are shown as served. Zero otherwise.
	CPUWindowS     float64 `json:"cpu_window_s,omitempty"`
	CPUUnavailable string  `json:"cpu_unavailable,omitempty"`
	// CPUOwner names the other profiler holding the process's CPU
	// profiler: with CPUUnavailable, the CPU column reads "cpu: owned by
	// <CPUOwner>" rather than going blank; without it, the CPU figures were
	// read from that profiler's own profiles.
	CPUOwner string `json:"cpu_owner,omitempty"`
	// UnsampledCPUS is the part of the worker's CPU time so far that no
	// CPU sample covered: another caller held the CPU profiler. The
	// sessions' cpu_seconds leave it out (see CPUAccount). ProcessCPUS is
	// the worker's CPU time over its CPU windows so far (getrusage), the
	// figure it is part of. Both are omitted while nothing went unsampled.
	// MissedCPUS is the part the samples missed while the profiler ran
	// (threads that run in short bursts are sampled short), also left out
	// of every cpu_seconds; omitted while under 3 % of ProcessCPUS.
	ProcessCPUS   float64   `json:"process_cpu_s,omitempty"`
	UnsampledCPUS float64   `json:"unsampled_cpu_s,omitempty"`
	MissedCPUS    float64   `json:"missed_cpu_s,omitempty"`
	CPUHistory    []float64 `json:"process_cpu_history"` // ProcessCPUPct of the last minute's windows
	SchedP50Ms    float64   `json:"sched_p50_ms"`
	SchedP99Ms    float64   `json:"sched_p99_ms"`
	SchedMaxMs    float64   `json:"sched_max_ms"`
	GCCycles      int64     `json:"gc_cycles"`
	GCPauseMs     float64   `json:"gc_pause_ms"`
	MutexWaitMsPS float64   `json:"mutex_wait_ms_per_s"`
	Stalls        int64     `json:"stalls"`
	// OngoingStalls counts the stalls whose hold may still be going on:
	// reported ongoing, and not overdue for their next ongoing report
	// (see [OngoingGrace]).
	OngoingStalls int `json:"ongoing_stalls"`
	// PendingStalls counts the stalls whose hold has ended but whose final
	// report, which says why the hold lasted, is still to come: it waits
	// for the CPU samples of the hold, seconds after its end.
	PendingStalls int     `json:"pending_stalls,omitempty"`
	Dropped       int64   `json:"dropped_events,omitempty"`
	Stopped       bool    `json:"stopped,omitempty"`
	SampleAgeS    float64 `json:"sample_age_s"` // how old the latest sample is at Time
}

// Row is one session of the view. Field names and meanings follow OpenRTC's
// snapshot rows; goroutines, stalls and the cpu seconds are ours.
type Row struct {
	SessionID string  `json:"session_id"`
	AgentName string  `json:"agent_name"`
	Tenant    *string `json:"tenant"` // null when unset
	DurationS float64 `json:"duration_s"`
	// MemBytes is the session's equal share of process RSS: the latest
	// sample's RSS divided by the sessions live at the view's time, so the
	// shares of the live rows sum back to RSS (to a byte per session) at
	// any session count. MemMB is the same in MiB, unrounded: round it
	// only to display it. Both are zero for a session that has ended and
	// before the first sample.
	MemBytes uint64  `json:"mem_bytes"`
	MemMB    float64 `json:"mem_mb"`
	// PeakBytes is the highest share the session has had over its life
	// (up to the view's time), PeakMB the same in MiB.
	PeakBytes uint64  `json:"peak_bytes"`
	PeakMB    float64 `json:"peak_mb"`
	// CPUPct is the session's share of the process's CPU time in the
	// latest CPU window, in percent: its samples over all the window's
	// samples, labelled or not, so the rows and the unlabelled rest (the
	// runtime, GC, goroutines outside any session) sum to 100. It ranks
	// sessions within the process; it is not a share of a core.
	CPUPct float64 `json:"cpu_pct"`
	// CPUSeconds is the session's cumulative CPU time: what its samples
	// stand for (events.CPUWindow.SessionCPU), so the live and ended
	// sessions' figures add up to the process's CPU time less the
	// unlabelled share and less what no sample covered (CPUAccount).
	CPUSeconds float64 `json:"cpu_seconds"`
	Goroutines *int    `json:"goroutines"`      // null until a goroutine profile counted it
	GorPeak    int     `json:"goroutines_peak"` // high-water mark of Goroutines
	MaxCPUPct  float64 `json:"max_cpu_pct"`     // highest CPUPct of any window
	Stalls     int     `json:"stalls"`
	WorstStall float64 `json:"worst_stall_ms"`
	// StarvedStalls counts the stalls of Stalls the session held while it
	// waited for a CPU: it was their victim, and the CPU went elsewhere.
	StarvedStalls int `json:"starved_stalls,omitempty"`
	// PendingStalls counts the stalls of Stalls whose hold has ended with
	// nothing yet saying why it lasted: their final report, with the
	// cause, is still to come (see [Header.PendingStalls]). They count
	// neither against the session nor for it until it comes.
	PendingStalls int `json:"pending_stalls,omitempty"`
	// UnknownStalls counts the stalls of Stalls whose final report gave
	// no cause: no goroutine profile caught the holder parked and its CPU
	// samples did not decide (none were taken, or they fit neither a
	// holder that ran nor one that waited for a CPU). Nothing says whether
	// the hold was its fault; like PendingStalls, they count neither way.
	// Counted only from a worker that judges causes (some stall report
	// carried one): an older worker's stalls all lack one, and count
	// against their holders.
	UnknownStalls int       `json:"unknown_stalls,omitempty"`
	Status        string    `json:"status"`
	Pinned        bool      `json:"pinned"`
	Start         time.Time `json:"start"`
	End           time.Time `json:"end,omitzero"`
	Outcome       string    `json:"outcome,omitempty"`
	// GorStacks is where the session's goroutines were parked when a
	// goroutine profile last found their number growing, largest group
	// first: where a leak sits. Absent for a session that never grew.
	GorStacks []events.GoroutineGroup `json:"gor_stacks,omitempty"`
}

const mib = 1 << 20

// CPUStatus is the header's word on the CPU figures: "" when introspection
// sampled them itself, "cpu: owned by <who>" when another profiler holds
// the CPU profiler and nothing could be read from it, "cpu from <who>'s
// profiles" when the figures were read from that profiler's, and "cpu
// unavailable: <why>" otherwise.
func (h Header) CPUStatus() string {
	switch {
	case h.CPUUnavailable != "" && h.CPUOwner != "":
		return "cpu: owned by " + h.CPUOwner
	case h.CPUUnavailable != "":
		return "cpu unavailable: " + h.CPUUnavailable
	case h.CPUOwner != "":
		return "cpu from " + h.CPUOwner + "'s profiles"
	}
	return ""
}

// OpenStallsText says, for the header, how many stalls are still going on
// and how many ended with their cause still to come: "(2 ongoing, 120
// awaiting their cause)"; "" when there are none.
func (h Header) OpenStallsText() string {
	var parts []string
	if h.OngoingStalls > 0 {
		parts = append(parts, fmt.Sprintf("%d ongoing", h.OngoingStalls))
	}
	if h.PendingStalls > 0 {
		parts = append(parts, fmt.Sprintf("%d awaiting their cause", h.PendingStalls))
	}
	if len(parts) == 0 {
		return ""
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// View returns the top view at time at, normally the time of the latest
// event applied (see [State.Now]). Sessions are in start order; sort them
// with [SortRows].
func (s *State) View(at time.Time) View {
	v := View{Time: at, Sessions: make([]Row, 0, len(s.sessions)+len(s.recent))}
	h := &v.Worker
	h.Name, h.Started, h.MaxSessions, h.Kind = s.worker.Name, s.worker.Started, s.worker.MaxSessions, s.worker.Kind
	if !s.worker.Started.IsZero() {
		h.UptimeS = round1(at.Sub(s.worker.Started).Seconds())
	}
	h.ActiveSessions = len(s.sessions)
	h.SessionsBegun, h.SessionsFailed, h.Stalls = s.worker.Begun, s.worker.Failed, s.worker.Stalls
	held, pending, pendingBy := s.openCounts(at)
	h.OngoingStalls, h.PendingStalls, h.Dropped, h.Stopped = held, pending, s.dropped, s.stopped
	if s.haveSample {
		l := s.last
		h.RSSBytes, h.HeapBytes, h.Goroutines = l.RSSBytes, l.HeapBytes, l.Goroutines
		h.SchedP50Ms, h.SchedP99Ms, h.SchedMaxMs = events.Millis(l.SchedP50), events.Millis(l.SchedP99), events.Millis(l.SchedMax)
		h.GCCycles, h.GCPauseMs = l.GCCycles, events.Millis(l.GCPause)
		h.MutexWaitMsPS = round2(l.MutexWaitPerSec * 1000)
		if !s.lastAt.IsZero() {
			h.SampleAgeS = round1(at.Sub(s.lastAt).Seconds())
		}
	}
	h.CPUUnavailable, h.CPUOwner = s.cpu.Unavailable, s.cpu.Owner
	acct := cpuAccount(s.worker.CPUNs, s.worker.UnsampledCPUNs, s.worker.MissedCPUNs)
	if acct.UnsampledCPUS > 0 {
		h.ProcessCPUS, h.UnsampledCPUS = acct.ProcessCPUS, acct.UnsampledCPUS
	}
	if acct.MissedPct >= minMissedPct {
		h.ProcessCPUS, h.MissedCPUS = acct.ProcessCPUS, acct.MissedCPUS
	}
	if s.cpu.Valid() {
		h.CPUPct = round1(pct(s.cpu.Total-s.cpu.Unlabelled, s.cpu.Total))
		h.ProcessCPUPct = round1(s.cpu.ProcessCPUPct())
	}
	h.CPUHistory = make([]float64, len(s.cpuHistory))
	for i, p := range s.cpuHistory {
		h.CPUHistory[i] = round1(p)
	}

	share, haveShare := s.share()
	cpu := s.cpuSessions()
	for _, ss := range s.liveInOrder() {
		r := s.row(ss, at)
		r.PendingStalls = pendingBy[ss]
		if haveShare {
			r.MemBytes = share
			r.MemMB = float64(share) / mib
			if share > r.PeakBytes {
				r.PeakBytes, r.PeakMB = share, r.MemMB
			}
		}
		if s.cpu.Valid() {
			r.CPUPct = round1(pct(cpu[ss.SessionID], s.cpu.Total))
		}
		v.Sessions = append(v.Sessions, r)
	}
	for _, ss := range s.recent {
		if at.Sub(ss.end) <= s.slowWindow() && !at.Before(ss.end) {
			// A session that ended inside the latest window keeps its
			// share of it, so that the rows sum to the header's CPU in
			// sessions as the header's doc says.
			r := s.row(ss, at)
			r.PendingStalls = pendingBy[ss]
			if s.cpu.Valid() {
				r.CPUPct = round1(pct(cpu[ss.SessionID], s.cpu.Total))
			}
			v.Sessions = append(v.Sessions, r)
		}
	}
	return v
}

// AllRows returns a row for every session the state knows at time at: every
// ended one when KeepEnded is set, then the live ones, in start order. It is
// the basis of a per-session report over a whole recording. A row's mem_mb
// and cpu_pct are the session's at its end, or at time at while it lives.
func (s *State) AllRows(at time.Time) []Row {
	all := s.inStartOrder()
	rows := make([]Row, len(all))
	// A day has tens of thousands of sessions: their rows' tenants and
	// goroutine counts live in one array each, not two allocations a row.
	tenants, gors := make([]string, len(all)), make([]int, len(all))
	share, haveShare := s.share()
	cpu := s.cpuSessions()
	_, _, pendingBy := s.openCounts(at)
	for i, ss := range all {
		r := &rows[i]
		s.fillRow(r, ss, at, &tenants[i], &gors[i])
		r.PendingStalls = pendingBy[ss]
		switch {
		case !ss.end.IsZero():
			r.MemBytes, r.MemMB, r.CPUPct = ss.endShare, float64(ss.endShare)/mib, ss.endCPUPct
		default:
			if haveShare {
				r.MemBytes, r.MemMB = share, float64(share)/mib
			}
			if s.cpu.Valid() {
				r.CPUPct = round1(pct(cpu[ss.SessionID], s.cpu.Total))
			}
		}
	}
	return rows
}

// inStartOrder returns every session the state knows, ended (when
// KeepEnded) and live, in start order.
func (s *State) inStartOrder() []*session {
	all := append([]*session(nil), s.ended...)
	all = append(all, s.liveInOrder()...)
	// A stable sort by start: by start, then by place in all. Sorting
	// plain keys, not times through a comparison of sessions, because a
	// day has tens of thousands of them and this runs after the scan,
	// alone on the critical path.
	type key struct {
		sec  int64
		nsec int32
		i    int32
		ss   *session
	}
	keys := make([]key, len(all))
	for i, ss := range all {
		keys[i] = key{ss.Start.Unix(), int32(ss.Start.Nanosecond()), int32(i), ss}
	}
	slices.SortFunc(keys, func(a, b key) int {
		return cmp.Or(cmp.Compare(a.sec, b.sec), cmp.Compare(a.nsec, b.nsec), cmp.Compare(a.i, b.i))
	})
	for i, k := range keys {
		all[i] = k.ss
	}
	return all
}

// cpuSeconds is a session's cpu_seconds.
func cpuSeconds(ss *session) float64 { return round3(float64(ss.CPUNanos) / 1e9) }

// durationS is a session's duration_s at time at: to its end, or to at
// while it lives.
func durationS(ss *session, at time.Time) float64 {
	end := at
	if !ss.end.IsZero() {
		end = ss.end
	}
	return round1(math.Max(0, end.Sub(ss.Start).Seconds()))
}

func (s *State) row(ss *session, at time.Time) Row {
	var r Row
	s.fillRow(&r, ss, at, nil, nil)
	return r
}

// fillRow makes r the row of ss at time at. The row's tenant and goroutine
// count, when it has them, are kept in *tenant and *gor, or in memory of
// their own when those are nil.
func (s *State) fillRow(r *Row, ss *session, at time.Time, tenant *string, gor *int) {
	*r = Row{
		SessionID: ss.SessionID, AgentName: ss.Agent, Pinned: ss.Pinned,
		PeakBytes: s.peakOf(ss), PeakMB: float64(s.peakOf(ss)) / mib, CPUSeconds: cpuSeconds(ss), DurationS: durationS(ss, at),
		Stalls: ss.Stalls, WorstStall: ss.WorstStall, StarvedStalls: ss.Starved, Start: ss.Start, End: ss.end, Outcome: ss.outcome,
		GorPeak: ss.GorPeak, MaxCPUPct: round1(ss.MaxCPUPct),
		Status: StatusActive, GorStacks: ss.GorStacks,
	}
	if s.judged {
		// Holds with no cause are undecided only from a worker that
		// judges causes; an older worker's stalls all lack one.
		r.UnknownStalls = ss.unknown
	}
	if ss.Tenant != "" {
		if tenant == nil {
			tenant = new(string)
		}
		*tenant = ss.Tenant
		r.Tenant = tenant
	}
	if ss.GorPeak > 0 || ss.Goroutines > 0 {
		if gor == nil {
			gor = new(int)
		}
		*gor = ss.Goroutines
		r.Goroutines = gor
	}
	if !ss.end.IsZero() {
		r.Status = StatusEnded
		if ss.outcome == events.OutcomeError {
			r.Status = StatusErrored
		}
	} else if at.Before(ss.SlowUntil) {
		r.Status = StatusSlow
	}
}

// Sort keys for [SortRows]: OpenRTC's cycle is mem, cpu, duration, agent,
// session; the rest, and [SortAttention] before them, are ours.
const (
	SortMem        = "mem_mb"
	SortCPU        = "cpu_pct"
	SortDuration   = "duration_s"
	SortAgent      = "agent"
	SortSession    = "session"
	SortCPUSeconds = "cpu_seconds"
	SortStalls     = "stalls"
	SortGoroutines = "goroutines"
)

// SortKeys lists the sort keys in the order the `s` key cycles through them:
// what needs attention first, then OpenRTC's cycle, then ours.
var SortKeys = []string{SortAttention, SortMem, SortCPU, SortDuration, SortAgent, SortSession, SortCPUSeconds, SortStalls, SortGoroutines}

// ValidSort reports whether key is one of [SortKeys].
func ValidSort(key string) bool {
	for _, k := range SortKeys {
		if k == key {
			return true
		}
	}
	return false
}

// SortRows sorts rows by key: numbers descending, text ascending, what
// needs attention first ([SortAttention]), ties by session id, so the order
// is stable and scripts can rely on it.
func SortRows(rows []Row, key string) {
	if key == SortAttention {
		sortAttention(rows)
		return
	}
	num := func(r Row) (float64, bool) {
		switch key {
		case SortMem:
			return r.MemMB, true
		case SortCPU:
			return r.CPUPct, true
		case SortDuration:
			return r.DurationS, true
		case SortCPUSeconds:
			return r.CPUSeconds, true
		case SortStalls:
			return float64(r.Stalls), true
		case SortGoroutines:
			if r.Goroutines == nil {
				return -1, true
			}
			return float64(*r.Goroutines), true
		}
		return 0, false
	}
	sort.SliceStable(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		if x, ok := num(a); ok {
			y, _ := num(b)
			if x != y {
				return x > y
			}
		} else if key == SortAgent && a.AgentName != b.AgentName {
			return a.AgentName < b.AgentName
		}
		return a.SessionID < b.SessionID
	})
}

// Status filters for [FilterRows], in the order the `f` key cycles through
// them (OpenRTC's cycle).
var StatusFilters = []string{"all", StatusActive, StatusSlow, "draining", StatusErrored}

// Filter selects rows. Empty fields match everything.
type Filter struct {
	Status string // "all", "active", "slow", "ended", "errored"; "draining" matches none yet
	Agent  string // exact agent name
	Tenant string // exact tenant
	Text   string // substring of session id, agent or tenant
}

// FilterRows returns the rows f selects, reusing rows' storage.
func FilterRows(rows []Row, f Filter) []Row {
	out := rows[:0]
	for _, r := range rows {
		if f.Status != "" && f.Status != "all" && r.Status != f.Status {
			continue
		}
		if f.Agent != "" && r.AgentName != f.Agent {
			continue
		}
		tenant := ""
		if r.Tenant != nil {
			tenant = *r.Tenant
		}
		if f.Tenant != "" && tenant != f.Tenant {
			continue
		}
		if f.Text != "" && !strings.Contains(r.SessionID, f.Text) && !strings.Contains(r.AgentName, f.Text) && !strings.Contains(tenant, f.Text) {
			continue
		}
		out = append(out, r)
	}
	return out
}

func round1(f float64) float64 { return math.Round(f*10) / 10 }
func round2(f float64) float64 { return math.Round(f*100) / 100 }
func round3(f float64) float64 { return math.Round(f*1000) / 1000 }
