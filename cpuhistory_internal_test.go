package introspect

import (
	"testing"
	"time"

	"github.com/openrtc-go/introspect/sampler"
)

// TestCPUHistoryUsualAndAfter checks the two rates a scheduler stall is
// blamed by: a session's usual rate is the median of the windows before
// (an earlier surge does not move it), and the window after is the one
// that began when the stall's windows ended, never one of them.
func TestCPUHistoryUsualAndAfter(t *testing.T) {
	t0 := time.Date(2026, 12, 6, 3, 12, 0, 0, time.UTC)
	var h cpuHistory
	win := func(from, dur time.Duration, by map[string]int64) {
		h.add(sampler.CPUWindow{Start: t0.Add(from), Duration: dur, BySession: by, Period: 10 * time.Millisecond})
	}
	for k := range 4 {
		by := map[string]int64{"hog": 250}
		if k == 1 {
			by["codec"] = 60 // an earlier spin
		}
		win(time.Duration(k)*5*time.Second, 5*time.Second, by)
	}
	win(20*time.Second+3*time.Millisecond, time.Second, map[string]int64{"hog": 50, "codec": 60}) // a short window: the stall's
	win(21*time.Second+5*time.Millisecond, 5*time.Second, map[string]int64{"hog": 250})

	u := h.usual(t0.Add(20*time.Second + 500*time.Millisecond))
	if u.Over != 20*time.Second || u.PerSecond["hog"] != 50 || u.PerSecond["codec"] != 0 {
		t.Errorf("usual = %+v, want 20s of windows, hog at 50/s, codec at its median 0", u)
	}
	// Lags whose usual rates read the same windows share them.
	if a, b := h.usualKey(t0.Add(20*time.Second+500*time.Millisecond)), h.usualKey(t0.Add(20*time.Second+900*time.Millisecond)); a != b {
		t.Errorf("usualKey differs within one window: %v, %v", a, b)
	}
	if a, b := h.usualKey(t0.Add(20*time.Second+500*time.Millisecond)), h.usualKey(t0.Add(21*time.Second+500*time.Millisecond)); a == b {
		t.Errorf("usualKey is %v before and after a window ended", a)
	}
	stallEnd := t0.Add(21*time.Second + 3*time.Millisecond)
	after := h.after(stallEnd)
	if after == nil || after["hog"] != 50 || after["codec"] != 0 {
		t.Errorf("after(%v) = %v, want the 5 s window that began then", stallEnd, after)
	}
	if got := h.after(t0.Add(26*time.Second + 5*time.Millisecond)); got != nil {
		t.Errorf("after the last window = %v, want nil: it has not come", got)
	}
}
