package sampler

import (
	"bytes"
	"errors"
	"runtime/pprof"
	"testing"
)

// A debug=2 goroutine dump as the runtime prints it, trimmed: the profile
// writer names the goroutine that started the profile, whose stack names
// the profiler.
const dumpPyroscope = `goroutine 1 [running]:
main.main()
	/app/main.go:20 +0x1d

goroutine 12 [select]:
github.com/grafana/pyroscope-go.(*cpuProfileCollector).Start(0xc000120000)
	/go/pkg/mod/github.com/grafana/pyroscope-go@v1.5.0/collector.go:95 +0x1a5
created by github.com/grafana/pyroscope-go.(*Session).Start in goroutine 1
	/go/pkg/mod/github.com/grafana/pyroscope-go@v1.5.0/session.go:180 +0x2b

goroutine 13 [sleep]:
time.Sleep(0x5f5e100)
	/usr/local/go/src/runtime/time.go:300 +0xf2
runtime/pprof.profileWriter({0x7b1e20, 0xc0001a2000})
	/usr/local/go/src/runtime/pprof/pprof.go:900 +0x45
created by runtime/pprof.StartCPUProfile in goroutine 12
	/usr/local/go/src/runtime/pprof/pprof.go:880 +0x145
`

func TestOwnerFromDump(t *testing.T) {
	for _, tt := range []struct {
		name, dump, want string
	}{
		{"pyroscope", dumpPyroscope, "pyroscope-go"},
		{"no profile", "goroutine 1 [running]:\nmain.main()\n\t/app/main.go:20 +0x1d\n", ""},
		{"starter exited", "goroutine 13 [sleep]:\nruntime/pprof.profileWriter({0x1, 0x2})\n\t/x/pprof.go:900 +0x45\ncreated by runtime/pprof.StartCPUProfile in goroutine 99\n\t/x/pprof.go:880 +0x145\n",
			"a goroutine that has exited (goroutine 99)"},
		{"application", "goroutine 5 [chan receive]:\nexample.com/worker/prof.(*Taker).run(0x1)\n\t/app/prof/taker.go:30 +0x1\ncreated by main.main in goroutine 1\n\t/app/main.go:9\n\n" +
			"goroutine 13 [sleep]:\nruntime/pprof.profileWriter({0x1, 0x2})\n\t/x/pprof.go:900 +0x45\ncreated by runtime/pprof.StartCPUProfile in goroutine 5\n\t/x/pprof.go:880 +0x145\n",
			"example.com/worker/prof.(*Taker).run"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := ownerFromDump(tt.dump); got != tt.want {
				t.Errorf("owner %q, want %q", got, tt.want)
			}
		})
	}
}

// ParseCPUProfile reads a CPU profile another profiler took, and refuses a
// profile of another kind (uploads carry heap and goroutine profiles too).
func TestParseCPUProfileKinds(t *testing.T) {
	var heap bytes.Buffer
	if err := pprof.Lookup("heap").WriteTo(&heap, 0); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ParseCPUProfile(heap.Bytes(), "x", 0); !errors.Is(err, ErrNotCPUProfile) {
		t.Errorf("heap profile: err %v, want ErrNotCPUProfile", err)
	}
	if _, _, err := ParseCPUProfile([]byte("not a profile"), "x", 0); err == nil {
		t.Error("garbage parsed as a profile")
	}
	var cpu bytes.Buffer
	if err := pprof.StartCPUProfile(&cpu); err != nil {
		t.Skip("profiler busy:", err)
	}
	pprof.StopCPUProfile()
	w, _, err := ParseCPUProfile(cpu.Bytes(), "pyroscope-go", 0)
	if err != nil || w.Owner != "pyroscope-go" || w.Period == 0 {
		t.Errorf("cpu profile: %+v, %v", w, err)
	}
}
