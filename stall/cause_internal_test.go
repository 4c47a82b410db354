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
		want     string
	}{
		{"parked on a channel", 300 * ms, "chan receive", false, 0, true, 0, CauseBlocked},
		{"parked, whatever the CPU says", 300 * ms, "sleep", true, 250 * ms, true, 0, CauseBlocked},
		{"its own work is a stall", 900 * ms, "", true, 60 * ms, true, 900 * ms, CauseRunning},
		{"ran half the hold", 80 * ms, "", false, 40 * ms, true, 0, CauseRunning},
		{"caught runnable, no CPU", 300 * ms, "", true, 0, true, 0, CauseWaitingForCPU},
		{"caught runnable, a little CPU", 300 * ms, "", true, 20 * ms, true, 0, CauseWaitingForCPU},
		{"never caught, no CPU, scheduler lagged through it", 200 * ms, "", false, 0, true, 190 * ms, CauseWaitingForCPU},
		{"never caught, no CPU, scheduler lagged through most of it", 200 * ms, "", false, 10 * ms, true, 110 * ms, CauseWaitingForCPU},
		{"never caught, no CPU, scheduler fine", 200 * ms, "", false, 0, true, 50 * ms, ""},
		{"never caught, between CPU windows, scheduler lagging", 200 * ms, "", false, 0, false, 150 * ms, CauseWaitingForCPU},
		{"caught runnable, between CPU windows, scheduler fine", 300 * ms, "", true, 0, false, 0, ""},
	}
	for _, tt := range tests {
		if got := verdict(tt.blocked, thr, tt.parked, tt.runnable, tt.cpu, tt.seen, tt.lagged); got != tt.want {
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
