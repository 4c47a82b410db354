// Package frames tells a worker's own code from the machinery around it in a
// stack, and formats a frame the way every event shows it:
// "file:line function", with the last two elements of the file's path and
// the function qualified by the last element of its package path, as in
// "room/mixer.go:88 room.(*Mixer).mix".
//
// The stall watchdog (a holder's stack) and the CPU sampler (a session's
// busiest line) both pick "the line of the session's own code" with it, so
// the two agree on what that line is.
package frames

import (
	"reflect"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Format returns "file:line function" in the short form described above.
func Format(file string, line int64, fn string) string {
	return ShortFile(file) + ":" + strconv.FormatInt(line, 10) + " " + ShortFunc(fn)
}

// ShortFile keeps the last two elements of a path: "a/b/c/d.go" becomes
// "c/d.go". Backslashes count as separators.
func ShortFile(file string) string {
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

// ShortFunc drops all but the last element of the package path:
// "example.com/worker/room.(*Mixer).mix" becomes "room.(*Mixer).mix".
func ShortFunc(fn string) string {
	search := fn
	if i := strings.IndexByte(fn, '['); i >= 0 {
		search = fn[:i] // type arguments may hold paths of their own
	}
	return fn[strings.LastIndexByte(search, '/')+1:]
}

// Package returns the import path of a fully qualified function name:
// "github.com/a/b.(*T).M" gives "github.com/a/b".
func Package(fn string) string {
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

// modulePkg is the import path of this module's root package (the one a
// worker calls), worked out at run time so a fork or vendored copy filters
// correctly.
var modulePkg = strings.TrimSuffix(Package(runtime.FuncForPC(reflect.ValueOf(anchor).Pointer()).Name()), "/internal/frames")

func anchor() {}

// Machinery reports whether a function is machinery rather than the code
// that asked for it: the runtime, the profiler, sync primitives, internal
// packages of the standard library, and this module's own packages (its
// wrappers and watchdog), but not its examples, tests or demo.
func Machinery(fn string) bool { return machineryPkg(Package(fn)) }

// machineryPkg is Machinery for a function's package.
func machineryPkg(pkg string) bool {
	switch {
	case pkg == "runtime", strings.HasPrefix(pkg, "runtime/"),
		pkg == "sync", strings.HasPrefix(pkg, "sync/"),
		pkg == "internal", strings.HasPrefix(pkg, "internal/"):
		return true
	case pkg == modulePkg:
		return true
	case strings.HasPrefix(pkg, modulePkg+"/"):
		rest := pkg[len(modulePkg)+1:]
		// The demo worker and the truth harness are workers, written as
		// users write theirs: their lines are the ones to report.
		return !strings.HasPrefix(rest, "cmd/") && !strings.HasPrefix(rest, "internal/workload") &&
			!strings.HasPrefix(rest, "internal/truth") && !strings.HasSuffix(pkg, "_test")
	}
	return false
}

// StdPrefix is how the files of the standard library begin in this binary:
// "/usr/local/go/src/" normally, "" when built with -trimpath, "?" when
// it cannot be told (nothing is then taken for the standard library).
var StdPrefix = func() string {
	f := runtime.FuncForPC(reflect.ValueOf(time.Now).Pointer())
	file, _ := f.FileLine(f.Entry())
	p, ok := strings.CutSuffix(file, "time/time.go")
	if !ok {
		return "?" // unknown layout: treat nothing as standard library
	}
	return p
}()

// Std reports whether file belongs to the standard library.
func Std(file string) bool {
	if StdPrefix != "" {
		return strings.HasPrefix(file, StdPrefix)
	}
	// -trimpath: standard files are "time/time.go", module files start
	// with a module path, whose first element has a dot.
	first, _, _ := strings.Cut(file, "/")
	return !strings.Contains(first, ".")
}

// How near a frame is to the worker's own code, nearest first: the line to
// report is the leaf-most frame of the lowest rank in a stack. A session
// blocked in a database driver's read is reported at the worker's call of
// the driver, not inside it: the operator fixes their own code.
const (
	RankOwn        = iota // the main module (or package main)
	RankDependency        // any other module
	RankStandard          // the standard library and golang.org/x
	RankMachinery         // see Machinery
)

// mainModule is the module path of the running binary's main package, ""
// when the binary carries no module information.
var mainModule = func() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok || bi.Main.Path == "command-line-arguments" {
		return ""
	}
	return bi.Main.Path
}()

// ownPrefix is the import path prefix of the main module's owner: its
// organisation on a code host ("github.com/acme/"), else its domain
// ("example.com/"). A worker split into modules of its own (a cmd module
// beside a rooms module) is the worker's own code throughout.
var ownPrefix = ownerOf(mainModule)

// codeHosts are hosts whose second path element is an owner.
var codeHosts = []string{"github.com", "gitlab.com", "bitbucket.org", "codeberg.org", "gitee.com"}

// ownerOf returns the owner prefix of a module path, "" when it has none
// (a path of one element, such as a module named "worker").
func ownerOf(module string) string {
	parts := strings.Split(module, "/")
	switch {
	case len(parts) >= 3 && slices.Contains(codeHosts, parts[0]):
		return parts[0] + "/" + parts[1] + "/"
	case len(parts) >= 2 && strings.Contains(parts[0], ".") && !slices.Contains(codeHosts, parts[0]) && parts[0] != "golang.org":
		return parts[0] + "/"
	}
	return ""
}

// Rank returns how near the frame of function fn in file is to the worker's
// own code: RankOwn, RankDependency, RankStandard or RankMachinery.
func Rank(fn, file string) int {
	pkg := Package(fn)
	if machineryPkg(pkg) {
		return RankMachinery
	}
	pkg = strings.TrimSuffix(pkg, "_test")
	switch {
	case pkg == "main",
		mainModule != "" && (pkg == mainModule || strings.HasPrefix(pkg, mainModule+"/")),
		ownPrefix != "" && strings.HasPrefix(pkg, ownPrefix):
		return RankOwn
	case Std(file), strings.HasPrefix(pkg, "golang.org/x/"):
		return RankStandard
	}
	return RankDependency
}
