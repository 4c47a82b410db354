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
	// Owners name who held the CPU profiler while it went unsampled, where
	// introspection found out; empty when nobody could be named.
	Owners []string `json:"unsampled_owners,omitempty"`
}

// windowCPU returns the process's CPU time over a window's span and the part
// of it no sample covered. A sampled window's CPU is scaled to its span as
// the sessions' is (events.CPUWindow.SessionCPU); one without the measured
// total counts samples.
func windowCPU(w events.CPUWindow) (process, unsampled time.Duration) {
	unsampled = w.UnsampledCPU()
	if !w.Valid() {
		return unsampled, unsampled
	}
	c := float64(w.CPUTime)
	if w.CPUTime <= 0 {
		c = float64(w.Total) * float64(w.Period)
	}
	return time.Duration(math.Round(c*w.Scale())) + w.Unsampled, w.Unsampled
}

// add folds one window's CPU into the account's nanosecond counters.
func addWindowCPU(cpuNs, unsampledNs *int64, w events.CPUWindow) {
	p, u := windowCPU(w)
	*cpuNs += int64(p)
	*unsampledNs += int64(u)
}

// cpuAccount is the account of the counters.
func cpuAccount(cpuNs, unsampledNs int64) CPUAccount {
	a := CPUAccount{ProcessCPUS: round3(float64(cpuNs) / 1e9), UnsampledCPUS: round3(float64(unsampledNs) / 1e9)}
	if cpuNs > 0 {
		a.UnsampledPct = round1(float64(unsampledNs) * 100 / float64(cpuNs))
	}
	return a
}

// Text says in one line how much of the process's CPU the sessions'
// cpu_seconds leave out, and why; "" when none.
func (a CPUAccount) Text() string {
	if a.UnsampledCPUS < 0.0005 {
		return ""
	}
	who := "another caller held the CPU profiler"
	if len(a.Owners) > 0 {
		who = strings.Join(a.Owners, ", ") + " held the CPU profiler"
	}
	return fmt.Sprintf("cpu_s leaves out %.1f s of the process's %.1f s CPU (%.1f %%) that no sample covered (%s): no session's share of it is known",
		a.UnsampledCPUS, a.ProcessCPUS, a.UnsampledPct, who)
}

// addOwner keeps the name of who held the profiler while CPU went unsampled.
func (a *CPUAccount) addOwner(owner string) {
	if owner != "" && !slices.Contains(a.Owners, owner) && len(a.Owners) < 5 {
		a.Owners = append(a.Owners, owner)
	}
}
