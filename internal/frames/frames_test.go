package frames

import (
	"reflect"
	"runtime"
	"testing"
	"time"
)

func TestFormat(t *testing.T) {
	tests := []struct {
		file string
		line int64
		fn   string
		want string
	}{
		{"/src/worker/room/mixer.go", 88, "example.com/worker/room.(*Mixer).mix", "room/mixer.go:88 room.(*Mixer).mix"},
		{"main.go", 3, "main.main", "main.go:3 main.main"},
		{"/usr/local/go/src/time/sleep.go", 1, "time.Sleep", "time/sleep.go:1 time.Sleep"},
	}
	for _, tt := range tests {
		if got := Format(tt.file, tt.line, tt.fn); got != tt.want {
			t.Errorf("Format(%q, %d, %q) = %q, want %q", tt.file, tt.line, tt.fn, got, tt.want)
		}
	}
}

func TestMachinery(t *testing.T) {
	tests := []struct {
		fn   string
		want bool
	}{
		{"runtime.gopark", true},
		{"runtime/pprof.Do", true},
		{"sync.(*Mutex).Lock", true},
		{"internal/poll.(*FD).Read", true},
		{modulePkg + ".(*Loop).Enter", true},
		{modulePkg + "/stall.(*Loop).Enter", true},
		{modulePkg + "/internal/workload.fetchVoiceProfileSync", false},
		{modulePkg + "/internal/truth.(*blocker).prepare.func1", false},
		{modulePkg + "_test.holdTheMixer", false},
		{"example.com/worker/room.(*Mixer).mix", false},
		{"time.Sleep", false},
		{"main.main", false},
	}
	for _, tt := range tests {
		if got := Machinery(tt.fn); got != tt.want {
			t.Errorf("Machinery(%q) = %v, want %v", tt.fn, got, tt.want)
		}
	}
}

func TestStd(t *testing.T) {
	f := runtime.FuncForPC(reflect.ValueOf(time.Sleep).Pointer())
	file, _ := f.FileLine(f.Entry())
	if !Std(file) {
		t.Errorf("Std(%q) = false for time.Sleep's file", file)
	}
	_, self, _, _ := runtime.Caller(0)
	if Std(self) {
		t.Errorf("Std(%q) = true for this test's file", self)
	}
}

func TestRank(t *testing.T) {
	std := StdPrefix + "time/sleep.go"
	if StdPrefix == "?" {
		t.Skip("the standard library's files cannot be told in this binary")
	}
	tests := []struct {
		fn, file string
		want     int
	}{
		{"main.main", "/src/worker/main.go", RankOwn},
		{"main.(*room).mix", "/src/worker/room.go", RankOwn},
		// This test binary's main module is this module: its demo and
		// harness are the worker's own code, its wrappers machinery.
		{modulePkg + "/internal/truth.(*blocker).prepare.func1", "/m/internal/truth/block.go", RankOwn},
		{modulePkg + "/cmd/densitydemo.main", "/m/cmd/densitydemo/main.go", RankOwn},
		{modulePkg + "/stall_test.stallLoopReadsPipe", "/m/stall/reuse_unix_test.go", RankOwn},
		{modulePkg + "/stall.(*Loop).Enter", "/m/stall/loop.go", RankMachinery},
		{"github.com/lib/pq.(*conn).recv", "/go/pkg/mod/github.com/lib/pq@v1.10.9/conn.go", RankDependency},
		// A module of the same owner as the main module is the worker's
		// own code split into modules.
		{"github.com/openrtc-go/rooms.(*Room).mix", "/go/pkg/mod/github.com/openrtc-go/rooms@v0.1.0/room.go", RankOwn},
		{"golang.org/x/sys/unix.read", "/go/pkg/mod/golang.org/x/sys@v0.50.0/unix/zsyscall_linux.go", RankStandard},
		{"time.Sleep", std, RankStandard},
		{"runtime.gopark", StdPrefix + "runtime/proc.go", RankMachinery},
		{"internal/poll.(*FD).Read", StdPrefix + "internal/poll/fd_unix.go", RankMachinery},
	}
	for _, tt := range tests {
		if got := Rank(tt.fn, tt.file); got != tt.want {
			t.Errorf("Rank(%q, %q) = %d, want %d", tt.fn, tt.file, got, tt.want)
		}
	}
}

func TestOwnerOf(t *testing.T) {
	tests := []struct{ module, want string }{
		{"github.com/acme/worker", "github.com/acme/"},
		{"github.com/acme/worker/v2", "github.com/acme/"},
		{"gitlab.com/team/svc", "gitlab.com/team/"},
		{"example.com/cmd/worker", "example.com/"},
		{"example.com/worker", "example.com/"},
		{"github.com/solo", ""}, // no owner to share
		{"worker", ""},
		{"golang.org/x/tools", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := ownerOf(tt.module); got != tt.want {
			t.Errorf("ownerOf(%q) = %q, want %q", tt.module, got, tt.want)
		}
	}
}
