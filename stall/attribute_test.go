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
	end := time.Date(2026, 3, 1, 3, 12, 0, 0, time.UTC)
	cpu := map[string]int64{"job-hot": 45, "job-2": 5}
	tests := []struct {
		name        string
		win         stall.SchedWindow
		threshold   time.Duration
		want        bool
		wantBlocked time.Duration
		wantSession string
	}{
		{"quiet", stall.SchedWindow{End: end, ProbeWorst: time.Millisecond, LatencyMax: 2 * time.Millisecond}, 0, false, 0, ""},
		{"probe over default threshold", stall.SchedWindow{End: end, ProbeWorst: 80 * time.Millisecond, CPUBySession: cpu, CPUTotal: 50}, 0, true, 80 * time.Millisecond, "job-hot"},
		{"runtime metric over", stall.SchedWindow{End: end, ProbeWorst: 10 * time.Millisecond, LatencyMax: 134 * time.Millisecond, CPUTotal: 50}, 0, true, 134 * time.Millisecond, ""},
		{"custom threshold", stall.SchedWindow{End: end, ProbeWorst: 30 * time.Millisecond}, 20 * time.Millisecond, true, 30 * time.Millisecond, ""},
		{"exactly the threshold", stall.SchedWindow{End: end, ProbeWorst: 50 * time.Millisecond}, 0, true, 50 * time.Millisecond, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, ok := stall.SchedStall(tt.win, tt.threshold)
			if ok != tt.want {
				t.Fatalf("SchedStall ok = %v, want %v (%v)", ok, tt.want, s)
			}
			if !ok {
				return
			}
			if s.Blocked != tt.wantBlocked || s.Session != tt.wantSession || s.Source != stall.SourceScheduler ||
				s.Ongoing || s.ID == 0 || !s.Start.Equal(end.Add(-tt.wantBlocked)) {
				t.Errorf("SchedStall = %+v, want blocked %v session %q from the scheduler", s, tt.wantBlocked, tt.wantSession)
			}
			if (s.Session == "") != (s.Confidence == 0) {
				t.Errorf("Confidence %v with session %q", s.Confidence, s.Session)
			}
		})
	}
	a, _ := stall.SchedStall(stall.SchedWindow{ProbeWorst: time.Second}, 0)
	b, _ := stall.SchedStall(stall.SchedWindow{ProbeWorst: time.Second}, 0)
	if a.ID == b.ID {
		t.Errorf("two scheduler stalls share ID %d", a.ID)
	}
}
