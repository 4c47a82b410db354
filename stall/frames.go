package stall

import (
	"runtime"

	"github.com/openrtc-go/introspect/internal/frames"
)

// maxStack is how many frames a Stall's Stack keeps.
const maxStack = 8

// frame is one stack frame, as a goroutine profile or runtime.Callers gives it.
type frame struct {
	fn   string // fully qualified function name
	file string
	line int64
}

// String formats f as "file:line function" with a short file (the last two
// path elements) and a short function (qualified by the last element of its
// package path).
func (f frame) String() string {
	return frames.Format(f.file, f.line, f.fn)
}

// describe turns a leaf-first stack into a Stall's Frame and Stack. The
// stack starts at the leaf-most frame that is not machinery (see
// frames.Machinery). The frame is the leaf-most of the worker's own code if
// there is one, else of a dependency, else of the standard library (see
// frames.Rank): "blocked in unix.Read" or "in time.Sleep" says less than
// the worker's line that called it.
func describe(fs []frame) (top string, stack []string) {
	i := 0
	for i < len(fs) && frames.Machinery(fs[i].fn) {
		i++
	}
	fs = fs[i:]
	if len(fs) == 0 {
		return "", nil
	}
	topAt, best := 0, frames.RankMachinery+1
	for j, f := range fs {
		if r := frames.Rank(f.fn, f.file); r < best {
			topAt, best = j, r
		}
	}
	n := min(len(fs), maxStack)
	stack = make([]string, n)
	for j := range n {
		stack[j] = fs[j].String()
	}
	if topAt < n {
		return stack[topAt], stack
	}
	return fs[topAt].String(), stack
}

// callerFrames resolves program counters from runtime.Callers.
func callerFrames(pcs []uintptr) []frame {
	if len(pcs) == 0 {
		return nil
	}
	out := make([]frame, 0, len(pcs))
	fs := runtime.CallersFrames(pcs)
	for {
		f, more := fs.Next()
		out = append(out, frame{fn: f.Function, file: f.File, line: int64(f.Line)})
		if !more {
			return out
		}
	}
}
