package stall

import (
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"time"
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
	return shortFile(f.file) + ":" + strconv.FormatInt(f.line, 10) + " " + shortFunc(f.fn)
}

// selfPkg is this package's import path, worked out at run time so frames
// are filtered correctly in a fork or a vendored copy.
var selfPkg = funcPackage(runtime.FuncForPC(reflect.ValueOf(anchor).Pointer()).Name())

func anchor() {}

// stdPrefix is how the files of the standard library begin in this binary:
// "/usr/local/go/src/" normally, "" when built with -trimpath.
var stdPrefix = func() string {
	f := runtime.FuncForPC(reflect.ValueOf(time.Now).Pointer())
	file, _ := f.FileLine(f.Entry())
	p, ok := strings.CutSuffix(file, "time/time.go")
	if !ok {
		return "?" // unknown layout: treat nothing as standard library
	}
	return p
}()

// skipFrame reports whether a frame is machinery rather than the holder's
// code: the runtime, the profiler, sync primitives, internal packages of the
// standard library, and this package.
func skipFrame(fn string) bool {
	pkg := funcPackage(fn)
	switch {
	case pkg == "runtime", strings.HasPrefix(pkg, "runtime/"),
		pkg == "sync", strings.HasPrefix(pkg, "sync/"),
		pkg == "internal", strings.HasPrefix(pkg, "internal/"),
		pkg == selfPkg:
		return true
	}
	return false
}

// isStd reports whether file belongs to the standard library.
func isStd(file string) bool {
	if stdPrefix != "" {
		return strings.HasPrefix(file, stdPrefix)
	}
	// -trimpath: standard files are "time/time.go", module files start
	// with a module path, whose first element has a dot.
	first, _, _ := strings.Cut(file, "/")
	return !strings.Contains(first, ".")
}

// describe turns a leaf-first stack into a Stall's Frame and Stack. The
// stack starts at the leaf-most frame that is not machinery (see skipFrame).
// The frame is the first of those outside the standard library (and outside
// the machinery, which may recur above the leaf), because
// "blocked in time.Sleep" says less than the line that called it; it falls
// back to the stack's first frame when every frame is standard.
func describe(frames []frame) (top string, stack []string) {
	i := 0
	for i < len(frames) && skipFrame(frames[i].fn) {
		i++
	}
	frames = frames[i:]
	if len(frames) == 0 {
		return "", nil
	}
	topAt := 0
	for j, f := range frames {
		if !isStd(f.file) && !skipFrame(f.fn) {
			topAt = j
			break
		}
	}
	n := min(len(frames), maxStack)
	stack = make([]string, n)
	for j := range n {
		stack[j] = frames[j].String()
	}
	if topAt < n {
		return stack[topAt], stack
	}
	return frames[topAt].String(), stack
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

// funcPackage returns the import path of a fully qualified function name:
// "github.com/a/b.(*T).M" → "github.com/a/b".
func funcPackage(fn string) string {
	search := fn
	if i := strings.IndexByte(fn, '['); i >= 0 {
		search = fn[:i] // type arguments may hold paths of their own
	}
	slash := strings.LastIndexByte(search, '/') + 1
	if dot := strings.IndexByte(fn[slash:], '.'); dot >= 0 {
		return fn[:slash+dot]
	}
	return fn
}

// shortFunc drops all but the last element of the package path:
// "github.com/a/b.(*T).M" → "b.(*T).M".
func shortFunc(fn string) string {
	search := fn
	if i := strings.IndexByte(fn, '['); i >= 0 {
		search = fn[:i] // type arguments may hold paths of their own
	}
	return fn[strings.LastIndexByte(search, '/')+1:]
}

// shortFile keeps the last two elements of a path: "a/b/c/d.go" → "c/d.go".
func shortFile(file string) string {
	file = strings.ReplaceAll(file, "\\", "/")
	i := strings.LastIndexByte(file, '/')
	if i <= 0 {
		return file
	}
	if j := strings.LastIndexByte(file[:i], '/'); j >= 0 {
		return file[j+1:]
	}
	return file
}
