package introspect_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/openrtc-go/introspect"
	"github.com/openrtc-go/introspect/events"
	"github.com/openrtc-go/introspect/live"
)

// windowLog keeps the length of every CPU window the samples carry.
type windowLog struct {
	mu sync.Mutex
	ds []time.Duration
}

func (l *windowLog) Observe(d events.Decoded) {
	if s, ok := d.Event.(events.Sample); ok && s.CPU.Duration > 0 {
		l.mu.Lock()
		l.ds = append(l.ds, s.CPU.Duration)
		l.mu.Unlock()
	}
}

func (l *windowLog) since(n int) []time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]time.Duration(nil), l.ds[min(n, len(l.ds)):]...)
}

// With CPUWindow left to its default, the CPU profiler runs in long
// windows (each restart costs about 2 MB of garbage), and in windows of the
// sample interval once someone reads the live view.
func TestCPUWindowsShortWhileWatched(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for a 5 s CPU window")
	}
	var log windowLog
	_, _, sock := start(t, introspect.Options{SampleInterval: 200 * time.Millisecond, Observers: []introspect.Observer{&log}})

	// Unwatched: the first window is a long one.
	deadline := time.Now().Add(20 * time.Second)
	for len(log.since(0)) == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	first := log.since(0)
	if len(first) == 0 || first[0] < 4*time.Second {
		t.Fatalf("unwatched CPU windows %v, want the first about 5s", first)
	}

	// Watched: once the window under way ends, they follow the sample
	// interval.
	n := len(first)
	short := 0
	for time.Now().Before(deadline) && short < 3 {
		if _, err := live.Fetch(context.Background(), sock); err != nil {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond)
		short = 0
		for _, d := range log.since(n) {
			if d < time.Second {
				short++
			}
		}
	}
	if short < 3 {
		t.Errorf("watched CPU windows %v, want windows of about 200ms", log.since(n))
	}
}
