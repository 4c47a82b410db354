//go:build linux

package truth

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/openrtc-go/introspect/fold"
)

// A Figure is one row of issue 8's table: what was measured, the goal, and
// whether the goal is met.
type Figure struct {
	Name     string
	Measured string
	Goal     string
	Met      bool
	// Detail says what went wrong, stall by stall or session by session.
	Detail []string
}

// Verdict is the judge's answer: the table, in the order.
type Verdict struct {
	Figures []Figure
}

// Figure returns the figure whose name starts with prefix.
func (v *Verdict) Figure(prefix string) (Figure, bool) {
	for _, f := range v.Figures {
		if strings.HasPrefix(f.Name, prefix) {
			return f, true
		}
	}
	return Figure{}, false
}

// Names of the figures, for the test to ask for.
const (
	FigDetected       = "injected loop/mutex stalls detected"
	FigSession        = "… attributed to the right session"
	FigLine           = "… reported with the blocking call's line"
	FigCause          = "… with the cause \"blocked\""
	FigBlamed         = "stalls blamed on sessions that did nothing wrong"
	FigCPUPct         = "cpu_pct against the truth (share of process CPU)"
	FigCPUSeconds     = "cpu_seconds against the truth (thread CPU clocks, locked hogs)"
	FigFreeHog        = "cpu_seconds of a hog whose goroutines are not locked to threads"
	FigPool           = "CPU of work handed to a worker pool"
	FigPoolAttributed = "… billed to the session that sent it"
	FigDispatcher     = "a goroutine that called Begin for others (a dispatcher)"
	FigSched          = "scheduler-stall durations"
	FigSchedWho       = "scheduler stalls put on the session that spun"
	FigMem            = "sum of mem_mb over live rows vs header RSS"
	FigRSS            = "header RSS vs /proc/self/statm"
	FigLeakCount      = "the leaker's goroutines (count)"
	FigLeakLine       = "the leaker's goroutines (where they are parked)"
	FigCulprits       = "summary names a blocking culprit and the leaker"
	FigCPUCulprit     = "summary names the session that used the most CPU"
	FigVictims        = "summary names no victim"
)

// Judge reads the recording of the run t describes and returns the table.
func Judge(t *Truth) (*Verdict, error) {
	rec, err := readRecording(t)
	if err != nil {
		return nil, err
	}
	v := &Verdict{}
	add := func(f Figure) { v.Figures = append(v.Figures, f) }
	matches := matchStalls(t, rec)
	add(figDetected(t, rec, matches))
	add(figSession(matches))
	add(figLine(matches))
	add(figCause(rec, matches))
	add(figBlamed(t, rec, matches))
	add(figCPUPct(rec))
	add(figCPUSeconds(t, rec))
	add(figFreeHog(t, rec))
	add(figPool(t, rec))
	add(figPoolAttributed(t, rec))
	add(figDispatcher(t, rec))
	add(figSched(t, rec))
	add(figSchedWho(t, rec))
	add(figMem(t, rec))
	add(figRSS(rec))
	add(figLeakCount(t, rec))
	add(figLeakLine(t, rec))
	add(figCulprits(t, rec))
	add(figCPUCulprit(t, rec))
	add(figVictims(t, rec))
	return v, nil
}

// A match is an injected stall and the reported stall on the same source
// that overlaps it most (holds of one source never overlap each other).
type match struct {
	inj Injected
	rep *reported
}

// judged is whether an injected stall was long enough that it must be
// reported: half again the threshold.
func judged(t *Truth, i Injected) bool { return i.Dur() >= t.Threshold*3/2 }

// matchSlack is how far a reported hold may sit from the injected block and
// still be its report: the block is measured inside the hold, and a report's
// times are written by a goroutine that may itself wait for a CPU.
const matchSlack = 250 * time.Millisecond

func matchStalls(t *Truth, rec *recording) []match {
	var out []match
	for _, inj := range t.Injected {
		if !judged(t, inj) {
			continue
		}
		m := match{inj: inj}
		var best, bestNear time.Duration
		for k := range rec.stalls {
			r := &rec.stalls[k]
			if r.Source != inj.Source {
				continue
			}
			o := overlap(r.start(), r.end(), inj.Start, inj.End)
			near := overlap(r.start(), r.end(), inj.Start.Add(-matchSlack), inj.End.Add(matchSlack))
			if o > best || o == best && near > bestNear {
				best, bestNear, m.rep = o, near, r
			}
		}
		if bestNear == 0 {
			m.rep = nil
		}
		out = append(out, m)
	}
	return out
}

// nearby describes the reported stalls on a source around a moment, for a
// verdict that has to be looked into.
func nearby(rec *recording, source string, at time.Time) string {
	var parts []string
	for _, r := range rec.stalls {
		if r.Source == source && r.start().After(at.Add(-2*time.Second)) && r.start().Before(at.Add(2*time.Second)) {
			parts = append(parts, fmt.Sprintf("%s %s–%s (%d reports)", r.Session, clock(r.start()), clock(r.end()), r.Reports))
		}
	}
	if len(parts) == 0 {
		return "nothing reported on " + source + " within 2 s"
	}
	return "reported on " + source + ": " + strings.Join(parts, ", ")
}

func overlap(a0, a1, b0, b1 time.Time) time.Duration {
	s, e := a0, a1
	if b0.After(s) {
		s = b0
	}
	if b1.Before(e) {
		e = b1
	}
	if e.After(s) {
		return e.Sub(s)
	}
	return 0
}

func pct(n, d int) string {
	if d == 0 {
		return "0 / 0"
	}
	return fmt.Sprintf("%d / %d", n, d)
}

func (m match) what() string {
	return fmt.Sprintf("%s %s %s %s %v", m.inj.Session, m.inj.Source, m.inj.Kind, m.inj.Site, m.inj.Dur().Round(time.Millisecond))
}

func figDetected(t *Truth, rec *recording, ms []match) Figure {
	f := Figure{Name: FigDetected, Goal: "100 %"}
	n := 0
	for _, m := range ms {
		if m.rep != nil {
			n++
		} else {
			f.Detail = append(f.Detail, fmt.Sprintf("missed: %s, %s–%s; %s", m.what(), clock(m.inj.Start), clock(m.inj.End), nearby(rec, m.inj.Source, m.inj.Start)))
		}
	}
	f.Measured, f.Met = pct(n, len(ms)), n == len(ms) && len(ms) > 0
	return f
}

func figSession(ms []match) Figure {
	f := Figure{Name: FigSession, Goal: "≥ 95 %"}
	n, d := 0, 0
	for _, m := range ms {
		if m.rep == nil {
			continue
		}
		d++
		if m.rep.Session == m.inj.Session {
			n++
		} else {
			f.Detail = append(f.Detail, fmt.Sprintf("%s: reported as %q", m.what(), m.rep.Session))
		}
	}
	f.Measured, f.Met = pct(n, d), d > 0 && n*100 >= 95*d
	return f
}

// frameAt reports whether a frame ("dir/file.go:42 pkg.fn") is at site
// ("file.go:42").
func frameAt(frame, site string) bool {
	loc, _, _ := strings.Cut(frame, " ")
	return loc == site || strings.HasSuffix(loc, "/"+site)
}

func figLine(ms []match) Figure {
	f := Figure{Name: FigLine, Goal: "≥ 90 %"}
	n, d := 0, 0
	for _, m := range ms {
		if m.rep == nil {
			continue
		}
		d++
		if frameAt(m.rep.Frame, m.inj.Site) {
			n++
		} else {
			f.Detail = append(f.Detail, fmt.Sprintf("%s: frame %q (frame_from %q)", m.what(), m.rep.Frame, m.rep.From))
		}
	}
	f.Measured, f.Met = pct(n, d), d > 0 && n*100 >= 90*d
	return f
}

// causeOf sorts a recorded cause into blocked, cpu (waiting for CPU) or
// running, whatever its spelling.
func causeOf(c string) string {
	c = strings.ToLower(c)
	switch {
	case c == "":
		return ""
	case strings.Contains(c, "cpu") || strings.Contains(c, "runnable") || strings.Contains(c, "starv"):
		return "cpu"
	case strings.Contains(c, "running"):
		return "running"
	case strings.Contains(c, "block"):
		return "blocked"
	}
	return c
}

func figCause(rec *recording, ms []match) Figure {
	f := Figure{Name: FigCause, Goal: "100 %"}
	if !rec.causes {
		f.Measured = "not recorded (no cause in any stall)"
		return f
	}
	n, d := 0, 0
	for _, m := range ms {
		if m.rep == nil {
			continue
		}
		d++
		if causeOf(m.rep.Cause) == "blocked" {
			n++
		} else {
			f.Detail = append(f.Detail, fmt.Sprintf("%s: cause %q", m.what(), m.rep.Cause))
		}
	}
	f.Measured, f.Met = pct(n, d), d > 0 && n == d
	return f
}

// figBlamed counts the reported stalls that put the blame on a session that
// did not cause them: a loop or mutex stall that is not an injected one (its
// holder did microseconds of work and waited for a CPU), or an injected one
// put on another session, or a scheduler stall put on a session that did not
// eat the CPU. A stall that says its holder was waiting for CPU blames
// nobody.
func figBlamed(t *Truth, rec *recording, ms []match) Figure {
	f := Figure{Name: FigBlamed, Goal: "≤ 5 % of reported stalls"}
	truthOf := map[uint64]string{}
	for _, m := range ms {
		if m.rep != nil {
			truthOf[m.rep.ID] = m.inj.Session
		}
	}
	// Injected stalls too short to be judged may still be reported, rightly.
	for _, inj := range t.Injected {
		for k := range rec.stalls {
			r := &rec.stalls[k]
			if r.Source == inj.Source && overlap(r.start(), r.end(), inj.Start.Add(-matchSlack), inj.End.Add(matchSlack)) > 0 && truthOf[r.ID] == "" {
				truthOf[r.ID] = inj.Session
			}
		}
	}
	heavy := map[string]bool{}
	for _, s := range t.CPUHeavy {
		heavy[s] = true
	}
	blamed, total, starved := 0, 0, 0
	for _, r := range rec.stalls {
		total++
		if r.Session == "" || causeOf(r.Cause) == "cpu" {
			continue
		}
		wrong := false
		if r.Source == "scheduler" {
			wrong = !heavy[r.Session]
		} else {
			wrong = truthOf[r.ID] != r.Session
			if truthOf[r.ID] == "" {
				starved++
			}
		}
		if wrong {
			blamed++
			f.Detail = append(f.Detail, fmt.Sprintf("%s %s %v at %s, frame %q cause %q", r.Session, r.Source, r.Blocked.Round(time.Millisecond), clock(r.At), r.Frame, r.Cause))
		}
	}
	share := 0.0
	if total > 0 {
		share = 100 * float64(blamed) / float64(total)
	}
	f.Measured = fmt.Sprintf("%d of %d reported (%.0f %%); %d were holds of microseconds of work", blamed, total, share, starved)
	f.Met = share <= 5
	return f
}

func quantile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	sort.Float64s(s)
	return s[int(math.Round(q*float64(len(s)-1)))]
}

func figCPUPct(rec *recording) Figure {
	f := Figure{Name: FigCPUPct, Goal: "≤ 3 pp"}
	var errs []float64
	for _, c := range rec.pct {
		e := math.Abs(c.Measured - c.Truth)
		errs = append(errs, e)
		if e > 3 {
			f.Detail = append(f.Detail, fmt.Sprintf("%s at %s: cpu_pct %.1f, truth %.1f", c.Session, clock(c.At), c.Measured, c.Truth))
		}
	}
	if len(errs) == 0 {
		f.Measured = "no window to judge"
		return f
	}
	med, p90 := quantile(errs, 0.5), quantile(errs, 0.9)
	f.Measured = fmt.Sprintf("median %.1f pp, p90 %.1f pp, max %.1f pp over %d session-windows", med, p90, quantile(errs, 1), len(errs))
	f.Met = p90 <= 3
	return f
}

// relErr is (measured − truth) / truth.
func relErr(measured, truth float64) float64 {
	if truth == 0 {
		return math.Inf(1)
	}
	return (measured - truth) / truth
}

func figCPUSeconds(t *Truth, rec *recording) Figure {
	f := Figure{Name: FigCPUSeconds, Goal: "within 3 %"}
	lo, hi := math.Inf(1), math.Inf(-1)
	n := 0
	for _, id := range t.CPUHeavy {
		if id == CodecSession || id == FreeHogSession(t) {
			continue // not judged (see codec), their own figure
		}
		truth := t.CPU[id].Seconds()
		row, ok := rec.rows[id]
		if !ok || truth < 0.5 {
			continue
		}
		e := relErr(row.CPUSeconds, truth)
		lo, hi = math.Min(lo, e), math.Max(hi, e)
		n++
		f.Detail = append(f.Detail, fmt.Sprintf("%s: %.2f s, truth %.2f s (%+.1f %%)", id, row.CPUSeconds, truth, 100*e))
	}
	if n == 0 {
		f.Measured = "no session to judge"
		return f
	}
	f.Measured = fmt.Sprintf("%+.1f %% to %+.1f %% over %d sessions", 100*lo, 100*hi, n)
	f.Met = lo >= -0.03 && hi <= 0.03
	return f
}

// FreeHogSession is the id of the hog whose goroutines are not locked to
// their threads, or "".
func FreeHogSession(t *Truth) string {
	for _, id := range t.CPUHeavy {
		if strings.HasPrefix(id, "hog-free-") {
			return id
		}
	}
	return ""
}

// figFreeHog judges the unlocked hog, measured step by step by a meter that
// reads 82–91 % of a lone burner's process CPU (TestFreeMeterAgainstProcessCPU):
// an excess up to about a tenth may be the meter's.
func figFreeHog(t *Truth, rec *recording) Figure {
	f := Figure{Name: FigFreeHog, Goal: "within 3 % (the meter may read up to ~10 % low)"}
	id := FreeHogSession(t)
	row, ok := rec.rows[id]
	truth := t.CPU[id].Seconds()
	if id == "" || !ok || truth == 0 {
		f.Measured = "not judged"
		return f
	}
	e := relErr(row.CPUSeconds, truth)
	f.Measured = fmt.Sprintf("%.2f s for %.2f s (%+.1f %%)", row.CPUSeconds, truth, 100*e)
	f.Met = math.Abs(e) <= 0.03
	return f
}

func figPool(t *Truth, rec *recording) Figure {
	f := Figure{Name: FigPool, Goal: "attributed (within 3 % of own + pool)"}
	row, ok := rec.rows[t.Pool.Session]
	if !ok || t.Pool.Job <= 0 {
		f.Measured = "no pooled session"
		return f
	}
	own, job := t.Pool.Own.Seconds(), t.Pool.Job.Seconds()
	attributed := row.CPUSeconds - own
	f.Measured = fmt.Sprintf("%.2f of %.2f CPU-s of pool work (session: %.2f s, truth %.2f own + %.2f pool)", math.Max(attributed, 0), job, row.CPUSeconds, own, job)
	f.Detail = append(f.Detail, fmt.Sprintf("the pool's threads used %.2f CPU-s more, waiting for jobs (the runtime parking and waking them): nobody's work, not judged", t.Pool.Waiting.Seconds()))
	f.Met = math.Abs(relErr(row.CPUSeconds, own+job)) <= 0.03
	return f
}

// figPoolAttributed checks that the pool's work is billed to the session
// that sent it, whatever the billing's overall accuracy (FigPool judges
// that): the pooled session's cpu_seconds over its truth (own and pool work)
// is within 30 % of the hogs' ratio. Unattributed, the pool's two thirds
// missing, it would be a third of it.
func figPoolAttributed(t *Truth, rec *recording) Figure {
	f := Figure{Name: FigPoolAttributed, Goal: "billed like the hogs' own work (within 30 %)"}
	row, ok := rec.rows[t.Pool.Session]
	truth := (t.Pool.Own + t.Pool.Job).Seconds()
	if !ok || t.Pool.Job <= 0 {
		f.Measured = "no pooled session"
		return f
	}
	var ratios []float64
	for _, id := range t.CPUHeavy {
		if r, ok := rec.rows[id]; ok && id != CodecSession && t.CPU[id] > 500*time.Millisecond {
			ratios = append(ratios, r.CPUSeconds/t.CPU[id].Seconds())
		}
	}
	if len(ratios) == 0 {
		f.Measured = "no hog to compare with"
		return f
	}
	hogs, pooled := quantile(ratios, 0.5), row.CPUSeconds/truth
	f.Measured = fmt.Sprintf("billed %.0f %% of its truth, the hogs %.0f %%", 100*pooled, 100*hogs)
	f.Met = math.Abs(pooled/hogs-1) <= 0.30
	return f
}

func figDispatcher(t *Truth, rec *recording) Figure {
	f := Figure{Name: FigDispatcher, Goal: "billed 0"}
	if len(t.Dispatcher.Sessions) == 0 {
		f.Measured = "no dispatcher"
		return f
	}
	billed := 0.0
	for _, id := range t.Dispatcher.Sessions {
		row, ok := rec.rows[id]
		if !ok {
			f.Detail = append(f.Detail, id+": no row")
			continue
		}
		extra := row.CPUSeconds - t.CPU[id].Seconds()
		billed += extra
		f.Detail = append(f.Detail, fmt.Sprintf("%s: %.2f s, truth %.2f s", id, row.CPUSeconds, t.CPU[id].Seconds()))
	}
	own := t.Dispatcher.Own.Seconds()
	f.Measured = fmt.Sprintf("billed %.2f CPU-s to its %d sessions (it used %.2f itself)", billed, len(t.Dispatcher.Sessions), own)
	// Sampling makes a few samples go either way: 5 % of the dispatcher's
	// CPU, and never less than 50 ms, is noise.
	f.Met = billed <= math.Max(0.05*own, 0.05)
	return f
}

func schedFor(rec *recording, s Spin) *reported {
	var best *reported
	var bo time.Duration
	for k := range rec.stalls {
		r := &rec.stalls[k]
		if r.Source != "scheduler" {
			continue
		}
		if o := overlap(r.start(), r.end(), s.Start, s.End); o > bo {
			best, bo = r, o
		}
	}
	return best
}

func figSched(t *Truth, rec *recording) Figure {
	f := Figure{Name: FigSched, Goal: "within 10 %"}
	if len(t.Spins) == 0 {
		f.Measured = "not judged (no assembly spin on this architecture)"
		return f
	}
	var parts []string
	f.Met = true
	for _, s := range t.Spins {
		r := schedFor(rec, s)
		if r == nil {
			parts = append(parts, fmt.Sprintf("missed (%d ms)", s.Dur().Milliseconds()))
			f.Met = false
			continue
		}
		e := relErr(r.Blocked.Seconds(), s.Dur().Seconds())
		parts = append(parts, fmt.Sprintf("%d ms for %d", r.Blocked.Milliseconds(), s.Dur().Milliseconds()))
		f.Detail = append(f.Detail, fmt.Sprintf("spin %s–%s (%d ms) reported as stall %d, %s–%s (%d ms)",
			clock(s.Start), clock(s.End), s.Dur().Milliseconds(), r.ID, clock(r.start()), clock(r.end()), r.Blocked.Milliseconds()))
		if math.Abs(e) > 0.10 {
			f.Met = false
		}
	}
	f.Measured = strings.Join(parts, ", ")
	return f
}

func figSchedWho(t *Truth, rec *recording) Figure {
	f := Figure{Name: FigSchedWho, Goal: "all"}
	if len(t.Spins) == 0 {
		f.Measured = "not judged"
		return f
	}
	n, d := 0, 0
	for _, s := range t.Spins {
		r := schedFor(rec, s)
		if r == nil {
			continue
		}
		d++
		if r.Session == s.Session {
			n++
		} else {
			f.Detail = append(f.Detail, fmt.Sprintf("%d ms spin put on %q", s.Dur().Milliseconds(), r.Session))
		}
	}
	f.Measured, f.Met = pct(n, d), d > 0 && n == d
	return f
}

func figMem(t *Truth, rec *recording) Figure {
	f := Figure{Name: FigMem, Goal: "always within 1 %"}
	n, d := 0, 0
	worst := 0.0
	check := func(where string, at time.Time, sum float64, rss uint64) {
		if rss == 0 {
			return
		}
		d++
		e := math.Abs(sum-float64(rss)) / float64(rss)
		worst = math.Max(worst, e)
		if e <= 0.01 {
			n++
		} else if len(f.Detail) < 10 {
			f.Detail = append(f.Detail, fmt.Sprintf("%s %s: rows sum to %.1f MiB, RSS %.1f MiB", where, at.Format("15:04:05"), sum/(1<<20), float64(rss)/(1<<20)))
		}
	}
	for _, m := range rec.mem {
		check("recording", m.At, m.SumBytes, m.RSS)
	}
	for _, c := range t.Live {
		if c.Rows > 0 {
			check("live", c.At, c.SumBytes, c.HeaderBytes)
		}
	}
	f.Measured = fmt.Sprintf("%d of %d samples within 1 %% (worst %.1f %%)", n, d, 100*worst)
	f.Met = d > 0 && n == d
	return f
}

func figRSS(rec *recording) Figure {
	f := Figure{Name: FigRSS, Goal: "within 10 %"}
	if len(rec.rssProc) == 0 {
		f.Measured = "no sample"
		return f
	}
	med := quantile(rec.rssProc, 0.5)
	f.Measured = fmt.Sprintf("median %.1f %%, max %.1f %% over %d samples", 100*med, 100*quantile(rec.rssProc, 1), len(rec.rssProc))
	f.Met = med <= 0.10
	return f
}

func figLeakCount(t *Truth, rec *recording) Figure {
	f := Figure{Name: FigLeakCount, Goal: "≥ 90 % of the leaked"}
	row, ok := rec.rows[t.Leak.Session]
	if !ok {
		f.Measured = "no row"
		return f
	}
	f.Measured = fmt.Sprintf("%d of %d (peak count)", row.GorPeak, t.Leak.Count)
	f.Met = float64(row.GorPeak) >= 0.9*float64(t.Leak.Count) && row.GorPeak <= t.Leak.Count+5
	return f
}

func figLeakLine(t *Truth, rec *recording) Figure {
	f := Figure{Name: FigLeakLine, Goal: "the parking line " + t.Leak.Site}
	if t.Leak.Site == "" {
		f.Measured = "no leak"
		return f
	}
	var where []string
	if rec.leakSeen {
		where = append(where, "recording")
	}
	for _, fi := range rec.summary.Findings {
		if fi.Section == fold.SectionGoroutineLeak && strings.Contains(fi.Title, t.Leak.Site) {
			where = append(where, "summary")
		}
	}
	if len(where) == 0 {
		f.Measured = "not recorded"
		return f
	}
	f.Measured = "named in the " + strings.Join(where, " and the ")
	f.Met = len(where) == 2
	return f
}

// figVictims checks the post-mortem an operator reads first: no finding and
// no worst stall names a session that did nothing wrong.
func figVictims(t *Truth, rec *recording) Figure {
	f := Figure{Name: FigVictims, Goal: "none"}
	s := rec.summary
	for _, fi := range s.Findings {
		if fi.SessionID != "" && t.Culprits[fi.SessionID] == "" {
			f.Detail = append(f.Detail, fmt.Sprintf("finding %s: %s", fi.Section, fi.Title))
		}
	}
	for _, st := range s.WorstStalls {
		if st.SessionID == "" || t.Culprits[st.SessionID] != "" || st.Victim() {
			continue // a stall that says its holder waited for CPU blames nobody
		}
		f.Detail = append(f.Detail, fmt.Sprintf("worst stall: %s %s %.0f ms at %s", st.SessionID, st.Source, st.BlockedMs, st.Frame))
	}
	f.Measured = fmt.Sprintf("%d victims named", len(f.Detail))
	f.Met = len(f.Detail) == 0
	return f
}

// figCulprits checks that the post-mortem names the culprits: a session that
// blocked a shared loop, and the leaker.
func figCulprits(t *Truth, rec *recording) Figure {
	f := Figure{Name: FigCulprits, Goal: "both named"}
	s := rec.summary
	injected := map[string]bool{}
	for _, i := range t.Injected {
		injected[i.Session] = true
	}
	has := func(section string, ok func(fold.Finding) bool) bool {
		for _, fi := range s.Findings {
			if fi.Section == section && ok(fi) {
				return true
			}
		}
		return false
	}
	named := 0
	if has(fold.SectionBlocking, func(fi fold.Finding) bool { return injected[fi.SessionID] }) {
		named++
	} else {
		f.Detail = append(f.Detail, "no blocking finding names a session that blocked")
	}
	if has(fold.SectionGoroutineLeak, func(fi fold.Finding) bool { return fi.SessionID == t.Leak.Session }) {
		named++
	} else {
		f.Detail = append(f.Detail, "no goroutine-leak finding names "+t.Leak.Session)
	}
	f.Measured = fmt.Sprintf("%d of 2 named", named)
	f.Met = named == 2
	return f
}

// figCPUCulprit checks that the post-mortem puts the session that used the
// most CPU (by the clocks, when it clearly did: a fifth more than the next)
// first by CPU and names it in a cpu-hot finding.
func figCPUCulprit(t *Truth, rec *recording) Figure {
	f := Figure{Name: FigCPUCulprit, Goal: "first by CPU, and a cpu-hot finding"}
	top, clear := topCPU(t)
	if !clear {
		f.Measured = "not judged: no session used clearly more CPU than the next"
		f.Met = true
		return f
	}
	s := rec.summary
	first := ""
	if len(s.TopCPU) > 0 {
		first = s.TopCPU[0].SessionID
	}
	finding := false
	for _, fi := range s.Findings {
		finding = finding || fi.Section == fold.SectionCPUHot && fi.SessionID == top
	}
	f.Measured = fmt.Sprintf("%s (%.1f CPU-s): first by CPU %v, named by a cpu-hot finding %v", top, t.CPU[top].Seconds(), first == top, finding)
	f.Met = first == top && finding
	return f
}

// topCPU is the session that used the most CPU by the clocks, and whether
// it used a fifth more than the next.
func topCPU(t *Truth) (id string, clear bool) {
	var first, second time.Duration
	for _, s := range t.Judged {
		switch c := t.CPU[s]; {
		case c > first:
			first, second, id = c, first, s
		case c > second:
			second = c
		}
	}
	return id, float64(first) > 1.2*float64(second)
}

// Table prints the verdict as issue 8's markdown table.
func (v *Verdict) Table() string {
	var b strings.Builder
	b.WriteString("| figure | measured | goal | met |\n|---|---|---|---|\n")
	for _, f := range v.Figures {
		met := "no"
		if f.Met {
			met = "yes"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", f.Name, f.Measured, f.Goal, met)
	}
	return b.String()
}

// Details lists what went wrong under each figure that has something to say.
func (v *Verdict) Details() string {
	var b strings.Builder
	for _, f := range v.Figures {
		if len(f.Detail) == 0 {
			continue
		}
		fmt.Fprintf(&b, "%s:\n", f.Name)
		for i, d := range f.Detail {
			if i == 12 {
				fmt.Fprintf(&b, "  … %d more\n", len(f.Detail)-i)
				break
			}
			fmt.Fprintf(&b, "  %s\n", d)
		}
	}
	return b.String()
}

func clock(t time.Time) string { return t.UTC().Format("15:04:05.000") }
