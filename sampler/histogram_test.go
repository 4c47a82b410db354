package sampler

import (
	"math"
	"testing"
	"time"
)

func TestHistogramSummaries(t *testing.T) {
	inf := math.Inf(1)
	buckets := []float64{math.Inf(-1), 0, 1, 2, 4, 8, inf}
	tests := []struct {
		name          string
		counts        []uint64
		p50, p99, max float64
		sum           float64
	}{
		{name: "empty", counts: []uint64{0, 0, 0, 0, 0, 0}},
		{name: "one bucket", counts: []uint64{0, 0, 0, 4, 0, 0}, p50: 3, p99: 3.98, max: 4, sum: 12},
		{name: "spread", counts: []uint64{0, 50, 0, 49, 1, 0}, p50: 1, p99: 4, max: 8, sum: 50*0.5 + 49*3 + 6},
		{name: "open top bucket", counts: []uint64{0, 0, 0, 0, 0, 2}, p50: 8, p99: 8, max: 8, sum: 16},
		{name: "open bottom bucket", counts: []uint64{2, 0, 0, 0, 0, 0}, p50: 0, p99: 0, max: 0, sum: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, c := range []struct {
				what      string
				got, want float64
			}{
				{"p50", histQuantile(tt.counts, buckets, 0.5), tt.p50},
				{"p99", histQuantile(tt.counts, buckets, 0.99), tt.p99},
				{"max", histMax(tt.counts, buckets), tt.max},
				{"sum", histSum(tt.counts, buckets), tt.sum},
			} {
				if math.Abs(c.got-c.want) > 1e-9 {
					t.Errorf("%s = %v, want %v", c.what, c.got, c.want)
				}
			}
		})
	}
}

func TestDiffCounts(t *testing.T) {
	out := make([]uint64, 4)
	diffCounts(out, []uint64{1, 5, 2}, []uint64{3, 5, 1, 7})
	want := []uint64{2, 0, 0, 7} // a bucket that went down counts as zero
	for i := range want {
		if out[i] != want[i] {
			t.Fatalf("diffCounts = %v, want %v", out, want)
		}
	}
}

func TestSeconds(t *testing.T) {
	if got := seconds(1.5e-6); got != 1500*time.Nanosecond {
		t.Errorf("seconds(1.5e-6) = %v", got)
	}
}
