package fold

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/openrtc-go/introspect/events"
)

// CPUAccount is the process's CPU time over the windows folded, and the part
// of it no CPU sample covered: while another caller held the CPU profiler
// (a profiler of the application's, net/http/pprof hit directly, or one that
// stopped introspection's profile to start its own). No session's share of
// that part is known, so it is in no session's cpu_seconds: the sessions'
// figures add up to ProcessCPUS less UnsampledCPUS less the unlabelled
// share, and a reader who compares them with the process's CPU must be told.
type CPUAccount struct {
	// ProcessCPUS is the process's CPU time (getrusage) over the spans of
	// the CPU windows folded, sampled or not, in seconds.
	ProcessCPUS float64 `json:"process_cpu_s"`
	// SessionsCPUS is the sum of the sessions' cpu_seconds (the summary
	// fills it; zero in a header).
	SessionsCPUS float64 `json:"sessions_cpu_s,omitempty"`
	// UnsampledCPUS is the part of ProcessCPUS that no sample covered, and
	// UnsampledPct the same in percent of ProcessCPUS.
	UnsampledCPUS float64 `json:"unsampled_cpu_s"`
	UnsampledPct  float64 `json:"unsampled_pct"`
	// MissedCPUS is the part of ProcessCPUS that the samples missed while
	// the profiler ran (see events.CPUWindow.MissedCPU): threads that run
	// in short bursts are sampled short, and a session's cpu_seconds counts
	// its samples, not a share of the process's total, so this is in no
	// session's figure either. MissedPct is the same in percent.
	MissedCPUS float64 `json:"missed_cpu_s"`
	MissedPct  float64 `json:"missed_pct"`
	// Owners name who held the CPU profiler while it went unsampled, where
	// introspection found out; empty when nobody could be named.
	Owners []string `json:"unsampled_owners,omitempty"`
}

// windowCPU returns the process's CPU time over a window's span, the part
// of it no sample covered (another caller had the profiler), and the part
// the window's samples missed while it ran. A sampled window's CPU is
// scaled to its span as the sessions' is (events.CPUWindow.SessionCPU); one
// without the measured total counts samples.
func windowCPU(w events.CPUWindow) (process, unsampled, missed time.Duration) {
	unsampled = w.UnsampledCPU()
	if !w.Valid() {
		return unsampled, unsampled, 0
	}
	c := float64(w.CPUTime)
	if w.CPUTime <= 0 {
		c = float64(w.Total) * float64(w.Period)
	}
	return time.Duration(math.Round(c*w.Scale())) + w.Unsampled, w.Unsampled, w.MissedCPU()
}

// cpuCounters are the account's nanosecond counters.
type cpuCounters struct{ process, unsampled, missed *int64 }

// add folds one window's CPU into the counters.
func (c cpuCounters) add(w events.CPUWindow) {
	p, u, m := windowCPU(w)
	*c.process += int64(p)
	*c.unsampled += int64(u)
	*c.missed += int64(m)
}

// cpuAccount is the account of the counters.
func cpuAccount(cpuNs, unsampledNs, missedNs int64) CPUAccount {
	a := CPUAccount{ProcessCPUS: round3(float64(cpuNs) / 1e9), UnsampledCPUS: round3(float64(unsampledNs) / 1e9),
		MissedCPUS: round3(float64(missedNs) / 1e9)}
	if cpuNs > 0 {
		a.UnsampledPct = round1(float64(unsampledNs) * 100 / float64(cpuNs))
		a.MissedPct = round1(float64(missedNs) * 100 / float64(cpuNs))
	}
	return a
}

// minMissedPct is the share of the process's CPU the samples must miss
// before Text mentions it: a percent or two is the sampling's own noise.
const minMissedPct = 3

// Text says in one line how much of the process's CPU the sessions'
// cpu_seconds leave out, and why; "" when nothing worth saying.
func (a CPUAccount) Text() string {
	var parts []string
	if a.UnsampledCPUS >= 0.0005 {
		who := "another caller held the CPU profiler"
		if len(a.Owners) > 0 {
			who = strings.Join(a.Owners, ", ") + " held the CPU profiler"
		}
		parts = append(parts, fmt.Sprintf("%.1f s that no sample covered (%s)", a.UnsampledCPUS, who))
	}
	if a.MissedPct >= minMissedPct {
		parts = append(parts, fmt.Sprintf("%.1f s that the samples missed (threads that run in short bursts are sampled short)", a.MissedCPUS))
	}
	if len(parts) == 0 {
		return ""
	}
	left := a.UnsampledCPUS + a.MissedCPUS
	if a.MissedPct < minMissedPct {
		left = a.UnsampledCPUS
	}
	return fmt.Sprintf("cpu_s leaves out %.1f s of the process's %.1f s CPU (%.1f %%): %s; no session's share of it is known",
		left, a.ProcessCPUS, 100*left/max(a.ProcessCPUS, 1e-9), strings.Join(parts, "; "))
}

// addOwner keeps the name of who held the profiler while CPU went unsampled.
func (a *CPUAccount) addOwner(owner string) {
	if owner != "" && !slices.Contains(a.Owners, owner) && len(a.Owners) < 5 {
		a.Owners = append(a.Owners, owner)
	}
}
