package fold

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// SortAttention is the sort key that floats what needs attention: the
// default of top and live. Its order, in tiers:
//
//  1. sessions that are slow now (stalled within the slow window), then
//     those that stalled earlier: by stalls, then the worst stall. Only
//     stalls the session caused count: its holds that blocked or ran, and
//     those still going on. A hold whose holder waited for a CPU (cause
//     waiting-for-cpu) was not its fault; nor, as far as anything says,
//     a hold that ended with its final report still to come
//     ([Row.PendingStalls]) or whose final report gave no cause
//     ([Row.UnknownStalls]);
//  2. CPU outliers: a cpu_pct of at least [HotCPUPct] and four times the
//     median session's, highest first;
//  3. goroutine outliers: at least [LeakGoroutines] goroutines and three
//     times the median session's, most first;
//  4. sessions whose stalls are all undecided or victims, with some
//     undecided (cause still to come, or unknown), most first;
//  5. sessions whose only stalls waited for a CPU (victims), most first:
//     their status is "slow" as OpenRTC's is, for the slow window after
//     the stall, but they rank below every culprit;
//  6. the rest, by cpu_pct, then mem_mb.
//
// Ties go to the session id, as in every sort.
const SortAttention = "attention"

// Thresholds of the attention tiers and of [ViewFindings]. They are the
// summary's (see [Report.Summary]) applied to one moment: a session hot in
// one window is worth a look now, whether or not it was over its life.
const (
	HotCPUPct      = 25.0 // the share of a CPU window that makes a session hot
	LeakGoroutines = 16   // the fewest goroutines that can make a session an outlier
)

// Attention tiers of a row; lower sorts first.
const (
	tierSlow = iota
	tierStalled
	tierCPU
	tierGoroutines
	tierUndecided
	tierVictim
	tierRest
)

// attention ranks rows for [SortAttention] and names why a row ranks where
// it does, for [ViewFindings]. It holds the medians the outliers are judged
// against.
type attention struct {
	medCPU, medGor float64
}

func newAttention(rows []Row) attention {
	cpu := make([]float64, 0, len(rows))
	var gor []float64
	for i := range rows {
		cpu = append(cpu, rows[i].CPUPct)
		if g := rows[i].Goroutines; g != nil {
			gor = append(gor, float64(*g))
		}
	}
	return attention{medCPU: median(cpu), medGor: median(gor)}
}

func (a attention) hotCPU(r *Row) bool {
	return r.CPUPct >= HotCPUPct && r.CPUPct >= 4*a.medCPU
}

func (a attention) manyGoroutines(r *Row) bool {
	if r.Goroutines == nil {
		return false
	}
	n := float64(*r.Goroutines)
	return n >= LeakGoroutines && n >= 3*max(a.medGor, 1)
}

// rank returns a row's tier and, within it, a score: higher sorts first.
func (a attention) rank(r *Row) (tier int, score float64) {
	caused := r.Caused()
	switch {
	case r.Status == StatusSlow && caused > 0:
		return tierSlow, float64(caused)*1e6 + r.WorstStall
	case caused > 0:
		return tierStalled, float64(caused)*1e6 + r.WorstStall
	case a.hotCPU(r):
		return tierCPU, r.CPUPct
	case a.manyGoroutines(r):
		return tierGoroutines, float64(*r.Goroutines)
	case r.PendingStalls+r.UnknownStalls > 0:
		return tierUndecided, float64(r.PendingStalls + r.UnknownStalls)
	case r.StarvedStalls > 0:
		return tierVictim, float64(r.StarvedStalls)
	}
	return tierRest, r.CPUPct*1e6 + r.MemMB
}

// Caused returns how many of the row's stalls count against it: all of
// them but those whose holder waited for a CPU and those whose cause is
// still to come or was never decided.
func (r *Row) Caused() int {
	return max(r.Stalls-r.StarvedStalls-r.PendingStalls-r.UnknownStalls, 0)
}

// sortAttention sorts rows for SortAttention: each row ranked once, then
// the ranks sorted, not the rows (a row is a few hundred bytes).
func sortAttention(rows []Row) {
	a := newAttention(rows)
	type ranked struct {
		tier  int
		score float64
		i     int
	}
	ranks := make([]ranked, len(rows))
	for i := range rows {
		t, s := a.rank(&rows[i])
		ranks[i] = ranked{t, s, i}
	}
	slices.SortFunc(ranks, func(x, y ranked) int {
		switch {
		case x.tier != y.tier:
			return cmp.Compare(x.tier, y.tier)
		case x.score != y.score:
			return cmp.Compare(y.score, x.score)
		}
		return strings.Compare(rows[x.i].SessionID, rows[y.i].SessionID)
	})
	sorted := make([]Row, len(rows))
	for i, r := range ranks {
		sorted[i] = rows[r.i]
	}
	copy(rows, sorted)
}

// ViewFindings returns what needs attention in one view, as findings: the
// sessions that stalled, the CPU outliers and the goroutine outliers, by the
// rules of [SortAttention], at most three of each. A live screen shows them
// where a replay shows the whole recording's [Summary] findings; both read
// the same way. Their At is the view's time.
func ViewFindings(v View) []Finding {
	rows := slices.Clone(v.Sessions)
	a := newAttention(rows)
	sortAttention(rows)
	var out []Finding
	count := map[int]int{} // by kind: slow and stalled are one
	for i := range rows {
		r := &rows[i]
		tier, _ := a.rank(r)
		kind := tier
		if kind == tierSlow {
			kind = tierStalled
		}
		if tier == tierRest || tier == tierVictim || tier == tierUndecided || count[kind] == maxPerSection {
			continue
		}
		count[kind]++
		id := r.SessionID
		switch tier {
		case tierSlow, tierStalled:
			now := ""
			if tier == tierSlow {
				now = ", slow now"
			}
			caused := r.Caused()
			f := finding(SectionBlocking, id, v.Time, "%s stalled a shared loop or section %s, worst %s%s",
				id, times(caused), msString(r.WorstStall), now)
			f.Short = fmt.Sprintf("%s stalled %s, worst %s%s", id, timesShort(caused), msString(r.WorstStall), now)
			out = append(out, f)
		case tierCPU:
			f := finding(SectionCPUHot, id, v.Time, "%s had %.1f%% of the latest CPU window's samples (the median session %.1f%%)",
				id, r.CPUPct, a.medCPU)
			f.Short = fmt.Sprintf("%s on CPU: %.0f%% of the samples (median %.1f%%)", id, r.CPUPct, a.medCPU)
			out = append(out, f)
		case tierGoroutines:
			f := finding(SectionGoroutineLeak, id, v.Time, "%s has %d goroutines (the median session %.0f), peak %d",
				id, *r.Goroutines, a.medGor, r.GorPeak)
			f.Short = fmt.Sprintf("%s has %d goroutines (median %.0f)", id, *r.Goroutines, a.medGor)
			out = append(out, f)
		}
	}
	return out
}
