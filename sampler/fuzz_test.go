package sampler

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"testing"
	"time"
)

var updateCorpus = flag.Bool("update-corpus", false, "rewrite the seed corpora under testdata/fuzz from live profiles")

// FuzzParseCPUWindow feeds arbitrary bytes to the CPU profile parser: it must
// not panic, and what it accepts must add up.
func FuzzParseCPUWindow(f *testing.F) {
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		w, err := parseCPUWindow(data, 3)
		if err != nil {
			return
		}
		var sum int64
		for id, n := range w.BySession {
			if id == "" || n <= 0 {
				t.Fatalf("BySession[%q] = %d", id, n)
			}
			sum += n
			top := w.Top[id]
			if len(top) == 0 || len(top) > 3 {
				t.Fatalf("session %q has %d top frames", id, len(top))
			}
			for i := 1; i < len(top); i++ {
				if top[i].Samples > top[i-1].Samples {
					t.Fatalf("session %q top frames out of order: %v", id, top)
				}
			}
		}
		if w.Total != sum+w.Unlabelled {
			t.Fatalf("Total %d ≠ sessions %d + unlabelled %d", w.Total, sum, w.Unlabelled)
		}
	})
}

// FuzzParseGoroutineProfile does the same for the goroutine profile parser.
func FuzzParseGoroutineProfile(f *testing.F) {
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		by, total, err := parseGoroutineProfile(data)
		if err != nil {
			return
		}
		sum := 0
		for id, n := range by {
			if id == "" || n <= 0 {
				t.Fatalf("bySession[%q] = %d", id, n)
			}
			sum += n
		}
		if sum > total {
			t.Fatalf("sessions hold %d goroutines of %d", sum, total)
		}
	})
}

// FuzzParseStatm checks the /proc/self/statm parser against arbitrary lines.
func FuzzParseStatm(f *testing.F) {
	f.Add([]byte("1234 567 89 10 0 400 0\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		n, err := parseStatmResident(data)
		if err != nil && n != 0 {
			t.Fatalf("error %v with result %d", err, n)
		}
	})
}

// TestUpdateFuzzCorpus regenerates the seed corpora from profiles this
// process takes, when run with -update-corpus.
func TestUpdateFuzzCorpus(t *testing.T) {
	if !*updateCorpus {
		t.Skip("run with -update-corpus to regenerate testdata/fuzz")
	}
	var gor bytes.Buffer
	release := parkGoroutines(20, 4, 2)
	if err := pprof.Lookup("goroutine").WriteTo(&gor, 0); err != nil {
		t.Fatal(err)
	}
	release()
	seeds := map[string]map[string][]byte{
		"FuzzParseCPUWindow": {
			"live":    cpuProfileFixture(t, 200*time.Millisecond),
			"fake":    fakeProfile(t, []fakeSample{{session: "a", n: 2, stack: [][]fakeFrame{{mallocgc}, {mix}}}, {n: 1, stack: [][]fakeFrame{{gcWorker}}}}),
			"garbage": []byte("\x1f\x8b\x08\x00garbage"),
		},
		"FuzzParseGoroutineProfile": {
			"live": gor.Bytes(),
		},
		"FuzzParseStatm": {
			"typical":  []byte("279631 10118 5632 443 0 38735 0\n"),
			"overflow": []byte("1 99999999999999999999999 0\n"),
			"short":    []byte("42"),
		},
	}
	for target, files := range seeds {
		dir := filepath.Join("testdata", "fuzz", target)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, data := range files {
			body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", data)
			if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}
