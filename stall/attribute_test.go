package stall_test

import (
	"math"
	"testing"
	"time"

	"github.com/openrtc-go/introspect/stall"
)

func TestAttribute(t *testing.T) {
	tests := []struct {
		name      string
		by        map[string]int64
		total     int64
		want      string
		wantShare float64
	}{
		{"empty", nil, 0, "", 0},
		{"one session owns the window", map[string]int64{"job-1": 40}, 40, "job-1", 1},
		{"clear majority", map[string]int64{"job-1": 30, "job-2": 5, "job-3": 5}, 40, "job-1", 0.75},
		{"exactly half, twice the runner-up", map[string]int64{"job-1": 20, "job-2": 10}, 40, "job-1", 0.5},
		{"majority but close runner-up", map[string]int64{"job-1": 22, "job-2": 18}, 40, "", 0},
		{"most but not half", map[string]int64{"job-1": 15, "job-2": 5}, 40, "", 0},
		{"tie", map[string]int64{"job-1": 10, "job-2": 10}, 20, "", 0},
		{"runtime dominates", map[string]int64{"": 30, "job-1": 10}, 40, "", 0},
		{"unlabelled samples count in total", map[string]int64{"": 5, "job-1": 15}, 20, "job-1", 0.75},
		{"too few samples", map[string]int64{"job-1": 2}, 2, "", 0},
		{"total smaller than its parts", map[string]int64{"job-1": 9, "job-2": 1}, 5, "job-1", 0.9},
		{"negative counts ignored", map[string]int64{"job-1": 10, "job-2": -50}, 10, "job-1", 1},
		{"zero total", map[string]int64{"job-1": 0}, 0, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, share := stall.Attribute(tt.by, tt.total)
			if got != tt.want || math.Abs(share-tt.wantShare) > 1e-9 {
				t.Errorf("Attribute(%v, %d) = %q, %v; want %q, %v", tt.by, tt.total, got, share, tt.want, tt.wantShare)
			}
		})
	}
}

func TestSchedStall(t *testing.T) {
	start := time.Date(2026, 3, 1, 3, 12, 0, 0, time.UTC)
	lag := stall.SchedLag{ID: 42, Start: start, End: start.Add(300 * time.Millisecond), Worst: 280 * time.Millisecond}
	s := stall.SchedStall(lag, stall.CPUSeen{BySession: map[string]int64{"job-hot": 45, "job-2": 5}, Total: 50}, stall.CPUUsual{}, 2)
	if s.ID != 42 || s.Blocked != 300*time.Millisecond || !s.Start.Equal(start) || s.Source != stall.SourceScheduler ||
		s.Session != "job-hot" || s.Confidence != 0.9 || s.Ongoing {
		t.Errorf("SchedStall = %+v, want stall 42 of 300ms from the scheduler blamed on job-hot (0.9)", s)
	}
	lag.Ongoing = true
	if s := stall.SchedStall(lag, stall.CPUSeen{}, stall.CPUUsual{}, 2); !s.Ongoing || s.Session != "" || s.Confidence != 0 {
		t.Errorf("SchedStall with no CPU = %+v, want ongoing and unattributed", s)
	}
}

// TestSchedStallSurge checks the blame of a stall on the session whose CPU
// rose while it lasted. The figures are a 5 s window at 100 Hz on 2 Ps,
// with a 300 ms lag: holding every P for it is 60 samples.
func TestSchedStallSurge(t *testing.T) {
	start := time.Date(2026, 3, 1, 3, 12, 0, 0, time.UTC)
	lag := stall.SchedLag{ID: 7, Start: start, End: start.Add(300 * time.Millisecond)}
	window := func(by map[string]int64) stall.CPUSeen {
		var total int64
		for _, n := range by {
			total += n
		}
		return stall.CPUSeen{BySession: by, Total: total, Period: 10 * time.Millisecond, Windows: 5 * time.Second, Covered: 300 * time.Millisecond}
	}
	// Usual rates, samples per second: hogs at 25 and 20, the codec idle.
	usual := stall.CPUUsual{PerSecond: map[string]float64{"hog-a": 25, "hog-b": 20, "codec": 0.2}, Over: time.Minute,
		After: map[string]float64{"hog-a": 24, "hog-b": 20}}
	noAfter := usual
	noAfter.After = nil
	started := usual
	started.After = map[string]float64{"hog-a": 24, "hog-b": 20, "codec": 12}
	batchBegan := usual
	batchBegan.After = map[string]float64{"hog-a": 18, "hog-b": 14, "batch": 80}
	tests := []struct {
		name   string
		during stall.CPUSeen
		usual  stall.CPUUsual
		want   string
	}{
		// The hogs keep their rate (less what the spin took from them);
		// the codec's 64 samples are its spin.
		{"spinner among steady hogs", window(map[string]int64{"hog-a": 118, "hog-b": 95, "codec": 64, "": 20}), usual, "codec"},
		// No history: every sample would look like a rise, so only a
		// dominant share names anyone, and nobody dominates here.
		{"no history", window(map[string]int64{"hog-a": 118, "hog-b": 95, "codec": 64}), stall.CPUUsual{}, ""},
		// The window after has not come: a rise cannot be told from a
		// change of pace yet.
		{"no window after", window(map[string]int64{"hog-a": 118, "hog-b": 95, "codec": 64, "": 20}), noAfter, ""},
		// The codec kept its new pace in the window after: it started
		// working, and the stall is not shown to be its doing.
		{"pace changed", window(map[string]int64{"hog-a": 118, "hog-b": 95, "codec": 64, "": 20}), started, ""},
		// A rise too small for the lag: the stall was not its doing.
		{"small rise", window(map[string]int64{"hog-a": 118, "hog-b": 95, "codec": 20}), usual, ""},
		// Two sessions rose alike: neither is named by its rise, and
		// neither dominates the window.
		{"two rose", window(map[string]int64{"hog-a": 180, "hog-b": 170, "codec": 1}), usual, ""},
		// A steady hog eating most of the CPU is named by its share.
		{"dominant by share", window(map[string]int64{"hog-a": 400, "hog-b": 50}), usual, "hog-a"},
		// A batch job starting in the window rose by far more than the
		// stall stands for, and kept its pace in the window after: a
		// change of pace, which the stall does not explain; the codec's
		// spin is still seen.
		{"batch job began", window(map[string]int64{"hog-a": 90, "hog-b": 70, "codec": 62, "batch": 400}), batchBegan, "codec"},
		// The codec held every P three times in the window: three
		// stalls' worth of rise, and still its doing.
		{"three spins in a window", window(map[string]int64{"hog-a": 100, "hog-b": 80, "codec": 185}), usual, "codec"},
		// A hog's count moving within its noise is no rise.
		{"hog noise", window(map[string]int64{"hog-a": 150, "hog-b": 100, "codec": 1}), usual, ""},
		// The machine's other load eased: the process got a third more
		// CPU, and every hog's count rose with it, beyond its noise,
		// beside the codec's spin. The others' rise is the process's,
		// not a surge of theirs.
		{"load eased, a spin", window(map[string]int64{"hog-a": 165, "hog-b": 135, "codec": 54}), usual, "codec"},
		{"load eased, no spin", window(map[string]int64{"hog-a": 165, "hog-b": 135, "codec": 1}), usual, ""},
		// Unlabelled samples never win.
		{"runtime rose", window(map[string]int64{"hog-a": 125, "hog-b": 100, "": 90}), usual, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := stall.SchedStall(lag, tt.during, tt.usual, 2)
			if s.Session != tt.want {
				t.Errorf("blamed %q (confidence %.2f), want %q", s.Session, s.Confidence, tt.want)
			}
			if s.Session != "" && (s.Confidence <= 0 || s.Confidence > 1) {
				t.Errorf("confidence %v", s.Confidence)
			}
		})
	}
	// Every P held, but the OS ran other processes' threads on the CPUs
	// for half of it: the process used 300 ms of CPU in the 300 ms lag on
	// 2 Ps (the probe measures it), and the codec's rise is what it was
	// given. Unmeasured, its 28 samples are short of half of 60.
	squeezed := lag
	squeezed.CPU = 300 * time.Millisecond
	half := window(map[string]int64{"hog-a": 118, "hog-b": 95, "codec": 28, "": 20})
	if s := stall.SchedStall(squeezed, half, usual, 2); s.Session != "codec" {
		t.Errorf("a spin given half the CPU blamed on %q, want codec", s.Session)
	}
	if s := stall.SchedStall(lag, half, usual, 2); s.Session != "" {
		t.Errorf("with the lag's CPU unmeasured, blamed on %q, want nobody", s.Session)
	}
	// The OS took the CPUs from the whole process (a CPU quota): it used
	// 10 ms in the lag, and a hog's count moving within its noise is still
	// no rise.
	throttled := lag
	throttled.CPU = 10 * time.Millisecond
	if s := stall.SchedStall(throttled, window(map[string]int64{"hog-a": 150, "hog-b": 100, "codec": 1}), usual, 2); s.Session != "" {
		t.Errorf("a throttled process's stall blamed on %q, want nobody", s.Session)
	}

	// A light session's count moving within its noise is no rise, however
	// short the stall: 33 samples where the window after had 19 (the truth
	// harness's pool, blamed for 26 saturation stalls of 50-130 ms when the
	// noise was judged by the 19 alone).
	short := stall.SchedLag{ID: 8, Start: start, End: start.Add(58 * time.Millisecond)}
	light := stall.CPUSeen{BySession: map[string]int64{"pooled": 33, "hog-a": 242, "hog-b": 240}, Total: 515, Period: 10 * time.Millisecond, Windows: 5 * time.Second}
	lightUsual := stall.CPUUsual{PerSecond: map[string]float64{}, Over: 10 * time.Second, After: map[string]float64{"pooled": 3.8, "hog-a": 57, "hog-b": 50}}
	if s := stall.SchedStall(short, light, lightUsual, 2); s.Session != "" {
		t.Errorf("a 58 ms stall blamed on %q (confidence %.2f), want nobody", s.Session, s.Confidence)
	}
}
