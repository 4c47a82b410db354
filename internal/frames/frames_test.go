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
