package introspect_test

import (
	"context"
	"runtime"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openrtc-go/introspect"
	"github.com/openrtc-go/introspect/events"
)

// Culprit or victim: a holder that blocked or ran is blamed with its cause;
// a holder that was ready to run and waited for the CPU that CPU hogs were
// eating is reported as waiting for CPU, with the hogs named.
func TestCulpritOrVictim(t *testing.T) {
	in, logs, _ := start(t, introspect.Options{CPUWindow: 250 * time.Millisecond, Socket: introspect.SocketOff})
	mixer := in.Loop("mixer")
	final := func(session string) events.SlowSession {
		t.Helper()
		return waitFor(t, logs, func(e events.SlowSession) bool { return !e.Ongoing && e.SessionID == session })
	}
	// caught reports whether a profile has caught session's holder: a hold
	// lasts until then (or 3s), as long as a wedged holder would, since
	// the watchdog's profile budget may be spent on a loaded machine.
	caught := func(session string) func() bool {
		deadline := time.Now().Add(3 * time.Second)
		return func() bool {
			if time.Now().After(deadline) {
				return true
			}
			for _, d := range logs.records(t) {
				if e, ok := d.Event.(events.SlowSession); ok && e.SessionID == session && e.FrameFrom == events.FrameHolder {
					return true
				}
			}
			return false
		}
	}

	// Blocked: sleeps while it holds.
	sleeper, endSleeper := in.Begin(context.Background(), "job-sleeps")
	func() {
		defer mixer.Enter(sleeper)()
		for done := caught("job-sleeps"); !done(); {
			time.Sleep(100 * time.Millisecond)
		}
	}()
	endSleeper(nil)
	if e := final("job-sleeps"); e.Cause != events.CauseBlocked || e.Wait != "sleep" {
		t.Errorf("sleeping holder: cause %q wait %q, want blocked on sleep (%+v)", e.Cause, e.Wait, e)
	}

	// Running: works while it holds until its own thread has used 200ms of
	// CPU, however loaded the machine.
	if _, ok := holderThreadCPU(); ok {
		spinner, endSpinner := in.Begin(context.Background(), "job-spins")
		func() {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			defer mixer.Enter(spinner)()
			for c0, _ := holderThreadCPU(); ; {
				work(2000)
				if c, _ := holderThreadCPU(); c-c0 >= 200*time.Millisecond {
					break
				}
			}
		}()
		endSpinner(nil)
		if e := final("job-spins"); e.Cause != events.CauseRunning || !e.HoldCPUSeen || e.HoldCPU <= 0 {
			t.Errorf("spinning holder: cause %q, hold CPU %v (seen %v), want running (%+v)", e.Cause, e.HoldCPU, e.HoldCPUSeen, e)
		}
	}

	// Waiting for CPU: two hog sessions run two busy goroutines per P
	// each, and a session that holds the mixer for microseconds of work at
	// a time, yielding between them as a preempted goroutine would, waits
	// in the run queue behind them.
	var stop atomic.Bool
	var hogs sync.WaitGroup
	for _, id := range []string{"hog-a", "hog-b"} {
		ctx, end := in.Begin(context.Background(), id)
		defer end(nil)
		for range 2 * runtime.GOMAXPROCS(0) {
			hogs.Go(func() {
				pprof.SetGoroutineLabels(ctx)
				for !stop.Load() {
					work(1000)
				}
			})
		}
	}
	time.Sleep(300 * time.Millisecond)
	victim, endVictim := in.Begin(context.Background(), "job-starved")
	func() {
		defer mixer.Enter(victim)()
		done := caught("job-starved")
		for begin := time.Now(); time.Since(begin) < 300*time.Millisecond || !done(); {
			for range 5 {
				work(10)
				runtime.Gosched()
			}
		}
	}()
	endVictim(nil)
	e := final("job-starved")
	stop.Store(true)
	hogs.Wait()
	t.Logf("starved holder: %+v", e)
	if e.Cause != events.CauseWaitingForCPU {
		t.Errorf("starved holder: cause %q, want %q (hold CPU %v)", e.Cause, events.CauseWaitingForCPU, e.HoldCPU)
	}
	if e.StarvedBy["hog-a"] == 0 && e.StarvedBy["hog-b"] == 0 {
		t.Errorf("starved_by = %v, want the hogs", e.StarvedBy)
	}
	if _, self := e.StarvedBy["job-starved"]; self {
		t.Errorf("starved_by = %v names the victim", e.StarvedBy)
	}
}

var workSink atomic.Uint64

// work does n small steps of arithmetic.
func work(n int) {
	x := uint64(1)
	for i := range n {
		x = x*6364136223846793005 + uint64(i)
	}
	workSink.Add(x)
}
