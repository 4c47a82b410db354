package stall

import (
	"context"
	"runtime/pprof"
	"testing"
	"time"
)

// The watchdog does not tick: idle, it sleeps until a hold begins; over a
// busy loop of short holds it checks about once per threshold; and a hold
// begun while it slept is still reported as it crosses the threshold.
func TestWatchdogWakesOnlyWhenNeeded(t *testing.T) {
	reports := make(chan Stall, 16)
	w := New(Options{Report: func(s Stall) { reports <- s }})
	defer w.Close()
	l := w.Loop("mixer")
	ctx := pprof.WithLabels(context.Background(), pprof.Labels(LabelSession, "call-1"))
	pprof.SetGoroutineLabels(ctx)
	defer pprof.SetGoroutineLabels(context.Background())

	// Idle: the first timed check finds nothing and it sleeps (two checks:
	// the second after publishing that it sleeps).
	time.Sleep(400 * time.Millisecond)
	if n := w.checks.Load(); n > 2 {
		t.Errorf("idle for 400ms: %d checks, want at most 2 (a ticker at %v would make 16)", n, w.opts.Interval)
	}

	// Busy with short holds: woken by the first, then a check about every
	// threshold, never more often than every Interval.
	before := w.checks.Load()
	const busy = 500 * time.Millisecond
	for end := time.Now().Add(busy); time.Now().Before(end); {
		leave := l.Enter(ctx)
		leave()
		time.Sleep(time.Millisecond)
	}
	n := w.checks.Load() - before
	if max := int64(busy/w.opts.Interval) + 4; n > max {
		t.Errorf("busy for %v: %d checks, want at most %d", busy, n, max)
	}
	if n < 2 {
		t.Errorf("busy for %v: %d checks, want the watchdog woken and checking", busy, n)
	}

	// Asleep again, a long hold wakes it and is reported as it crosses.
	time.Sleep(200 * time.Millisecond)
	begin := time.Now()
	leave := l.Enter(ctx)
	var first Stall
	select {
	case first = <-reports:
	case <-time.After(10 * time.Second):
		t.Fatal("no report of a hold begun while the watchdog slept")
	}
	after := time.Since(begin)
	leave()
	if !first.Ongoing || first.Session != "call-1" {
		t.Errorf("first report %+v, want an ongoing stall of call-1", first)
	}
	if after < w.opts.Threshold {
		t.Errorf("reported after %v, before the threshold %v", after, w.opts.Threshold)
	}
	t.Logf("reported %v after the hold began (threshold %v); %d checks while busy", after, w.opts.Threshold, n)
}
