package stall_test

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openrtc-go/introspect/stall"
)

// busy spins without blocking until stop is set.
func busy(stop *atomic.Bool) {
	for x := 0; !stop.Load(); x++ {
	}
}

func TestSchedProbeSeesSaturation(t *testing.T) {
	p := &stall.SchedProbe{Interval: 5 * time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	var probing sync.WaitGroup
	probing.Go(func() { p.Run(ctx) })
	defer func() { cancel(); probing.Wait() }()

	time.Sleep(200 * time.Millisecond)
	idle := p.Worst()

	// Four runnable goroutines per P keep every run queue loaded; the
	// probe must wait behind them.
	var stop atomic.Bool
	var spinning sync.WaitGroup
	for range 4 * runtime.GOMAXPROCS(0) {
		spinning.Go(func() { busy(&stop) })
	}
	time.Sleep(time.Second)
	loaded := p.Worst()
	stop.Store(true)
	spinning.Wait()

	t.Logf("worst run-queue delay: idle %v, saturated %v", idle, loaded)
	if loaded < time.Millisecond {
		t.Errorf("saturated worst delay = %v, want a clearly positive delay (≥1ms)", loaded)
	}
}

func TestSchedProbeZeroValueStops(t *testing.T) {
	var p stall.SchedProbe
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	p.Run(ctx) // returns when ctx is done
	if w := p.Worst(); w < 0 {
		t.Errorf("Worst = %v", w)
	}
}
