package fold

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/openrtc-go/introspect/events"
)

// The runbook a finding points to, and its sections. Each section is a
// stable anchor of RunbookPath: "runbook/density-debugging.md#blocking".
const (
	RunbookPath = "runbook/density-debugging.md"

	SectionBlocking      = "blocking"           // a session held a shared loop or section
	SectionCPUHot        = "cpu-hot"            // a session (or the process) ate the CPU
	SectionMemory        = "memory"             // RSS climbed
	SectionGoroutineLeak = "goroutine-leak"     // one session's goroutines kept rising
	SectionWedged        = "wedged-session"     // a session lived far longer than the rest
	SectionNothing       = "nothing-stands-out" // look outside the worker
	// SectionNoRecords is the one finding of an input without a single
	// introspection record (an application's log): there is nothing to
	// judge. Its Runbook is the runbook itself.
	SectionNoRecords = "no-records"
)

// Finding is one thing the post-mortem points at, with the runbook section
// that says what to do about it.
type Finding struct {
	Section string `json:"section"` // one of the Section constants
	Runbook string `json:"runbook"` // RunbookPath#Section
	Title   string `json:"title"`   // one line for a person
	// Short says the same in a few words, for a line of a screen:
	// "call-blocker held mixer 29× up to 401ms at culprits.go:32".
	Short     string    `json:"short"`
	SessionID string    `json:"session_id,omitempty"`
	At        time.Time `json:"at,omitzero"` // the moment to look at with `top --at`
}

func finding(section, session string, at time.Time, format string, args ...any) Finding {
	return Finding{Section: section, Runbook: RunbookPath + "#" + section,
		Title: fmt.Sprintf(format, args...), SessionID: session, At: at}
}

// Input is one file the summary read, as the caller describes it.
type Input struct {
	Path  string    `json:"path"`
	Bytes int64     `json:"bytes"`
	Start time.Time `json:"start,omitzero"`
	End   time.Time `json:"end,omitzero"`
}

// DamageNote is one stretch of an input that could not be read.
type DamageNote struct {
	Path   string `json:"path"`
	Kind   string `json:"kind"` // "truncated-tail", "corrupt-frame", "bad-line"
	Offset int64  `json:"offset"`
	Bytes  int64  `json:"bytes"`
	Detail string `json:"detail"`
}

// RSSSummary is the process memory over the input: its extremes and the
// least-squares trend through every sample.
type RSSSummary struct {
	LowBytes        uint64    `json:"low_bytes"`
	LowAt           time.Time `json:"low_at,omitzero"`
	HighBytes       uint64    `json:"high_bytes"`
	HighAt          time.Time `json:"high_at,omitzero"`
	SlopeMiBPerHour float64   `json:"slope_mib_per_hour"`
	// Fit is the coefficient of determination of the trend line, 0..1: near
	// 1 the memory moved steadily, near 0 it only wandered.
	Fit   float64 `json:"fit"`
	Trend string  `json:"trend"` // "rising", "falling", "flat" or "unknown"
	// ShareSlopeMiBPerHour and ShareTrend are the same for RSS per live
	// session, the mem_mb of every row: RSS that rises only because
	// sessions were added leaves it flat.
	ShareSlopeMiBPerHour float64 `json:"share_slope_mib_per_hour"`
	ShareTrend           string  `json:"share_trend"`
	// RiseMiB and ShareRiseMiB are how far the trend lines move over
	// SpanSeconds, the time the samples cover: over a short recording the
	// slopes per hour are extrapolations, the rises are what happened.
	RiseMiB      float64 `json:"rise_mib"`
	ShareRiseMiB float64 `json:"share_rise_mib"`
	SpanSeconds  float64 `json:"span_seconds"`
}

// Summary is the post-mortem page of a recording.
type Summary struct {
	Inputs      []Input          `json:"inputs"`
	Start       time.Time        `json:"start,omitzero"`
	End         time.Time        `json:"end,omitzero"`
	DurationS   float64          `json:"duration_s"`
	Damage      []DamageNote     `json:"damage"`
	Lines       int64            `json:"lines"`
	Bytes       int64            `json:"bytes"` // decompressed JSON read
	BadLines    int64            `json:"bad_lines"`
	Events      map[string]int64 `json:"events"` // records by kind; "other" counts application lines
	NewerSchema bool             `json:"newer_schema,omitempty"`
	Workers     []WorkerLife     `json:"workers"`
	Sessions    int              `json:"sessions"`
	Failed      int              `json:"failed"`
	PeakLive    int              `json:"peak_sessions"`
	PeakLiveAt  time.Time        `json:"peak_sessions_at,omitzero"`
	RSS         RSSSummary       `json:"rss"`
	Stalls      int              `json:"stalls"`
	TopCPU      []Row            `json:"top_cpu"`
	// CPU is the process's CPU time over the input, the sessions' sum, and
	// what no sample covered (in no session's cpu_seconds); nil when every
	// window was sampled.
	CPU         *CPUAccount `json:"cpu,omitempty"`
	WorstStalls []Stall     `json:"worst_stalls"`
	// StallGroups are the stalls grouped by where they happened, in the
	// order of [GroupStalls] (the places whose stalls count against their
	// holders first), at most SummaryTop; MoreStallGroups and MoreStalls
	// count the places and stalls left out (slow --group lists them).
	StallGroups     []StallGroup `json:"stall_groups"`
	MoreStallGroups int          `json:"more_stall_groups,omitempty"`
	MoreStalls      int          `json:"more_stalls,omitempty"`
	Findings        []Finding    `json:"findings"`
}

// SummaryTop is how many sessions by CPU, worst stalls and places of
// stalls the summary lists. The findings name every holder of a blocking
// stall whatever their number (see blockingFindings): the first
// maxPerSection one a finding each, the rest in one finding.
const SummaryTop = 5

// Summary returns the post-mortem of everything folded so far. Inputs and
// Damage are left for the caller, who knows the files.
func (r *Report) Summary() Summary {
	// The figures of a row the summary needs, not the rows: a day has
	// tens of thousands of sessions.
	at := r.state.Now()
	all := r.state.inStartOrder()
	briefs := make([]brief, len(all))
	for i, ss := range all {
		briefs[i] = brief{ss, cpuSeconds(ss), durationS(ss, at)}
	}
	stalls := r.Stalls()
	s := Summary{
		Start: r.first, End: r.last, Damage: []DamageNote{}, Inputs: []Input{},
		Lines: r.lines, Bytes: r.bytes, BadLines: r.bad, NewerSchema: r.newer,
		Events: make(map[string]int64, len(r.counts)), Workers: append([]WorkerLife{}, r.workers...),
		Sessions: len(briefs), PeakLive: r.peakLive, PeakLiveAt: r.peakLiveAt, Stalls: len(stalls),
		WorstStalls: WorstStalls(stalls, SummaryTop),
	}
	s.StallGroups = GroupStalls(stalls)
	if len(s.StallGroups) > SummaryTop {
		for _, g := range s.StallGroups[SummaryTop:] {
			s.MoreStallGroups++
			s.MoreStalls += g.Count
		}
		s.StallGroups = s.StallGroups[:SummaryTop]
	}
	if !r.first.IsZero() {
		s.DurationS = round1(r.last.Sub(r.first).Seconds())
	}
	for k, n := range r.counts {
		if k == "" {
			k = "other"
		}
		s.Events[k] = n
	}
	for _, b := range briefs {
		if b.ss.outcome == "error" { // an errored row; a live one has no outcome
			s.Failed++
		}
	}
	s.RSS = r.rssSummary()

	for _, b := range topBriefs(briefs, SummaryTop, func(b brief) float64 { return b.cpuS }) {
		if len(s.TopCPU) == SummaryTop || b.cpuS <= 0 {
			break
		}
		s.TopCPU = append(s.TopCPU, r.state.row(b.ss, at))
	}
	if s.TopCPU == nil {
		s.TopCPU = []Row{}
	}
	if a := r.CPU(); a.UnsampledCPUS > 0 || a.MissedPct >= minMissedPct {
		s.CPU = &a
	}
	s.Findings = r.findings(briefs, stalls, s.RSS)
	return s
}

// brief is a session with its row's CPUSeconds and DurationS.
type brief struct {
	ss         *session
	cpuS, durS float64
}

func (r *Report) rssSummary() RSSSummary {
	t := &r.rss
	out := RSSSummary{Trend: "unknown", ShareTrend: "unknown"}
	if t.n == 0 {
		return out
	}
	out.LowBytes, out.LowAt, out.HighBytes, out.HighAt = t.low, t.lowAt, t.high, t.highAt
	out.SlopeMiBPerHour, out.Fit, out.Trend = t.trend(r.last, 8)
	out.ShareSlopeMiBPerHour, _, out.ShareTrend = r.share.trend(r.last, 0.5)
	span := r.last.Sub(t.origin)
	out.SpanSeconds = round2(span.Seconds())
	out.RiseMiB = round2(out.SlopeMiBPerHour * span.Hours())
	out.ShareRiseMiB = round2(out.ShareSlopeMiBPerHour * span.Hours())
	return out
}

// trend fits a line through the figure and calls it rising or falling when
// the line explains it (r² ≥ 0.5) and moves it, over the span up to end, by
// at least a tenth of its mean and minMiB.
func (t *rssTrend) trend(end time.Time, minMiB float64) (slope, r2 float64, trend string) {
	slope, r2, ok := t.fit()
	if !ok {
		return 0, 0, "unknown"
	}
	rise := slope * end.Sub(t.origin).Hours() // MiB over the span, along the line
	switch {
	case r2 >= 0.5 && rise >= 0.1*t.mean() && rise >= minMiB:
		trend = "rising"
	case r2 >= 0.5 && -rise >= 0.1*t.mean() && -rise >= minMiB:
		trend = "falling"
	default:
		trend = "flat"
	}
	return round2(slope), round2(r2), trend
}

// findings applies the runbook's flow to the report: blocking first, then
// CPU, memory, goroutines and wedged sessions; when none of them shows,
// the bottleneck is outside the worker.
func (r *Report) findings(rows []brief, stalls []Stall, rss RSSSummary) []Finding {
	// The two that go over every session of the day run beside the rest:
	// they read the report and rows, which nothing changes by now, and the
	// scan that kept the second core busy is over.
	var gor, wedged []Finding
	var wg sync.WaitGroup
	wg.Go(func() { gor = r.goroutineFindings() })
	wg.Go(func() { wedged = wedgedFindings(rows, r.last) })
	var out []Finding
	out = append(out, blockingFindings(stalls)...)
	out = append(out, cpuFindings(rows, r.hot)...)
	out = append(out, schedulerFindings(stalls)...)
	out = append(out, starvedFindings(stalls)...)
	out = append(out, undecidedFindings(stalls)...)
	// Memory pressure is the share per session climbing, peak climbing
	// everywhere; RSS that only follows the number of sessions is not.
	if rss.Trend == "rising" && rss.ShareTrend == "rising" {
		f := finding(SectionMemory, "", rss.HighAt,
			"RSS rose from %s to %s (%+.1f MiB/h, fit %.2f) and the share of every session with it (%+.2f MiB/h): memory grows with time, not with sessions",
			mibString(rss.LowBytes), mibString(rss.HighBytes), rss.SlopeMiBPerHour, rss.Fit, rss.ShareSlopeMiBPerHour)
		f.Short = fmt.Sprintf("RSS %s → %s, every session's share rising: memory grows with time", mibString(rss.LowBytes), mibString(rss.HighBytes))
		out = append(out, f)
	}
	wg.Wait()
	out = append(out, gor...)
	out = append(out, wedged...)
	if len(out) == 0 && r.first.IsZero() {
		f := finding(SectionNoRecords, "", time.Time{},
			"no introspection records in the input: nothing to judge (is it the recording of a worker that runs openrtc-introspect?)")
		f.Short = "no introspection records: nothing to judge"
		return []Finding{f}
	}
	if len(out) == 0 {
		f := finding(SectionNothing, "", time.Time{},
			"no session stands out: no stalls, no CPU-hot session, memory and goroutines flat; look outside the worker")
		f.Short = "no session stands out: look outside the worker"
		out = append(out, f)
	}
	return out
}

// maxPerSection bounds the findings of one kind, so one noisy recording
// does not bury the others.
const maxPerSection = 3

type stallGroup struct {
	session, source string
	n               int
	totalMs         float64
	worst           Stall
	measured        bool          // some stall was measured, not derived from a polled status
	slowFor         time.Duration // derived stalls: how long the polls showed the session slow
}

func blockingFindings(stalls []Stall) []Finding {
	groups := map[string]*stallGroup{}
	var order []*stallGroup
	for _, st := range stalls {
		if st.Source == "scheduler" || st.Victim() || st.Undecided() {
			// A holder that waited for the CPU is not a culprit; one
			// that nothing judged is not known to be (undecidedFindings).
			continue
		}
		key := st.SessionID + "\x00" + st.Source
		g := groups[key]
		if g == nil {
			g = &stallGroup{session: st.SessionID, source: st.Source}
			groups[key] = g
			order = append(order, g)
		}
		g.n++
		g.totalMs += st.BlockedMs
		if st.BlockedMs > g.worst.BlockedMs || g.n == 1 {
			g.worst = st
		}
		if !st.Derived {
			g.measured = true
		} else {
			g.slowFor += st.At.Sub(st.First)
		}
	}
	sort.SliceStable(order, func(i, j int) bool {
		if order[i].totalMs != order[j].totalMs {
			return order[i].totalMs > order[j].totalMs
		}
		return order[i].slowFor > order[j].slowFor
	})
	var out []Finding
	for _, g := range order[:min(len(order), maxPerSection)] {
		out = append(out, blockingFinding(g))
	}
	if rest := order[min(len(order), maxPerSection):]; len(rest) > 0 {
		out = append(out, moreBlocking(rest))
	}
	return out
}

// maxNamed bounds the culprits the "more" blocking finding names one by
// one; past it, it counts the rest and points to slow --group.
const maxNamed = 20

// moreBlocking is the one finding for the holders of blocking stalls past
// the first maxPerSection: every one of them named (up to maxNamed), with
// where and how long at worst, so that no culprit is missing from the
// summary. Its session and moment are the worst of them.
func moreBlocking(rest []*stallGroup) Finding {
	worst := rest[0]
	var names, short []string
	for i, g := range rest {
		if g.worst.BlockedMs > worst.worst.BlockedMs {
			worst = g
		}
		if i >= maxNamed {
			continue
		}
		who := g.session
		if who == "" {
			who = "an unattributed holder"
		}
		what := fmt.Sprintf("%s %s, worst %s", g.source, timesShort(g.n), msString(g.worst.BlockedMs))
		if fr := ShortFrame(g.worst.Frame); fr != "" {
			what += " at " + fr
		}
		names = append(names, fmt.Sprintf("%s (%s)", who, what))
		short = append(short, who)
	}
	tail := ""
	if len(rest) > maxNamed {
		tail = fmt.Sprintf(", and %d more (slow --group lists them all)", len(rest)-maxNamed)
	}
	f := finding(SectionBlocking, worst.session, worst.worst.At,
		"%s also blocked shared loops or sections: %s%s",
		plural(len(rest), "more holder", "more holders"), strings.Join(names, "; "), tail)
	f.Short = fmt.Sprintf("%s blocked too: %s", plural(len(rest), "more", "more"), strings.Join(short, ", "))
	if len(rest) > maxNamed {
		f.Short += fmt.Sprintf(" +%d", len(rest)-maxNamed)
	}
	return f
}

// blockingFinding is the finding of one holder's stalls on one place.
func blockingFinding(g *stallGroup) Finding {
	who := g.session
	if who == "" {
		who = "an unattributed holder"
	}
	where := ""
	if g.worst.Frame != "" {
		where = " at " + g.worst.Frame
	}
	if !g.measured && g.totalMs == 0 {
		// Polled, not measured: a snapshot said the session was slow.
		f := finding(SectionBlocking, g.session, g.worst.At,
			"%s was reported slow on %s %s, for %s of polls (derived from polled snapshots: how long it blocked and on which line are unknown)",
			who, g.source, times(g.n), g.slowFor.Round(time.Second))
		f.Short = fmt.Sprintf("%s slow on %s %s (polled)", who, g.source, timesShort(g.n))
		return f
	}
	if !g.measured {
		where = " (derived from polled snapshots: no line)"
	}
	f := finding(SectionBlocking, g.session, g.worst.At,
		"%s blocked %s %s (%s in all), worst %s%s",
		who, g.source, times(g.n), msString(g.totalMs), msString(g.worst.BlockedMs), where)
	held := fmt.Sprintf("held %s %s up to %s", g.source, timesShort(g.n), msString(g.worst.BlockedMs))
	if g.n == 1 {
		held = fmt.Sprintf("held %s once for %s", g.source, msString(g.worst.BlockedMs))
	}
	f.Short = who + " " + held
	if fr := ShortFrame(g.worst.Frame); fr != "" && g.worst.FrameFrom == events.FrameLeave {
		f.Short += " (left at " + fr + ", no stack)"
	} else if fr != "" {
		f.Short += " at " + fr
	}
	return f
}

func schedulerFindings(stalls []Stall) []Finding {
	var n int
	var worst Stall
	blame := map[string]float64{}
	count := map[string]int{} // stalls put on each session; "" for none
	for _, st := range stalls {
		if st.Source != "scheduler" {
			continue
		}
		n++
		if st.BlockedMs > worst.BlockedMs {
			worst = st
		}
		count[st.SessionID]++
		if st.SessionID != "" {
			blame[st.SessionID] += st.Confidence * st.BlockedMs
		}
	}
	if n == 0 {
		return nil
	}
	var culprit string
	if top := mostBlamed(blame, 1); len(top) > 0 {
		culprit = top[0]
	}
	// Say how many were put on whom, the most first, and how many on no
	// session: "2 put on pool-client, 20 on no session".
	ids := slices.DeleteFunc(mostBlamed(count, -1), func(id string) bool { return id == "" })
	var parts []string
	for i, id := range ids {
		if i == maxPerSection {
			rest := 0
			for _, id := range ids[i:] {
				rest += count[id]
			}
			parts = append(parts, fmt.Sprintf("%d on %s", rest, plural(len(ids)-i, "other session", "other sessions")))
			break
		}
		verb := "on"
		if i == 0 {
			verb = "put on"
		}
		parts = append(parts, fmt.Sprintf("%d %s %s", count[id], verb, id))
	}
	var tail string
	switch {
	case len(ids) == 0:
		tail = "none put on a session: GC or the whole process was busy"
	case count[""] > 0:
		tail = strings.Join(parts, ", ") + fmt.Sprintf(", %d on no session", count[""])
	default:
		tail = strings.Join(parts, ", ")
	}
	f := finding(SectionCPUHot, culprit, worst.At,
		"the scheduler lagged %s, worst %s; %s", times(n), msString(worst.BlockedMs), tail)
	f.Short = fmt.Sprintf("the scheduler lagged %s, worst %s; %s", timesShort(n), msString(worst.BlockedMs), tail)
	return []Finding{f}
}

// starvedFindings carries the blame for holds whose holder waited for the
// CPU to the sessions that had it: each victim's stall weighs each of them
// by its share of the CPU samples while the hold lasted.
func starvedFindings(stalls []Stall) []Finding {
	var n int
	var worst Stall
	blame := map[string]float64{}
	holders := map[string]bool{}
	for _, st := range stalls {
		if !st.Victim() {
			continue
		}
		n++
		holders[st.SessionID] = true
		if st.BlockedMs > worst.BlockedMs {
			worst = st
		}
		for id, pct := range st.StarvedBy {
			blame[id] += pct / 100 * st.BlockedMs
		}
	}
	if n == 0 {
		return nil
	}
	tail := "nobody in the worker had it: look at the machine"
	culprit := ""
	if named := mostBlamed(blame, 3); len(named) > 0 {
		culprit = named[0]
		tail = "the CPU went to " + strings.Join(named, ", ")
	}
	f := finding(SectionCPUHot, culprit, worst.At,
		"%s of shared loops by %s waited for a CPU, not their holders' fault (worst %s, %s on %s): %s",
		plural(n, "hold", "holds"), plural(len(holders), "session", "sessions"), msString(worst.BlockedMs), orNone(worst.SessionID), worst.Source, tail)
	f.Short = fmt.Sprintf("%s waited for a CPU (victims, not culprits): %s", plural(n, "hold", "holds"), tail)
	return []Finding{f}
}

// undecidedFindings says how many holds ended with no cause known, by whom
// and where: they are not counted as culprits, nor cleared as victims.
func undecidedFindings(stalls []Stall) []Finding {
	var n int
	var worst Stall
	holders := map[string]bool{}
	for _, st := range stalls {
		if !st.Undecided() {
			continue
		}
		n++
		holders[st.SessionID] = true
		if st.BlockedMs > worst.BlockedMs {
			worst = st
		}
	}
	if n == 0 {
		return nil
	}
	// No session is named: the holders are neither culprits nor cleared,
	// and a finding's session is where the operator is sent first.
	f := finding(SectionBlocking, "", worst.At,
		"%s of shared loops by %s ended with no cause known (worst %s, on %s): no goroutine profile caught the holder and its CPU samples did not decide; not counted as culprits (slow prints them cause=unknown)",
		plural(n, "hold", "holds"), plural(len(holders), "session", "sessions"), msString(worst.BlockedMs), worst.Source)
	f.Short = fmt.Sprintf("%s with no cause known (not counted as culprits)", plural(n, "hold", "holds"))
	return []Finding{f}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func orNone(s string) string {
	if s == "" {
		return "an unattributed holder"
	}
	return s
}

// minHotLife is the shortest life over which a session's CPU rate is judged.
const minHotLife = 10.0 // seconds

// A session is hot only when it was over hotShare for a while: in
// minHotWindows CPU windows, or for minHotTime of profiled windows, whichever
// comes first (five 1 s windows, or one or two of the default 5 s ones).
const (
	minHotWindows = 5
	minHotTime    = 5 * time.Second
)

func cpuFindings(rows []brief, hot map[string]*hotTrack) []Finding {
	rates := make([]float64, 0, len(rows))
	type cand struct {
		row  brief
		rate float64
	}
	cands := make([]cand, 0, len(rows))
	for _, row := range rows {
		if row.durS < minHotLife {
			continue
		}
		rate := row.cpuS / row.durS
		rates = append(rates, rate)
		cands = append(cands, cand{row, rate})
	}
	med := median(rates)
	var out []Finding
	for _, c := range top(cands, maxPerSection, func(c cand) float64 { return c.rate }, func(c cand) string { return c.row.ss.SessionID }) {
		// Hot: a fifth of a core or more over its life, several times
		// the typical session, and over the hot share in many windows.
		id := c.row.ss.SessionID
		h := hot[id]
		if len(out) == maxPerSection || c.rate < 0.2 || (med > 0 && c.rate < 4*med) || h == nil ||
			(h.windows < minHotWindows && h.time < minHotTime) {
			break
		}
		ratio := "the other sessions used next to none"
		if med > 0 {
			ratio = fmt.Sprintf("%.1f× the median session", c.rate/med)
		}
		f := finding(SectionCPUHot, id, h.peakAt,
			"%s used %.1f CPU seconds, %.0f%% of a core over its %s life (%s); over %.0f%% of samples in %d windows, peak %.0f%%",
			id, c.row.cpuS, 100*c.rate, durString(c.row.durS), ratio,
			hotShare, h.windows, h.peak)
		f.Short = fmt.Sprintf("%s ate %.0f%% of a core for %s, %.1f CPU-s", id, 100*c.rate, durString(c.row.durS), c.row.cpuS)
		if med > 0 {
			f.Short += fmt.Sprintf(" (%.0f× the median)", c.rate/med)
		}
		out = append(out, f)
	}
	return out
}

func (r *Report) goroutineFindings() []Finding {
	var peaks []float64
	for _, g := range r.gor {
		peaks = append(peaks, float64(g.peak))
	}
	med := median(peaks)
	type cand struct {
		id string
		g  *gorTrack
	}
	var cands []cand
	for id, g := range r.gor {
		growth := g.peak - g.first
		// Leaking: it grew by a good number, nearly only up, far above
		// the typical session. A random walk rises as often as it falls.
		if growth >= 16 && g.ups >= 5 && g.ups >= 3*g.downs && float64(g.peak) >= 3*med {
			cands = append(cands, cand{id, g})
		}
	}
	sort.Slice(cands, func(i, j int) bool {
		gi, gj := cands[i].g.peak-cands[i].g.first, cands[j].g.peak-cands[j].g.first
		if gi != gj {
			return gi > gj
		}
		return cands[i].id < cands[j].id
	})
	var out []Finding
	for _, c := range cands[:min(len(cands), maxPerSection)] {
		moves := fmt.Sprintf("rose %s, fell %s", times(c.g.ups), times(c.g.downs))
		if c.g.downs == 0 {
			moves = "only ever rose, " + times(c.g.ups)
		}
		where := ""
		if len(c.g.stacks) > 0 {
			where = ": " + GoroutineGroupText(c.g.stacks[0])
		}
		f := finding(SectionGoroutineLeak, c.id, c.g.peakAt,
			"%s goroutines grew %d → %d (%s; the median session peaked at %.0f)%s",
			c.id, c.g.first, c.g.peak, moves, med, where)
		f.Short = fmt.Sprintf("%s goroutines %d → %d", c.id, c.g.first, c.g.peak)
		if len(c.g.stacks) > 0 {
			f.Short += " at " + ShortFrame(c.g.stacks[0].Frame)
		}
		if c.g.downs == 0 {
			f.Short += ", only ever rising"
		}
		out = append(out, f)
	}
	return out
}

// GoroutineGroupText says where a group of goroutines is, as a leak finding
// does: "425 goroutines parked at leaky.go:42 main.leak.func1, chan receive".
func GoroutineGroupText(g events.GoroutineGroup) string {
	verb := "parked"
	if g.Wait == "" {
		verb = "running or runnable"
	}
	s := fmt.Sprintf("%d %s %s at %s", g.Count, pluralWord(g.Count, "goroutine", "goroutines"), verb, g.Frame)
	if g.Wait != "" {
		s += ", " + g.Wait
	}
	return s
}

func pluralWord(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// wedgedFindings names sessions that lived far longer than the other
// sessions of their own agent. A session is measured against its own kind
// of work only: beside short HTTP requests, every call of a voice agent
// lives "100× the median session", and none of them is wedged. An agent with
// fewer than five ended sessions gives no typical life, and no finding.
func wedgedFindings(rows []brief, end time.Time) []Finding {
	ended := map[string]int{}
	lives := map[string][]float64{}
	for _, row := range rows {
		if !row.ss.end.IsZero() {
			ended[row.ss.Agent]++
		}
		lives[row.ss.Agent] = append(lives[row.ss.Agent], row.durS)
	}
	// The median counts the sessions still live at the end at their life so
	// far: leaving them out would keep only the lives short enough to end
	// inside the recording, and make every long one look wedged.
	medians := map[string]float64{}
	for agent, durs := range lives {
		if ended[agent] >= 5 {
			medians[agent] = median(durs)
		}
	}
	if len(medians) == 0 {
		return nil
	}
	var cands []brief
	for _, row := range rows {
		if med, ok := medians[row.ss.Agent]; ok && row.durS >= 60 && row.durS >= 5*med {
			cands = append(cands, row)
		}
	}
	var out []Finding
	for _, row := range topBriefs(cands, maxPerSection, func(b brief) float64 { return b.durS }) {
		med := medians[row.ss.Agent]
		state := "ended " + row.ss.outcome
		at := row.ss.end
		if at.IsZero() {
			state, at = "still live at the end", end
		}
		id := row.ss.SessionID
		of := "the median session"
		if row.ss.Agent != "" {
			of = "the median " + row.ss.Agent + " session"
		}
		f := finding(SectionWedged, id, at,
			"%s lived %s, %.0f× %s (%s), %s",
			id, durString(row.durS), row.durS/math.Max(med, 1), of, durString(med), state)
		f.Short = fmt.Sprintf("%s lived %s, %.0f× %s, %s", id, durString(row.durS), row.durS/math.Max(med, 1), of, state)
		out = append(out, f)
	}
	return out
}

func times(n int) string {
	if n == 0 {
		return "never"
	}
	if n == 1 {
		return "once"
	}
	return fmt.Sprintf("%d times", n)
}

// timesShort is times for a line of a screen: once, 29×.
func timesShort(n int) string {
	if n == 1 {
		return "once"
	}
	return fmt.Sprintf("%d×", n)
}

// ShortFrame cuts a frame ("workload/culprits.go:32 workload.fetchVoiceProfileSync")
// to its file's base name and line ("culprits.go:32"), for a line of a
// screen; a frame without a file:line is returned as it is.
func ShortFrame(frame string) string {
	loc, _, _ := strings.Cut(frame, " ")
	if !strings.Contains(loc, ":") {
		return frame
	}
	if i := strings.LastIndexAny(loc, "/\\"); i >= 0 {
		loc = loc[i+1:]
	}
	return loc
}

func msString(ms float64) string {
	if ms >= 10000 {
		return fmt.Sprintf("%.1fs", ms/1000)
	}
	return fmt.Sprintf("%.0fms", ms)
}

func mibString(b uint64) string {
	if b >= 1<<30 {
		return fmt.Sprintf("%.2f GiB", float64(b)/(1<<30))
	}
	return fmt.Sprintf("%.1f MiB", float64(b)/mib)
}

func durString(s float64) string {
	return (time.Duration(math.Round(s)) * time.Second).String()
}

// topBriefs returns the n sessions of highest key, highest first, ties by
// session id: the head of SortRows for a numeric key, without sorting
// every row of a day's sessions.
func topBriefs(rows []brief, n int, key func(brief) float64) []brief {
	return top(rows, n, key, func(b brief) string { return b.ss.SessionID })
}

// top returns the n items of highest key, highest first, ties by id.
func top[T any](items []T, n int, key func(T) float64, id func(T) string) []T {
	better := func(a, b T) bool {
		if ka, kb := key(a), key(b); ka != kb {
			return ka > kb
		}
		return id(a) < id(b)
	}
	out := make([]T, 0, n+1)
	for _, it := range items {
		if len(out) == n && !better(it, out[n-1]) {
			continue
		}
		i := sort.Search(len(out), func(i int) bool { return better(it, out[i]) })
		out = append(out, it)
		copy(out[i+1:], out[i:])
		out[i] = it
		if len(out) > n {
			out = out[:n]
		}
	}
	return out
}
