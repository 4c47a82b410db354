package stall

import (
	"testing"
	"time"
)

func TestVerdict(t *testing.T) {
	ms := time.Millisecond
	thr := 50 * ms
	tests := []struct {
		name     string
		blocked  time.Duration
		parked   string
		runnable bool
		cpu      time.Duration
		seen     bool
		lagged   time.Duration
		worst    time.Duration // the longest wait the scheduler probe measured
		measured bool          // whether lags are measured at all
		want     string
	}{
		{"parked on a channel", 300 * ms, "chan receive", false, 0, true, 0, 0, true, CauseBlocked},
		{"parked, whatever the CPU says", 300 * ms, "sleep", true, 250 * ms, true, 0, 0, true, CauseBlocked},
		{"its own work is a stall", 900 * ms, "", true, 60 * ms, true, 900 * ms, 900 * ms, true, CauseRunning},
		{"ran half the hold", 80 * ms, "", false, 40 * ms, true, 0, 0, true, CauseRunning},
		{"caught runnable, no CPU", 300 * ms, "", true, 0, true, 0, 0, true, CauseWaitingForCPU},
		{"caught runnable, a little CPU", 300 * ms, "", true, 20 * ms, true, 0, 0, true, CauseWaitingForCPU},
		{"never caught, no CPU, scheduler lagged through it", 200 * ms, "", false, 0, true, 190 * ms, 190 * ms, true, CauseWaitingForCPU},
		{"never caught, no CPU, scheduler lagged through most of it", 200 * ms, "", false, 10 * ms, true, 110 * ms, 110 * ms, true, CauseWaitingForCPU},
		// Saturated: runnable goroutines waited 60 ms at a time all
		// through a 190 ms hold. A holder waiting for a processor would
		// have had it three times over: it was parked, uncaught.
		{"never caught, no CPU, held three times the longest wait", 190 * ms, "", false, 0, true, 180 * ms, 60 * ms, true, CauseBlocked},
		{"never caught, no CPU, held about the longest wait", 70 * ms, "", false, 0, true, 60 * ms, 60 * ms, true, CauseWaitingForCPU},
		{"never caught, no CPU, scheduler fine", 200 * ms, "", false, 0, true, 50 * ms, 0, true, CauseBlocked},
		{"never caught, no CPU, a short hold, scheduler fine", 80 * ms, "", false, 0, true, 0, 0, true, ""},
		{"never caught, no CPU, lags not measured", 200 * ms, "", false, 0, true, 0, 0, false, ""},
		{"never caught, between CPU windows, scheduler lagging", 200 * ms, "", false, 0, false, 150 * ms, 150 * ms, true, CauseWaitingForCPU},
		{"never caught, between CPU windows, scheduler fine", 200 * ms, "", false, 0, false, 0, 0, true, ""},
		{"caught runnable, between CPU windows, scheduler fine", 300 * ms, "", true, 0, false, 0, 0, true, ""},
	}
	for _, tt := range tests {
		if got := verdict(tt.blocked, thr, tt.parked, tt.runnable, tt.cpu, tt.seen, tt.lagged, tt.worst, tt.measured); got != tt.want {
			t.Errorf("%s: verdict = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestStarvedBy(t *testing.T) {
	got := starvedBy(CPUSeen{Total: 200, BySession: map[string]int64{"hog-a": 100, "hog-b": 60, "c": 20, "d": 10, "tiny": 1, "": 9}}, "victim")
	if len(got) != 3 || got["hog-a"] != 50 || got["hog-b"] != 30 || got["c"] != 10 {
		t.Errorf("starvedBy = %v, want the three largest as percentages", got)
	}
	// The victim's own turns on the CPU are not what starved it, even when
	// they are among the largest.
	got = starvedBy(CPUSeen{Total: 200, BySession: map[string]int64{"hog-a": 100, "victim": 60, "c": 20, "d": 10}}, "victim")
	if _, self := got["victim"]; self || len(got) != 3 || got["d"] != 5 {
		t.Errorf("starvedBy = %v, want the three largest other than the victim", got)
	}
	if starvedBy(CPUSeen{}, "") != nil {
		t.Error("starvedBy of no samples")
	}
}
