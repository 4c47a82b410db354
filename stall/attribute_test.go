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
	s := stall.SchedStall(lag, map[string]int64{"job-hot": 45, "job-2": 5}, 50)
	if s.ID != 42 || s.Blocked != 300*time.Millisecond || !s.Start.Equal(start) || s.Source != stall.SourceScheduler ||
		s.Session != "job-hot" || s.Confidence != 0.9 || s.Ongoing {
		t.Errorf("SchedStall = %+v, want stall 42 of 300ms from the scheduler blamed on job-hot (0.9)", s)
	}
	lag.Ongoing = true
	if s := stall.SchedStall(lag, nil, 0); !s.Ongoing || s.Session != "" || s.Confidence != 0 {
		t.Errorf("SchedStall with no CPU = %+v, want ongoing and unattributed", s)
	}
}
