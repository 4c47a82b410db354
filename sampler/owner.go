package sampler

import (
	"bytes"
	"errors"
	"fmt"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/google/pprof/profile"
)

// knownOwners names the profilers a Go service commonly runs, by the import
// path their code lives under.
var knownOwners = []struct{ prefix, name string }{
	{"github.com/grafana/pyroscope-go", "pyroscope-go"},
	{"github.com/pyroscope-io/client", "pyroscope-go"},
	{"github.com/DataDog/dd-trace-go", "dd-trace-go profiler"},
	{"gopkg.in/DataDog/dd-trace-go", "dd-trace-go profiler"},
	{"net/http/pprof", "net/http/pprof"},
	{"go.opentelemetry.io/ebpf-profiler", "opentelemetry profiler"},
	{"github.com/parca-dev", "parca"},
}

// pushMode reports whether an owner is a profiler that keeps the CPU
// profiler for itself, period after period, and uploads what it takes.
func pushMode(owner string) bool {
	return owner == "pyroscope-go" || owner == "dd-trace-go profiler"
}

// profilerRunning reports whether code of the named known profiler is on
// any goroutine's stack.
func profilerRunning(owner string) bool {
	var buf bytes.Buffer
	if err := pprof.Lookup("goroutine").WriteTo(&buf, 2); err != nil {
		return true // cannot tell: keep standing aside
	}
	for _, k := range knownOwners {
		if k.name == owner && strings.Contains(buf.String(), "\n"+k.prefix) {
			return true
		}
	}
	return false
}

// CPUProfileOwner names the code that is running the process's CPU profile,
// when one runs that this package did not start: it finds the runtime's
// profile writer goroutine in a full goroutine dump, then the goroutine that
// started it (runtime/pprof prints "created by runtime/pprof.StartCPUProfile
// in goroutine N"), and names that goroutine's code: a known profiler by
// name ("pyroscope-go", "dd-trace-go profiler", "net/http/pprof"), or
// otherwise its first function outside the runtime and the standard library.
// It returns "" when no CPU profile runs or its starter cannot be told.
//
// The dump stops the world for as long as it takes to walk every goroutine
// (a millisecond or so per thousand), so call it rarely: the sampler calls
// it when it first finds the profiler taken, and then at most once a
// minute while it stays taken.
func CPUProfileOwner() string {
	var buf bytes.Buffer
	if err := pprof.Lookup("goroutine").WriteTo(&buf, 2); err != nil {
		return ""
	}
	return ownerFromDump(buf.String())
}

// ownerFromDump is CPUProfileOwner's reading of a debug=2 goroutine dump.
func ownerFromDump(dump string) string {
	blocks := strings.Split(dump, "\n\n")
	starter := ""
	for _, b := range blocks {
		if !strings.Contains(b, "runtime/pprof.profileWriter(") {
			continue
		}
		const created = "created by runtime/pprof.StartCPUProfile in goroutine "
		i := strings.Index(b, created)
		if i < 0 {
			continue
		}
		id := b[i+len(created):]
		if j := strings.IndexAny(id, " \n"); j >= 0 {
			id = id[:j]
		}
		if _, err := strconv.Atoi(id); err == nil {
			starter = id
		}
		break
	}
	if starter == "" {
		return ""
	}
	for _, b := range blocks {
		if !strings.HasPrefix(b, "goroutine "+starter+" [") {
			continue
		}
		if name := ownerOfStack(b); name != "" {
			return name
		}
		return "goroutine " + starter
	}
	return "a goroutine that has exited (goroutine " + starter + ")"
}

// ownerOfStack names the code of one goroutine's stack: the first known
// profiler on it, else its first function outside the runtime, the
// standard library and this module.
func ownerOfStack(block string) string {
	var first string
	for _, line := range strings.Split(block, "\n") {
		if line == "" || line[0] == '\t' || strings.HasPrefix(line, "goroutine ") {
			continue
		}
		fn := strings.TrimPrefix(line, "created by ")
		if i := strings.LastIndexByte(fn, '('); i > 0 && !strings.HasPrefix(line, "created by ") {
			fn = fn[:i]
		}
		if i := strings.Index(fn, " in goroutine "); i > 0 {
			fn = fn[:i]
		}
		for _, k := range knownOwners {
			if strings.HasPrefix(fn, k.prefix) {
				return k.name
			}
		}
		if first == "" && !stdFunc(fn) && !strings.HasPrefix(fn, "github.com/openrtc-go/introspect") {
			first = fn
		}
	}
	return first
}

// stdFunc reports whether a qualified function name is the standard
// library's: its import path has no dot before the first slash.
func stdFunc(fn string) bool {
	if strings.HasPrefix(fn, "main.") {
		return false // the application's own main package
	}
	path := fn
	if i := strings.IndexByte(path, '/'); i >= 0 {
		path = path[:i]
	} else if i := strings.IndexByte(path, '.'); i >= 0 {
		path = path[:i]
	}
	return !strings.Contains(path, ".")
}

// ErrNotCPUProfile is returned by [ParseCPUProfile] for a profile that is
// not a CPU profile (a heap, goroutine or mutex profile, say).
var ErrNotCPUProfile = errors.New("sampler: not a CPU profile")

// ParseCPUProfile reads a CPU profile taken by another profiler in the
// process (in the format runtime/pprof writes, gzipped or not) as a
// CPUWindow: samples per session from the goroutines' pprof labels, the
// busiest frames, and the profile's own start and duration. owner names the
// profiler it came from. Span and CPUTime are left for the caller, who
// knows the process's CPU time over the profile's time.
//
// It is how introspection attributes CPU while another profiler owns the
// CPU profiler and hands its profiles to a callback or an upload client.
func ParseCPUProfile(data []byte, owner string, topN int) (CPUWindow, *profile.Profile, error) {
	p, err := profile.ParseData(data)
	if err != nil {
		return CPUWindow{}, nil, fmt.Errorf("sampler: parse profile (%d bytes): %w", len(data), err)
	}
	if p.PeriodType == nil || p.PeriodType.Type != "cpu" {
		return CPUWindow{}, nil, ErrNotCPUProfile
	}
	if topN == 0 {
		topN = DefaultTopFrames
	}
	w := windowOf(p, topN, "")
	if w.Period == 0 {
		w.Period = 10 * time.Millisecond
	}
	w.Owner = owner
	return w, p, nil
}
