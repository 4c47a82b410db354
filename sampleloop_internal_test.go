package introspect

import "testing"

// The goroutine profile is taken at a fifth of its pace only while its
// answer cannot have moved much: the same sessions, about as many
// goroutines.
func TestGoroutinesMoved(t *testing.T) {
	sl := &sampleLoop{gorTotal: 1000, gorEpoch: 7}
	for _, c := range []struct {
		total int
		epoch uint64
		want  bool
	}{
		{1000, 7, false},
		{1004, 7, false}, // a socket client, a profile's helper
		{996, 7, false},
		{1006, 7, true}, // a leak of a few goroutines
		{990, 7, true},
		{1000, 8, true}, // a session began or ended
	} {
		if got := sl.goroutinesMoved(c.total, c.epoch); got != c.want {
			t.Errorf("goroutinesMoved(%d, %d) after 1000 goroutines at epoch 7 = %v, want %v", c.total, c.epoch, got, c.want)
		}
	}
	small := &sampleLoop{gorTotal: 10}
	if small.goroutinesMoved(12, 0) || !small.goroutinesMoved(13, 0) {
		t.Error("at 10 goroutines, a change of 3 should count and of 2 should not")
	}
}
