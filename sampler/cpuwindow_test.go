package sampler

import (
	"bytes"
	"reflect"
	"testing"
	"time"

	"github.com/google/pprof/profile"
)

// fakeProfile builds a CPU profile as runtime/pprof would write it, with
// stacks given leaf first as lists of frames, a location per frame unless a
// frame is a slice of inlined frames (innermost first).
type fakeSample struct {
	session string
	n       int64
	stack   [][]fakeFrame
}

type fakeFrame struct {
	fn, file string
	line     int64
}

func fakeProfile(t testing.TB, samples []fakeSample) []byte {
	t.Helper()
	p := &profile.Profile{
		SampleType:    []*profile.ValueType{{Type: "samples", Unit: "count"}, {Type: "cpu", Unit: "nanoseconds"}},
		PeriodType:    &profile.ValueType{Type: "cpu", Unit: "nanoseconds"},
		Period:        10_000_000,
		TimeNanos:     time.Date(2026, 3, 12, 3, 12, 0, 0, time.UTC).UnixNano(),
		DurationNanos: int64(time.Second),
	}
	funcs := map[string]*profile.Function{}
	for _, s := range samples {
		ps := &profile.Sample{Value: []int64{s.n, s.n * p.Period}}
		if s.session != "" {
			ps.Label = map[string][]string{SessionLabel: {s.session}, "agent": {"voice"}}
		}
		for _, frames := range s.stack {
			loc := &profile.Location{ID: uint64(len(p.Location) + 1), Address: uint64(0x1000 + len(p.Location))}
			for _, f := range frames {
				fn := funcs[f.fn]
				if fn == nil {
					fn = &profile.Function{ID: uint64(len(p.Function) + 1), Name: f.fn, SystemName: f.fn, Filename: f.file}
					funcs[f.fn] = fn
					p.Function = append(p.Function, fn)
				}
				loc.Line = append(loc.Line, profile.Line{Function: fn, Line: f.line})
			}
			p.Location = append(p.Location, loc)
			ps.Location = append(ps.Location, loc)
		}
		p.Sample = append(p.Sample, ps)
	}
	var buf bytes.Buffer
	if err := p.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

var (
	mallocgc = fakeFrame{"runtime.mallocgc", "/usr/local/go/src/runtime/malloc.go", 1200}
	memmove  = fakeFrame{"runtime.memmove", "/usr/local/go/src/runtime/memmove_amd64.s", 180}
	pollRead = fakeFrame{"internal/poll.(*FD).Read", "/usr/local/go/src/internal/poll/fd_unix.go", 165}
	mix      = fakeFrame{"example.com/worker/mixer.(*Room).mix", "/src/worker/mixer/room.go", 88}
	mixInner = fakeFrame{"example.com/worker/mixer.clamp", "/src/worker/mixer/dsp.go", 12}
	decode   = fakeFrame{"example.com/worker/codec.decode", "/src/worker/codec/opus.go", 301}
	serve    = fakeFrame{"example.com/worker.(*Session).serve", "/src/worker/session.go", 40}
	gcWorker = fakeFrame{"runtime.gcBgMarkWorker", "/usr/local/go/src/runtime/mgc.go", 1400}
)

func TestParseCPUWindow(t *testing.T) {
	data := fakeProfile(t, []fakeSample{
		// Leaf in the runtime: the top frame is the caller in user code.
		{session: "a", n: 5, stack: [][]fakeFrame{{mallocgc}, {mix}, {serve}}},
		// An inlined call: the innermost line of the location comes first.
		{session: "a", n: 3, stack: [][]fakeFrame{{mixInner, mix}, {serve}}},
		{session: "a", n: 2, stack: [][]fakeFrame{{memmove}, {pollRead}, {decode}, {serve}}},
		{session: "a", n: 1, stack: [][]fakeFrame{{serve}}},
		{session: "b", n: 4, stack: [][]fakeFrame{{decode}, {serve}}},
		// Only runtime frames: keep the leaf.
		{session: "b", n: 1, stack: [][]fakeFrame{{memmove}, {mallocgc}}},
		{n: 7, stack: [][]fakeFrame{{gcWorker}}},
	})
	w, err := parseCPUWindow(data, 3)
	if err != nil {
		t.Fatal(err)
	}
	want := CPUWindow{
		Start:      time.Date(2026, 3, 12, 3, 12, 0, 0, time.UTC),
		Duration:   time.Second,
		Period:     10 * time.Millisecond,
		Total:      23,
		Unlabelled: 7,
		BySession:  map[string]int64{"a": 11, "b": 5},
		Top: map[string][]Frame{
			"a": {
				{Function: mix.fn, File: mix.file, Line: mix.line, Samples: 5},
				{Function: mixInner.fn, File: mixInner.file, Line: mixInner.line, Samples: 3},
				{Function: decode.fn, File: decode.file, Line: decode.line, Samples: 2},
			},
			"b": {
				{Function: decode.fn, File: decode.file, Line: decode.line, Samples: 4},
				{Function: memmove.fn, File: memmove.file, Line: memmove.line, Samples: 1},
			},
		},
	}
	if !w.Start.Equal(want.Start) {
		t.Errorf("Start = %v, want %v", w.Start, want.Start)
	}
	w.Start = want.Start
	if !reflect.DeepEqual(w, want) {
		t.Errorf("parseCPUWindow =\n%+v\nwant\n%+v", w, want)
	}

	w, err = parseCPUWindow(data, -1)
	if err != nil {
		t.Fatal(err)
	}
	if w.Top != nil || w.Total != 23 {
		t.Errorf("with no top frames: Top %v, Total %d", w.Top, w.Total)
	}
}

func TestParseCPUWindowRejectsGarbage(t *testing.T) {
	for _, in := range [][]byte{nil, []byte("not a profile"), {0x1f, 0x8b, 0, 1, 2}} {
		if _, err := parseCPUWindow(in, 3); err == nil {
			t.Errorf("parseCPUWindow(%q) succeeded", in)
		}
	}
}

func TestFrameString(t *testing.T) {
	tests := []struct {
		f    Frame
		want string
	}{
		{Frame{Function: mix.fn, File: mix.file, Line: 88}, "mixer/room.go:88 mixer.(*Room).mix"},
		{Frame{Function: "main.main", File: "main.go", Line: 3}, "main.go:3 main.main"},
		{Frame{Function: "main.main", File: "/main.go", Line: 3}, "/main.go:3 main.main"},
		{Frame{Function: "0x4a1f00"}, "0x4a1f00"},
	}
	for _, tt := range tests {
		if got := tt.f.String(); got != tt.want {
			t.Errorf("%#v.String() = %q, want %q", tt.f, got, tt.want)
		}
	}
}

// TestParseRealCPUProfile parses a profile the runtime wrote, with labelled
// goroutines on CPU.
func TestParseRealCPUProfile(t *testing.T) {
	w, err := parseCPUWindow(cpuProfileFixture(t, 300*time.Millisecond), 3)
	if err != nil {
		t.Fatal(err)
	}
	var sum int64
	for id, n := range w.BySession {
		sum += n
		if top := w.Top[id]; len(top) == 0 || len(top) > 3 {
			t.Errorf("session %s: %d top frames", id, len(top))
		}
	}
	if w.Total != sum+w.Unlabelled {
		t.Errorf("Total %d ≠ sessions %d + unlabelled %d", w.Total, sum, w.Unlabelled)
	}
	if w.Period != 10*time.Millisecond || w.Duration < 250*time.Millisecond {
		t.Errorf("Period %v, Duration %v", w.Period, w.Duration)
	}
	t.Logf("%d samples, %d sessions on CPU, %d unlabelled", w.Total, len(w.BySession), w.Unlabelled)
}
