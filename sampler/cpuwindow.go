package sampler

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/google/pprof/profile"

	"github.com/openrtc-go/introspect/internal/frames"
)

// SessionLabel is the pprof label key that names a goroutine's session.
const SessionLabel = "session"

// A CPUWindow is what the CPU profiler saw during one window: how many
// samples it took, and how they split between sessions.
//
// The samples give each session's share of the process's CPU
// (BySession[id] / Total); CPUTime, measured with getrusage while the
// window's profiler ran, gives the total those shares divide. Counting samples × Period
// instead comes out short: the profiler loses samples, and the time between
// windows is not sampled at all. The profiler samples at 100 Hz per core
// busy, so a window of one second on a busy core holds about 100 samples:
// shares of small sessions are statistical, as in any sampling profiler.
type CPUWindow struct {
	// Start is when the sampler turned the profiler on for this window.
	Start time.Time

	// Duration is how long the profiler was on for this window: from just
	// before the sampler's StartCPUProfile to just before its
	// StopCPUProfile (or to when another caller's StopCPUProfile began
	// writing the profile out). Samples are taken exactly while the
	// profiler is on, so this, not the nominal window, is the figure to
	// divide by. A window runs longer than nominal when the sampler's
	// goroutine waits for a CPU, and shorter when the application stops it.
	//
	// It is not the profile's own DurationNanos: the profile writer
	// goroutine measures that from when it first runs to when it builds the
	// profile, and under CPU saturation both ends slip by that goroutine's
	// wait in the run queue, by up to hundreds of milliseconds on a busy
	// machine.
	//
	// For an unavailable window it is the time the sampler stood aside.
	Duration time.Duration

	// Span is the wall time the window accounts for: from the end of the
	// previous window (or from when the sampler started, for the first) to
	// the end of this one. Consecutive spans tile the time, so the gaps
	// between windows (the profiler's restart, or the off time of
	// duty-cycled windows, CPUOptions.Every) are inside a span.
	Span time.Duration

	// CPUTime is the CPU time (user and system, getrusage) the whole
	// process used while this window's profiler ran (over Duration); zero
	// where it cannot be measured. The samples give shares and CPUTime the
	// total: a session's CPU time in the window is BySession[id] / Total ×
	// CPUTime, exact in sum whatever samples the profiler lost, and over
	// the span it is that × Span / Duration. An unavailable window has a
	// CPUTime too, over the time the sampler stood aside.
	CPUTime time.Duration

	// Period is the CPU time one sample stands for (10ms at the profiler's
	// fixed 100 Hz). It is zero for an unavailable window.
	Period time.Duration

	// Total is the number of samples in the window, labelled or not, and
	// Unlabelled the number of those whose goroutine had no session label
	// (the worker's own goroutines, the garbage collector's background
	// workers, and so on).
	Total, Unlabelled int64

	// BySession maps each session seen on CPU in the window to its number
	// of samples. Sessions with no samples are absent, so the map stays
	// small however many sessions are live. It is nil for an unavailable
	// window.
	BySession map[string]int64

	// Top maps each session in BySession to the frames where its samples
	// landed most often, busiest first, at most CPUOptions.TopFrames of
	// them. A sample's frame is the leaf-most frame of its stack that is
	// not in the runtime or an internal package: the line of the session's
	// own code (or of the library it called) that was on CPU.
	Top map[string][]Frame

	// ByHold maps each value of the CPUOptions.HoldLabel label seen on CPU
	// in the window to its number of samples; nil when HoldLabel is unset
	// or no sample carried it.
	ByHold map[string]int64

	// Unavailable says why the CPU could not be sampled in this window (for
	// example, another CPU profile was running); it is empty for a sampled
	// window. An unavailable window carries no samples.
	Unavailable string

	// Owner names who held the CPU profiler instead of the sampler: another
	// profiler in the process (declared with CPUOptions.Owner, or found from
	// the goroutine that started the running profile, see
	// CPUProfileOwner), such as "pyroscope-go" or "net/http/pprof". In an
	// unavailable window it says who has the profiler; in a window read
	// from that profiler's own profile (ParseCPUProfile), whose samples
	// these are. Empty when the sampler ran the window itself.
	Owner string

	// profileDuration is the profile's own DurationNanos, kept to measure
	// how far it strays from Duration.
	profileDuration time.Duration

	// prof is the parsed profile, kept only while taps want it.
	prof *profile.Profile
}

// A Frame is one line of code that samples landed on.
type Frame struct {
	// Function is the fully qualified function name, as in a stack trace
	// (for example "example.com/worker/mixer.(*Room).mix").
	Function string

	// File is the source file's full path, and Line the line in it.
	File string
	Line int64

	// Samples is the number of samples whose top frame was this line.
	Samples int64
}

// String returns the frame as "file:line function", with the last two
// elements of the file's path and the function qualified by the last element
// of its package path, as every event shows a frame:
// "mixer/room.go:88 mixer.(*Room).mix". A frame without symbols is its bare
// function, an address such as "0x4a1f00".
func (f Frame) String() string {
	if f.File == "" {
		return f.Function
	}
	return frames.Format(f.File, f.Line, f.Function)
}

// topFrame returns the line of the session's own code that a sample landed
// on: the leaf-most frame of the lowest rank (frames.Rank: the worker's own
// code, then a dependency, then the standard library; "spinning in
// time.Now" says less than the line that called it), else the leaf-most
// frame of all. Locations list the leaf first, and a location's lines list
// the innermost inlined call first.
func topFrame(s *profile.Sample) Frame {
	var pick *profile.Line
	best := frames.RankMachinery
	for _, loc := range s.Location {
		for i := range loc.Line {
			ln := &loc.Line[i]
			if ln.Function == nil {
				continue
			}
			if r := frames.Rank(ln.Function.Name, ln.Function.Filename); pick == nil || r < best {
				pick, best = ln, r
			}
		}
	}
	if pick != nil {
		return Frame{Function: pick.Function.Name, File: pick.Function.Filename, Line: pick.Line}
	}
	if len(s.Location) > 0 {
		return Frame{Function: fmt.Sprintf("0x%x", s.Location[0].Address)}
	}
	return Frame{Function: "unknown"}
}

// sampleIndex returns the index of the sample count among a profile's sample
// values: the value of type "samples" in a CPU profile, and the first value
// otherwise (the count, in a goroutine profile).
func sampleIndex(p *profile.Profile) int {
	for i, st := range p.SampleType {
		if st.Type == "samples" {
			return i
		}
	}
	return 0
}

// sessionOf returns the session label of s, or "" if it has none.
func sessionOf(s *profile.Sample) string {
	if v := s.Label[SessionLabel]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// parseCPUWindow reads a CPU profile as runtime/pprof writes it (gzipped
// protocol buffer) and counts its samples per session, keeping the topN
// busiest frames of each session. Start and Duration come from the profile;
// the sampler replaces them with its own clock.
func parseCPUWindow(data []byte, topN int) (CPUWindow, error) {
	return parseCPUWindowHolds(data, topN, "")
}

// parseCPUWindowHolds is parseCPUWindow that also counts the samples of each
// value of the label holdLabel, unless it is "".
func parseCPUWindowHolds(data []byte, topN int, holdLabel string) (CPUWindow, error) {
	w, _, err := parseCPUProfile(data, topN, holdLabel)
	return w, err
}

// parseCPUProfile is parseCPUWindowHolds that also returns the parsed
// profile, for those who serve it on (see CPUSampler.Tap).
func parseCPUProfile(data []byte, topN int, holdLabel string) (CPUWindow, *profile.Profile, error) {
	p, err := profile.ParseData(data)
	if err != nil {
		return CPUWindow{}, nil, fmt.Errorf("sampler: parse CPU profile (%d bytes): %w", len(data), err)
	}
	return windowOf(p, topN, holdLabel), p, nil
}

// windowOf counts a parsed CPU profile's samples per session.
func windowOf(p *profile.Profile, topN int, holdLabel string) CPUWindow {
	w := CPUWindow{
		Start:     time.Unix(0, p.TimeNanos),
		Duration:  time.Duration(p.DurationNanos),
		Period:    time.Duration(p.Period),
		BySession: make(map[string]int64),
	}
	idx := sampleIndex(p)
	var frames map[string]map[Frame]int64
	for _, s := range p.Sample {
		if idx >= len(s.Value) || s.Value[idx] <= 0 {
			continue
		}
		n := s.Value[idx]
		w.Total += n
		if holdLabel != "" {
			if v := s.Label[holdLabel]; len(v) > 0 {
				if w.ByHold == nil {
					w.ByHold = make(map[string]int64)
				}
				w.ByHold[v[0]] += n
			}
		}
		id := sessionOf(s)
		if id == "" {
			w.Unlabelled += n
			continue
		}
		w.BySession[id] += n
		if topN <= 0 {
			continue
		}
		if frames == nil {
			frames = make(map[string]map[Frame]int64)
		}
		m := frames[id]
		if m == nil {
			m = make(map[Frame]int64)
			frames[id] = m
		}
		m[topFrame(s)] += n
	}
	if frames != nil {
		w.Top = make(map[string][]Frame, len(frames))
		for id, m := range frames {
			w.Top[id] = busiest(m, topN)
		}
	}
	return w
}

// busiest returns the n frames of m with the most samples, most first; ties
// go in file, line and function order so that output is stable.
func busiest(m map[Frame]int64, n int) []Frame {
	fs := make([]Frame, 0, len(m))
	for f, c := range m {
		f.Samples = c
		fs = append(fs, f)
	}
	slices.SortFunc(fs, func(a, b Frame) int {
		return cmp.Or(
			cmp.Compare(b.Samples, a.Samples),
			cmp.Compare(a.File, b.File),
			cmp.Compare(a.Line, b.Line),
			cmp.Compare(a.Function, b.Function),
		)
	})
	if len(fs) > n {
		fs = fs[:n:n]
	}
	return fs
}
