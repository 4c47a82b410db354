package sampler

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/openrtc-go/introspect/internal/frames"
	"github.com/openrtc-go/introspect/internal/goprof"
)

// profileBufs recycles the buffers goroutine profiles are written into.
var profileBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// GoroutinesBySession counts the live goroutines of each session (by their
// pprof label "session") and in total, from a goroutine profile. Goroutines
// without a session label count only in total. It is TakeGoroutineProfile
// for callers that want only the counts.
func GoroutinesBySession() (bySession map[string]int, total int, err error) {
	p, err := TakeGoroutineProfile()
	if err != nil {
		return nil, 0, err
	}
	return p.BySession, p.Total, nil
}

// A GoroutineProfile is one goroutine profile read per session: how many
// goroutines each session has, and where they are, grouped.
type GoroutineProfile struct {
	// BySession maps each session to its live goroutines; Total counts
	// every goroutine, with a session label or not.
	BySession map[string]int
	Total     int

	groups map[string][]pcGroup // each session's groups, unresolved
}

// pcGroup is one group of a profile: goroutines with one stack.
type pcGroup struct {
	n   int
	pcs []uintptr
}

// TakeGoroutineProfile takes a goroutine profile and reads it per session.
//
// It reads the profile's text form (debug=1), whose groups carry their
// program counters and labels, and resolves program counters only when
// [GoroutineProfile.Stacks] asks for a session's. A goroutine profile
// briefly stops the world twice (tens of microseconds each on an idle
// machine) and walks every goroutine's stack, so its cost grows with the
// number of goroutines: see [GoroutineInterval] for how often to take it.
func TakeGoroutineProfile() (*GoroutineProfile, error) {
	buf := profileBufs.Get().(*bytes.Buffer)
	defer profileBufs.Put(buf)
	if err := goprof.Take(buf); err != nil {
		return nil, fmt.Errorf("sampler: %w", err)
	}
	return parseGoroutineProfileText(buf.Bytes())
}

// parseGoroutineProfile counts a goroutine profile's goroutines per session.
func parseGoroutineProfile(data []byte) (map[string]int, int, error) {
	p, err := parseGoroutineProfileText(data)
	if err != nil {
		return nil, 0, err
	}
	return p.BySession, p.Total, nil
}

// parseGoroutineProfileText reads a goroutine profile in its text form.
func parseGoroutineProfileText(data []byte) (*GoroutineProfile, error) {
	p := &GoroutineProfile{BySession: make(map[string]int), groups: make(map[string][]pcGroup)}
	err := goprof.Parse(data, func(g *goprof.Group) {
		p.Total += g.Count
		id, ok := g.Label(SessionLabel)
		if !ok || id == "" {
			return
		}
		p.BySession[id] += g.Count
		p.groups[id] = append(p.groups[id], pcGroup{n: g.Count, pcs: append([]uintptr(nil), g.PCs...)})
	})
	if err != nil {
		return nil, fmt.Errorf("sampler: parse goroutine profile (%d bytes): %w", len(data), err)
	}
	return p, nil
}

// A GoroutineStack is a group of one session's goroutines parked at the
// same line for the same reason: where a leak sits.
type GoroutineStack struct {
	// Count is how many goroutines the group has.
	Count int
	// Frame is the line they are at, "file:line function" as every event
	// shows a frame: the leaf-most frame of the session's own code (outside
	// the runtime, the standard library and this module).
	Frame string
	// Wait is what they wait for, in the runtime's words ("chan receive",
	// "select", "IO wait", "sync.Mutex.Lock"...); "" for goroutines
	// running or ready to run.
	Wait string
}

// Stacks returns the n largest groups of session's goroutines, largest
// first, grouping goroutines by the line they are at and what they wait for
// (goroutines that reached one line along different paths are one group).
func (p *GoroutineProfile) Stacks(session string, n int) []GoroutineStack {
	type key struct{ frame, wait string }
	counts := map[key]int{}
	for _, g := range p.groups[session] {
		fs := goprof.Frames(g.pcs)
		counts[key{ownFrame(fs), goprof.Wait(fs)}] += g.n
	}
	out := make([]GoroutineStack, 0, len(counts))
	for k, c := range counts {
		out = append(out, GoroutineStack{Count: c, Frame: k.frame, Wait: k.wait})
	}
	slices.SortFunc(out, func(a, b GoroutineStack) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Frame, b.Frame), cmp.Compare(a.Wait, b.Wait))
	})
	if len(out) > n {
		out = out[:n]
	}
	return out
}

// ownFrame returns the leaf-most frame of fs of the lowest rank
// (frames.Rank: the worker's own code, then a dependency, then the standard
// library), else the leaf, formatted.
func ownFrame(fs []goprof.Frame) string {
	if len(fs) == 0 {
		return "unknown"
	}
	pick, best := 0, frames.RankMachinery
	for i, f := range fs {
		if r := frames.Rank(f.Function, f.File); r < best {
			pick, best = i, r
		}
	}
	return frames.Format(fs[pick].File, fs[pick].Line, fs[pick].Function)
}

// The goroutine profile's cost in CPU time, measured by
// BenchmarkGoroutinesBySession (process CPU time per profile, from
// getrusage) on a shared 2-core linux/amd64 virtual machine with Go 1.26:
// 1.4–2.1ms with no goroutines to speak of, 8.4–10.5ms at 1,000 parked
// goroutines and 42–53ms at 10,000, each 8 frames deep in its session's
// code. The fixed part is mostly runtime/pprof's gzip writer, which
// allocates 1.2MB per profile; the part per goroutine is the stack walk and
// runtime/pprof formatting each goroutine's stack into a map key (26
// allocations per goroutine). The model
// below sits at the median at 1,000 goroutines and at the worst run at
// 10,000.
const (
	goroutineProfileFixedCost   = 4 * time.Millisecond
	goroutineProfileCostPerG    = 5 * time.Microsecond
	goroutineProfileBudget      = 0.0025 // 0.25% of one core
	goroutineIntervalResolution = 100 * time.Millisecond
)

// steadyGoroutineFactor is how much longer [SteadyGoroutineInterval] waits
// than [GoroutineInterval]: a fifth of the budget, 0.05 % of one core.
const steadyGoroutineFactor = 5

// SteadyGoroutineInterval returns how long to wait between two goroutine
// profiles while nothing suggests their answer moved: the process has as
// many goroutines as at the last profile, give or take a few, and its
// sessions are the same ones. It is five times [GoroutineInterval], so a
// steady worker pays a fifth of the profile's budget (0.05 % of one core:
// 18s between profiles at 1,000 goroutines, 1m48s at 10,000), and a worker
// whose goroutines grow or whose sessions come and go, or a leak, is
// profiled at GoroutineInterval's pace. It never returns less than base.
func SteadyGoroutineInterval(goroutines int, base time.Duration) time.Duration {
	return max(steadyGoroutineFactor*GoroutineInterval(goroutines, 0), base)
}

// GoroutineInterval returns how long to wait between two calls of
// [GoroutinesBySession] when the process has the given number of
// goroutines, so that taking the profile costs at most about 0.25% of one
// core; it never returns less than base.
//
// The cost model is 4ms plus 5µs per goroutine (measured on a small
// linux/amd64 machine; see the benchmark), so the interval is 1.6s plus 2ms
// per goroutine: 1.8s at 100 goroutines, 3.6s at 1,000, 21.6s at 10,000
// and about 3m22s at 100,000 (before applying base). The result is rounded
// up to a tenth of a second.
func GoroutineInterval(goroutines int, base time.Duration) time.Duration {
	goroutines = max(goroutines, 0)
	cost := goroutineProfileFixedCost + time.Duration(goroutines)*goroutineProfileCostPerG
	d := time.Duration(float64(cost) / goroutineProfileBudget)
	if r := d % goroutineIntervalResolution; r != 0 {
		d += goroutineIntervalResolution - r
	}
	return max(d, base)
}
