//go:build linux

package truth

import (
	"testing"
	"time"
)

// TestMeasureProfilerBias checks the measurement itself: each kind of work
// is seen in the profile, under its label, in the order of its truth. A
// label lost or a clock misread reads 0 or a multiple.
func TestMeasureProfilerBias(t *testing.T) {
	if testing.Short() {
		t.Skip("burns two seconds of CPU")
	}
	b, err := MeasureProfilerBias(2*time.Second, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(b)
	for name, r := range map[string]float64{"pool": b.Pool, "hog": b.Hog, "free": b.Free} {
		if r < 0.5 || r > 1.5 {
			t.Errorf("%s: the profile saw %.0f %% of its truth", name, 100*r)
		}
	}
}
