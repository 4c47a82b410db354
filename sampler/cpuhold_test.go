package sampler

import (
	"bytes"
	"context"
	"runtime/pprof"
	"sync/atomic"
	"testing"
	"time"
)

// The samples of a goroutine carrying the hold label are counted under its
// value, and a goroutine without it is not.
func TestParseCPUWindowCountsHolds(t *testing.T) {
	var buf bytes.Buffer
	if err := pprof.StartCPUProfile(&buf); err != nil {
		t.Skip("CPU profile in use:", err)
	}
	var stop atomic.Bool
	spin := func(labels ...string) chan struct{} {
		done := make(chan struct{})
		go pprof.Do(context.Background(), pprof.Labels(labels...), func(context.Context) {
			defer close(done)
			for x := 0; !stop.Load(); x++ {
			}
		})
		return done
	}
	a := spin("session", "job-a", "openrtc_hold", "41")
	b := spin("session", "job-b")
	time.Sleep(300 * time.Millisecond)
	stop.Store(true)
	<-a
	<-b
	pprof.StopCPUProfile()

	w, err := parseCPUWindowHolds(buf.Bytes(), 0, "openrtc_hold")
	if err != nil {
		t.Fatal(err)
	}
	if w.ByHold["41"] == 0 || w.ByHold["41"] != w.BySession["job-a"] || len(w.ByHold) != 1 {
		t.Errorf("ByHold = %v, BySession = %v: want job-a's samples under hold 41 and nothing else", w.ByHold, w.BySession)
	}
	if w, _ := parseCPUWindow(buf.Bytes(), 0); w.ByHold != nil {
		t.Errorf("ByHold = %v without a hold label", w.ByHold)
	}
}
