package fold_test

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/openrtc-go/introspect/fixtures/synth"
	"github.com/openrtc-go/introspect/fold"
	"github.com/openrtc-go/introspect/recorder"
)

// benchRecording returns a synthetic recording of sessions over duration,
// generated once into the temporary directory and kept there between runs
// (it is big and takes a while to make; it is never committed). The
// environment variable OPENRTC_BENCH_DIR moves it.
func benchRecording(b *testing.B, sessions int, duration time.Duration) string {
	b.Helper()
	dir := os.Getenv("OPENRTC_BENCH_DIR")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "openrtc-bench")
	}
	path := filepath.Join(dir, "synth-"+itoa(sessions)+"x"+duration.String()+"-seed1.zst")
	benchGen.Lock()
	defer benchGen.Unlock()
	if _, err := os.Stat(path); err == nil {
		return path
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	tmp := path + ".tmp"
	if _, err := synth.Write(tmp, synth.Options{Sessions: sessions, Duration: duration, Seed: 1}); err != nil {
		b.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		b.Fatal(err)
	}
	return path
}

var benchGen sync.Mutex

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

// decompressedBytes is the size of the JSON lines of set.
func decompressedBytes(b *testing.B, set *recorder.Set) int64 {
	var n int64
	sc := set.Scan()
	for sc.Next() {
		n += int64(len(sc.Record().Line)) + 1
	}
	if err := sc.Err(); err != nil {
		b.Fatal(err)
	}
	return n
}

// BenchmarkReport24h is `summary` and `sessions` over a day of 1,000
// sessions: MB/s of decompressed JSON through the whole pipeline (read,
// decompress, fold, report). ScanOnly is the reader alone in the same run,
// the floor.
func BenchmarkReport24h(b *testing.B) {
	path := benchRecording(b, 1000, 24*time.Hour)
	set := openSet(b, path)
	size := decompressedBytes(b, set)
	b.Run("ScanOnly", func(b *testing.B) {
		b.SetBytes(size)
		cpu := startCPU(b)
		for b.Loop() {
			sc := set.Scan()
			for sc.Next() {
			}
		}
		cpu.report()
	})
	b.Run("Report", func(b *testing.B) {
		b.SetBytes(size)
		cpu := startCPU(b)
		for b.Loop() {
			r, err := fold.ReadReport(set.Scan(), nil)
			if err != nil {
				b.Fatal(err)
			}
			_ = r.Summary()
		}
		cpu.report()
	})
}

// cpuClock measures the CPU time (user and system) of the whole process
// over a benchmark, reported as cpu-s/op: on a shared machine, wall time
// varies with the neighbours' load, CPU time much less.
type cpuClock struct {
	b     *testing.B
	start time.Duration
}

func startCPU(b *testing.B) cpuClock { return cpuClock{b, processCPU(b)} }

func (c cpuClock) report() {
	c.b.ReportMetric((processCPU(c.b)-c.start).Seconds()/float64(c.b.N), "cpu-s/op")
}

// benchCursor opens the day of 1,000 sessions and a cursor at its middle.
func benchCursor(b *testing.B) (*recorder.Set, *fold.Cursor) {
	set := openSet(b, benchRecording(b, 1000, 24*time.Hour))
	first, last := set.Span()
	c, err := fold.NewCursorAt(set, first.Add(last.Sub(first)/2))
	if err != nil {
		b.Fatal(err)
	}
	return set, c
}

// moments are n reproducible random moments of [first, last].
func moments(first, last time.Time, n int) []time.Time {
	rng := rand.New(rand.NewPCG(1, 2))
	out := make([]time.Time, n)
	for i := range out {
		out[i] = first.Add(time.Duration(rng.Int64N(int64(last.Sub(first)))))
	}
	return out
}

// BenchmarkStateAt24h is the state at a random moment of a day of 1,000
// sessions: the nearest keyframe and the fold forward, what `top --once
// --at` does. FromStart is the baseline in the same run: folding every
// record from the start to the same moments.
func BenchmarkStateAt24h(b *testing.B) {
	set := openSet(b, benchRecording(b, 1000, 24*time.Hour))
	first, last := set.Span()
	at := moments(first, last, 64)
	b.Run("Keyframe", func(b *testing.B) {
		i := 0
		for b.Loop() {
			s, err := fold.StateAt(set, at[i%len(at)])
			if err != nil {
				b.Fatal(err)
			}
			_ = s.View(at[i%len(at)])
			i++
		}
	})
	b.Run("FromStart", func(b *testing.B) {
		i := 0
		for b.Loop() {
			s := fold.New()
			sc := set.ScanRange(time.Time{}, at[i%len(at)].Add(time.Nanosecond))
			for sc.Next() {
				_ = s.ApplyLine(sc.Record().Line)
			}
			_ = s.View(at[i%len(at)])
			i++
		}
	})
}

// BenchmarkCursorStep is the cost of one key press on a day of 1,000
// sessions: t (Next), T (Prev), ] (NextStall) and a jump of a minute, each
// with and without building the view of 1,000 rows the screen then shows.
// The stall list is collected before the clock starts; CollectStalls
// measures that one-off scan.
func BenchmarkCursorStep(b *testing.B) {
	set, c := benchCursor(b)
	first, last := c.Span()
	mid := first.Add(last.Sub(first) / 2)
	if _, err := c.Stalls(); err != nil {
		b.Fatal(err)
	}
	rewind := func() {
		if err := c.Seek(mid); err != nil {
			b.Fatal(err)
		}
	}
	steps := []struct {
		name string
		step func() (bool, error)
	}{
		{"t", c.Next},
		{"T", c.Prev},
		{"]", func() (bool, error) { _, ok, err := c.NextStall(); return ok, err }},
		{"jump+1m", func() (bool, error) {
			return c.Time().Before(last.Add(-time.Minute)), c.Seek(c.Time().Add(time.Minute))
		}},
	}
	for _, st := range steps {
		for _, view := range []bool{false, true} {
			name := st.name
			if view {
				name += "+view"
			}
			b.Run(name, func(b *testing.B) {
				rewind()
				loads := c.Stats().Loads
				n := 0
				for b.Loop() {
					ok, err := st.step()
					if err != nil {
						b.Fatal(err)
					}
					if !ok {
						b.StopTimer()
						rewind()
						b.StartTimer()
					}
					if view {
						_ = c.View()
					}
					n++
				}
				b.ReportMetric(float64(c.Stats().Loads-loads)/float64(n), "reloads/op")
			})
		}
	}
	b.Run("CollectStalls", func(b *testing.B) {
		for b.Loop() {
			if _, err := fold.CollectStalls(set.Scan(), nil); err != nil {
				b.Fatal(err)
			}
		}
	})
}
