package stall

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/openrtc-go/introspect/internal/frames"
)

func TestShortNames(t *testing.T) {
	tests := []struct{ fn, pkg, short string }{
		{"github.com/a/b.(*T).M", "github.com/a/b", "b.(*T).M"},
		{"main.main", "main", "main.main"},
		{"runtime.gopark", "runtime", "runtime.gopark"},
		{"runtime/pprof.Do", "runtime/pprof", "pprof.Do"},
		{"example.com/room.(*Mixer).mix.func2", "example.com/room", "room.(*Mixer).mix.func2"},
		{"example.com/x.Map[go.shape.struct { F example.com/y.T }]", "example.com/x", "x.Map[go.shape.struct { F example.com/y.T }]"},
		{"weird", "weird", "weird"},
	}
	for _, tt := range tests {
		if got := frames.Package(tt.fn); got != tt.pkg {
			t.Errorf("funcPackage(%q) = %q, want %q", tt.fn, got, tt.pkg)
		}
		if got := frames.ShortFunc(tt.fn); got != tt.short {
			t.Errorf("shortFunc(%q) = %q, want %q", tt.fn, got, tt.short)
		}
	}
	files := []struct{ in, want string }{
		{"/home/u/src/room/mixer.go", "room/mixer.go"},
		{"mixer.go", "mixer.go"},
		{"/mixer.go", "/mixer.go"},
		{"room/mixer.go", "room/mixer.go"},
		{`C:\src\room\mixer.go`, "room/mixer.go"},
	}
	for _, tt := range files {
		if got := frames.ShortFile(tt.in); got != tt.want {
			t.Errorf("shortFile(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSelfPackage(t *testing.T) {
	if !frames.Machinery(selfPkg + ".(*Loop).Enter") {
		t.Errorf("%s is not taken for machinery", selfPkg)
	}
	if !frames.Std(frames.StdPrefix + "time/sleep.go") {
		t.Errorf("StdPrefix %q does not recognise the standard library", frames.StdPrefix)
	}
}

// selfPkg is this package's import path.
var selfPkg = frames.Package(runtime.FuncForPC(reflect.ValueOf(describe).Pointer()).Name())

func TestDescribe(t *testing.T) {
	std := frames.StdPrefix
	app := "/srv/app/room/"
	tests := []struct {
		name      string
		frames    []frame
		wantTop   string
		wantStack []string
	}{
		{"empty", nil, "", nil},
		{"only machinery", []frame{{"runtime.gopark", std + "runtime/proc.go", 1}, {"sync.(*Mutex).Lock", std + "sync/mutex.go", 2}}, "", nil},
		{
			"skips runtime, sync and this package, prefers the caller of the standard library",
			[]frame{
				{"runtime.gopark", std + "runtime/proc.go", 435},
				{"time.Sleep", std + "runtime/time.go", 363},
				{selfPkg + ".(*Loop).Enter", "/x/stall/loop.go", 10},
				{"example.com/room.(*Mixer).mix", app + "mixer.go", 88},
				{"example.com/room.(*Mixer).run", app + "mixer.go", 40},
			},
			"room/mixer.go:88 room.(*Mixer).mix",
			[]string{"runtime/time.go:363 time.Sleep", "stall/loop.go:10 stall.(*Loop).Enter", "room/mixer.go:88 room.(*Mixer).mix", "room/mixer.go:40 room.(*Mixer).run"},
		},
		{
			"all standard library: the leaf-most wins",
			[]frame{{"net.(*conn).Read", std + "net/net.go", 1}, {"bufio.(*Reader).Read", std + "bufio/bufio.go", 2}},
			"net/net.go:1 net.(*conn).Read",
			[]string{"net/net.go:1 net.(*conn).Read", "bufio/bufio.go:2 bufio.(*Reader).Read"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			top, stack := describe(tt.frames)
			if top != tt.wantTop || !slices.Equal(stack, tt.wantStack) {
				t.Errorf("describe = %q, %q\nwant %q, %q", top, stack, tt.wantTop, tt.wantStack)
			}
		})
	}

	// Deep stacks are cut to maxStack frames; the frame may lie beyond.
	var deep []frame
	for i := range 20 {
		deep = append(deep, frame{fmt.Sprintf("encoding/json.f%d", i), std + "encoding/json/x.go", int64(i)})
	}
	deep = append(deep, frame{"example.com/room.f", app + "f.go", 7})
	top, stack := describe(deep)
	if len(stack) != maxStack || top != "room/f.go:7 room.f" {
		t.Errorf("deep stack: top %q, %d frames", top, len(stack))
	}
}

func TestLimiter(t *testing.T) {
	t0 := time.Unix(0, 0)
	l := newLimiter(2)
	got := []bool{l.allow(t0), l.allow(t0), l.allow(t0), l.allow(t0.Add(499 * time.Millisecond)), l.allow(t0.Add(time.Second))}
	want := []bool{true, true, false, false, true}
	if !slices.Equal(got, want) {
		t.Errorf("allow = %v, want %v", got, want)
	}
	if off := newLimiter(-1); off.allow(t0) {
		t.Error("a negative rate allowed a capture")
	}
}

func TestCaptureHoldersFindsTheHolder(t *testing.T) {
	w := New(Options{Report: func(Stall) {}})
	defer w.Close()
	ctx := pprof.WithLabels(context.Background(), pprof.Labels("session", "job-1"))
	entered := make(chan use)
	release := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		h := w.Loop("l").enter(ctx)
		entered <- h
		<-release
		h.leave()
	}()
	label := (<-entered).h.entry.label // before leave recycles the hold
	var buf bytes.Buffer
	stacks, err := captureHolders(&buf)
	close(release)
	<-done
	if err != nil {
		t.Fatal(err)
	}
	hd, ok := stacks[label]
	fs := hd.frames
	if !ok {
		t.Fatalf("holder %s not in %v", label, stacks)
	}
	// This test is in the package describe skips, so look at the raw frames.
	if !slices.ContainsFunc(fs, func(f frame) bool { return strings.HasSuffix(f.file, "stall/frames_test.go") }) {
		t.Errorf("holder's stack %v does not reach this test file", fs)
	}
}

var updateSeeds = flag.Bool("update-seeds", false, "rewrite the fuzz seed corpus under testdata/fuzz")

// TestWriteFuzzSeeds writes a real goroutine profile and a small one as
// seeds for FuzzHoldersFromProfile when run with -update-seeds: the text
// form (debug=1) the watchdog reads.
func TestWriteFuzzSeeds(t *testing.T) {
	if !*updateSeeds {
		t.Skip("run with -update-seeds to rewrite the corpus")
	}
	w := New(Options{Report: func(Stall) {}})
	defer w.Close()
	var text bytes.Buffer
	var err error
	done := make(chan struct{})
	go func() {
		defer close(done)
		leave := w.Loop("seed").Enter(pprof.WithLabels(context.Background(), pprof.Labels("session", "job-seed")))
		err = pprof.Lookup("goroutine").WriteTo(&text, 1)
		leave()
	}()
	<-done
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzHoldersFromProfile")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	seeds := map[string][]byte{
		"goroutine-profile-text": text.Bytes(),
		"small-profile":          []byte("goroutine profile: total 1\n1 @ 0x1 0x2\n# labels: {\"openrtc_hold\":\"7\", \"session\":\"a\\\"b\"}\n#\t0x1\tmain.main+0x1\t/x/main.go:3\n"),
		"empty":                  {},
	}
	for name, data := range seeds {
		body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", data)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func FuzzHoldersFromProfile(f *testing.F) {
	f.Add([]byte("goroutine profile: total 1\n1 @ 0x1\n# labels: {\"openrtc_hold\":\"1\"}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		stacks, err := holdersFromProfile(data)
		if err != nil {
			return
		}
		for _, hd := range stacks {
			top, stack := describe(hd.frames)
			if len(stack) > maxStack || (top == "") != (len(stack) == 0) {
				t.Fatalf("describe = %q, %d frames", top, len(stack))
			}
		}
	})
}
