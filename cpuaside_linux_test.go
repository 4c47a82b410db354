//go:build linux

package introspect_test

import (
	"bytes"
	"math"
	"path/filepath"
	"runtime/pprof"
	"sync"
	"testing"
	"time"

	"github.com/openrtc-go/introspect"
	"github.com/openrtc-go/introspect/fold"
	"github.com/openrtc-go/introspect/recorder"
)

// The application takes the CPU profiler mid-run the way go doc tells it to
// (pprof.StopCPUProfile, then its own StartCPUProfile, for less than a
// window), while two sessions burn CPU on goroutines locked to their
// threads, whose thread CPU clocks are the truth. The CPU of the time
// introspection stood aside is no session's, so the sessions' cpu_seconds
// come out short of the truth: the test holds that every session is within
// 3 % of its truth or the shortfall is stated, as the unsampled CPU of the
// live header and of the recording's summary, and that the statement
// accounts for the shortfall (the sessions' share of what went unsampled,
// within 5 % of their truth). A black-box run lost 9.4 s of 71 s this way,
// 16-18 % of every session, and nothing said so.
func TestCPUUnsampledWhileTheApplicationProfiles(t *testing.T) {
	if testing.Short() {
		t.Skip("burns about 3 s of CPU")
	}
	const window = 500 * time.Millisecond
	rec := filepath.Join(t.TempDir(), "rec.zst")
	in := startQuiet(t, introspect.Options{CPUWindow: window, SampleInterval: 250 * time.Millisecond, Record: rec, SlowWindow: time.Minute})
	defer in.Close()
	time.Sleep(2 * window) // a few sampled windows first

	var mu sync.Mutex
	truth := map[string]time.Duration{}
	var work sync.WaitGroup
	for id, d := range map[string]time.Duration{"hog-a": 1500 * time.Millisecond, "hog-b": 1000 * time.Millisecond} {
		work.Add(1)
		go func() {
			defer work.Done()
			ctx, end := in.Begin(t.Context(), id)
			defer end(nil)
			_ = ctx
			// In slices, so that the application's profile falls inside
			// the sessions' work whatever the machine's load.
			for range 10 {
				c := burnLocked(t, d/10)
				mu.Lock()
				truth[id] += c
				mu.Unlock()
			}
		}()
	}
	time.Sleep(300 * time.Millisecond)
	pprof.StopCPUProfile() // ends introspection's window
	var own bytes.Buffer
	if err := pprof.StartCPUProfile(&own); err != nil {
		t.Fatalf("the application's StartCPUProfile after StopCPUProfile: %v", err)
	}
	time.Sleep(400 * time.Millisecond)
	pprof.StopCPUProfile()
	work.Wait()

	rows := settledRows(t, in, window, "hog-a", "hog-b")
	h := in.View().Worker
	t.Logf("header: %.3f s of %.3f s process CPU unsampled", h.UnsampledCPUS, h.ProcessCPUS)
	var got, want float64
	for _, id := range []string{"hog-a", "hog-b"} {
		g, w := rows[id].CPUSeconds, truth[id].Seconds()
		got, want = got+g, want+w
		off := (g - w) / w
		t.Logf("%s: cpu_seconds %.3f, thread clock %.3f (%+.1f %%)", id, g, w, 100*off)
		if math.Abs(off) > 0.03 && h.UnsampledCPUS <= 0 {
			t.Errorf("%s: cpu_seconds %.3f is %+.1f %% off its thread clock %.3f, and no unsampled CPU is stated", id, g, 100*off, w)
		}
		if off < -0.03 && w-g > h.UnsampledCPUS+h.MissedCPUS+0.03*w {
			t.Errorf("%s: %.3f s short of its thread clock, more than the %.3f s stated unsampled and %.3f s missed", id, w-g, h.UnsampledCPUS, h.MissedCPUS)
		}
	}
	if h.UnsampledCPUS <= 0 {
		t.Fatal("the application held the profiler for 400ms of the sessions' work and no CPU is stated unsampled")
	}
	// The sessions' share of the unsampled CPU is what they are short of,
	// with at most what the samples missed besides (a session's
	// cpu_seconds counts its samples): their share of the sampled CPU,
	// times the unsampled CPU.
	share := got / (h.ProcessCPUS - h.UnsampledCPUS - h.MissedCPUS)
	missing := want - got
	t.Logf("sessions short by %.3f s; %.0f %% of the %.3f s unsampled is %.3f s, and the samples missed %.3f s", missing, 100*share, h.UnsampledCPUS, share*h.UnsampledCPUS, h.MissedCPUS)
	if lo, hi := share*h.UnsampledCPUS-0.05*want, share*h.UnsampledCPUS+h.MissedCPUS+0.05*want; missing < lo || missing > hi {
		t.Errorf("the sessions are short by %.3f s, but their share of the %.3f s stated unsampled is %.3f s and the samples missed %.3f s (more than 5 %% of their %.3f s apart)",
			missing, h.UnsampledCPUS, share*h.UnsampledCPUS, h.MissedCPUS, want)
	}

	// The recording says the same, and the summary states it.
	if err := in.Close(); err != nil {
		t.Fatal(err)
	}
	set, err := recorder.Open(rec)
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	r, err := fold.ReadReport(set.Scan(), nil)
	if err != nil {
		t.Fatal(err)
	}
	s := r.Summary()
	if s.CPU == nil || s.CPU.UnsampledCPUS < h.UnsampledCPUS {
		t.Fatalf("recording: summary cpu %+v, want at least the live %.3f s unsampled", s.CPU, h.UnsampledCPUS)
	}
	t.Logf("summary: %s", s.CPU.Text())
}
