package stall_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/pprof/profile"
	"github.com/openrtc-go/introspect/stall"
)

// sleepLine is the line of the time.Sleep call in holdFor.
var sleepLine int

// holdFor holds l for d on behalf of ctx's session, sleeping inside the hold
// as a synchronous call would, and sets ending just before it leaves. If
// until is not nil, the hold also lasts until it is closed.
func holdFor(ctx context.Context, l *stall.Loop, d time.Duration, ending *atomic.Bool, until <-chan struct{}) {
	leave := l.Enter(ctx)
	time.Sleep(here(&sleepLine, d))
	if until != nil {
		<-until
	}
	ending.Store(true)
	leave()
}

func TestHoldReportedWhileOngoingThenFinal(t *testing.T) {
	r := newReports()
	w := stall.New(stall.Options{Report: r.report})
	defer w.Close()
	loop := w.Loop("room-loop")

	// The hold lasts 200ms, and until the first ongoing report arrives:
	// normally 75ms in, but a starved shared box may delay the watchdog
	// past 200ms. A watchdog that only reported holds after they end
	// would never report this one.
	const hold = 200 * time.Millisecond
	var ending atomic.Bool
	reported := make(chan struct{})
	begin := time.Now()
	done := inSession(sessionCtx("job-c1d550", "voice"), func(ctx context.Context) {
		holdFor(ctx, loop, hold, &ending, reported)
	})

	first := r.next(t, ongoing)
	close(reported)
	if ending.Load() {
		t.Errorf("first ongoing report arrived after the hold ended: %v", first)
	}
	t.Logf("ongoing after %v: %v", time.Since(begin), first)
	<-done
	last := r.next(t, final)
	t.Logf("final: %v stack=%q", last, last.Stack)

	if last.ID != first.ID {
		t.Errorf("final ID %d, ongoing ID %d: one stall must keep one ID", last.ID, first.ID)
	}
	for _, s := range []stall.Stall{first, last} {
		if s.Session != "job-c1d550" || s.Agent != "voice" || s.Source != "room-loop" || s.Confidence != 1 {
			t.Errorf("report = %+v, want session job-c1d550, agent voice, source room-loop, confidence 1", s)
		}
	}
	if first.Blocked < w.Threshold() || first.Blocked > hold {
		t.Errorf("ongoing Blocked = %v, want between the threshold and the hold", first.Blocked)
	}
	if last.Blocked < hold || last.Blocked > hold+2*time.Second {
		t.Errorf("final Blocked = %v, want %v (and not absurdly more)", last.Blocked, hold)
	}
	if last.Start.Before(begin) || last.Start.After(begin.Add(time.Second)) {
		t.Errorf("Start = %v, hold began about %v", last.Start, begin)
	}
	wantFrame := fmt.Sprintf("stall/watchdog_test.go:%d stall_test.holdFor", sleepLine)
	if last.Frame != wantFrame || first.Frame != wantFrame {
		t.Errorf("Frame = %q (ongoing %q), want %q", last.Frame, first.Frame, wantFrame)
	}
	if len(last.Stack) < 2 || !strings.HasSuffix(last.Stack[0], " time.Sleep") || last.Stack[1] != wantFrame {
		t.Errorf("Stack = %q, want time.Sleep then holdFor", last.Stack)
	}
	if len(last.Stack) > 8 {
		t.Errorf("Stack has %d frames, want at most 8", len(last.Stack))
	}
}

// spin keeps the CPU busy inside the hold until stop is set.
func spin(stop *atomic.Bool) (n int) {
	for !stop.Load() {
		n++
	}
	return n
}

func TestWedgedHolderReportedUntilReleased(t *testing.T) {
	r := newReports()
	w := stall.New(stall.Options{Report: r.report})
	defer w.Close()
	mixer := w.Loop("mixer")

	var release atomic.Bool
	done := inSession(sessionCtx("job-wedged", "voice"), func(ctx context.Context) {
		leave := mixer.Enter(ctx)
		defer leave()
		spin(&release)
	})

	// The doubling backoff gives reports at about 50ms, 100ms and 200ms.
	var seen []stall.Stall
	for len(seen) < 3 {
		seen = append(seen, r.next(t, ongoing))
	}
	release.Store(true)
	<-done
	last := r.next(t, final)

	for i, s := range seen {
		if s.ID != last.ID || s.Session != "job-wedged" {
			t.Errorf("ongoing report %d = %v, want stall %d of job-wedged", i, s, last.ID)
		}
		if i > 0 && s.Blocked < 2*seen[i-1].Blocked {
			t.Errorf("report %d Blocked %v, want at least double the previous %v", i, s.Blocked, seen[i-1].Blocked)
		}
		if !strings.Contains(s.Frame, "stall/watchdog_test.go:") || !strings.HasSuffix(s.Frame, "stall_test.spin") {
			t.Errorf("report %d Frame = %q, want stall_test.spin in watchdog_test.go", i, s.Frame)
		}
	}
	if last.Blocked < seen[len(seen)-1].Blocked {
		t.Errorf("final Blocked %v < last ongoing %v", last.Blocked, seen[len(seen)-1].Blocked)
	}
}

func TestShortHoldsAreNotStalls(t *testing.T) {
	r := newReports()
	w := stall.New(stall.Options{Report: r.report})
	loop := w.Loop("dispatcher")
	ctx := sessionCtx("job-idle", "voice")

	// An idle worker: one short piece of work every 10ms for a second.
	<-inSession(ctx, func(ctx context.Context) {
		for end := time.Now().Add(time.Second); time.Now().Before(end); {
			leave := loop.Enter(ctx)
			_ = strings.Repeat("x", 64)
			leave()
			time.Sleep(10 * time.Millisecond)
		}
	})
	w.Close()
	if got := r.snapshot(); len(got) != 0 {
		t.Errorf("idle worker reported %d stalls: %v", len(got), got)
	}
}

// holdLabelled reports whether any goroutine carries stall.HoldLabel.
func holdLabelled(t *testing.T) bool {
	t.Helper()
	var b strings.Builder
	if err := pprof.Lookup("goroutine").WriteTo(&b, 0); err != nil {
		t.Fatal(err)
	}
	p, err := profile.Parse(strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range p.Sample {
		if len(s.Label[stall.HoldLabel]) > 0 {
			return true
		}
	}
	return false
}

func TestLeaveTwiceIsHarmless(t *testing.T) {
	r := newReports()
	w := stall.New(stall.Options{Report: r.report})
	loop := w.Loop("room-loop")
	ctx := sessionCtx("job-twice", "voice")

	<-inSession(ctx, func(ctx context.Context) {
		leave := loop.Enter(ctx)
		time.Sleep(120 * time.Millisecond)
		leave()
		leave()
		if holdLabelled(t) {
			t.Error("a goroutine still carries the hold label after leave")
		}
		if v, _ := pprof.Label(ctx, "session"); v != "job-twice" {
			t.Errorf("ctx session label = %q", v)
		}
		leave()
	})
	w.Close() // drains final reports
	finals := 0
	for _, s := range r.snapshot() {
		if !s.Ongoing {
			finals++
		}
	}
	if finals != 1 {
		t.Errorf("got %d final reports, want 1: %v", finals, r.snapshot())
	}
}

// Holds are recycled: a leave called again after its hold ended must not
// end a later hold, which may be the same one reused.
func TestStaleLeaveDoesNotEndALaterHold(t *testing.T) {
	r := newReports()
	w := stall.New(stall.Options{Report: r.report})
	defer w.Close()
	loop := w.Loop("room-loop")
	mu := w.Mutex("room-lock")

	<-inSession(sessionCtx("job-stale", "voice"), func(ctx context.Context) {
		var stale []func()
		for range 100 {
			leave := loop.Enter(ctx)
			leave()
			stale = append(stale, leave)
			mu.LockCtx(ctx)
			mu.Unlock()
		}
		leave := loop.Enter(ctx)
		mu.LockCtx(ctx)
		for _, l := range stale {
			l()
		}
		if !holdLabelled(t) {
			t.Error("a stale leave ended a later hold: no goroutine carries the hold label")
		}
		time.Sleep(120 * time.Millisecond)
		mu.Unlock()
		leave()
	})
	w.Close() // drains final reports
	for _, source := range []string{"room-loop", "room-lock"} {
		found := false
		for _, s := range r.snapshot() {
			if !s.Ongoing && s.Source == source {
				found = true
				if s.Session != "job-stale" || s.Blocked < 100*time.Millisecond {
					t.Errorf("final report %v, want job-stale held %s for 120ms", s, source)
				}
			}
		}
		if !found {
			t.Errorf("no final report of %s: %v", source, r.snapshot())
		}
	}
}

func TestConcurrentHoldsOfOneLoop(t *testing.T) {
	r := newReports()
	w := stall.New(stall.Options{Report: r.report})
	loop := w.Loop("fanout")

	var wg sync.WaitGroup
	for i := range 50 {
		wg.Add(1)
		ctx := sessionCtx(fmt.Sprintf("job-%d", i), "voice")
		go func() {
			defer wg.Done()
			pprof.SetGoroutineLabels(ctx)
			for range 200 {
				loop.Enter(ctx)()
			}
		}()
	}
	slow := inSession(sessionCtx("job-slow", "voice"), func(ctx context.Context) {
		var ending atomic.Bool
		holdFor(ctx, loop, 100*time.Millisecond, &ending, nil)
	})
	wg.Wait()
	<-slow
	w.Close()
	// A fast holder preempted on this busy box may stall too; only the
	// slow one must be reported, with its own stack.
	found := false
	for _, s := range r.snapshot() {
		if s.Session != "job-slow" {
			t.Logf("also reported: %v", s)
			continue
		}
		found = true
		// An ongoing report may lack a stack when stalls of the fast
		// holders spent the capture budget; the final one has at least
		// the place where the hold was left.
		if (s.Frame != "" || !s.Ongoing) && !strings.HasSuffix(s.Frame, "stall_test.holdFor") {
			t.Errorf("job-slow's Frame = %q, want holdFor", s.Frame)
		}
		if !s.Ongoing && s.Blocked < 100*time.Millisecond {
			t.Errorf("job-slow's final Blocked = %v, want at least 100ms", s.Blocked)
		}
	}
	if !found {
		t.Error("the 100ms hold was not reported")
	}
}

func TestUnlabelledHolderIsUnattributed(t *testing.T) {
	r := newReports()
	w := stall.New(stall.Options{Report: r.report, MaxStackCaptures: -1})
	defer w.Close()
	leave := w.Loop("gc-loop").Enter(context.Background())
	s := r.next(t, ongoing)
	leave()
	if s.Session != "" || s.Confidence != 0 || s.Frame != "" {
		t.Errorf("unlabelled hold = %+v, want no session, confidence 0, and no frame with captures off", s)
	}
	last := r.next(t, final)
	// With no profile, the final report says where the hold ended.
	if !strings.Contains(last.Frame, "stall/watchdog_test.go:") {
		t.Errorf("final Frame = %q, want the leave call site in this file", last.Frame)
	}
}

func TestMutexBlamesTheHolderNotTheWaiters(t *testing.T) {
	r := newReports()
	w := stall.New(stall.Options{Report: r.report})
	m := w.Mutex("global-lock")

	// job-hog takes the lock for 150ms while the others pile up behind it.
	locked := make(chan struct{})
	hog := inSession(sessionCtx("job-hog", "voice"), func(ctx context.Context) {
		m.LockCtx(ctx)
		close(locked)
		time.Sleep(150 * time.Millisecond)
		m.Unlock()
	})
	<-locked

	const workers, rounds = 8, 100
	var counter int
	var wg sync.WaitGroup
	for i := range workers {
		wg.Add(1)
		ctx := sessionCtx(fmt.Sprintf("job-%d", i), "voice")
		go func() {
			defer wg.Done()
			pprof.SetGoroutineLabels(ctx)
			lk := m.Locker(ctx)
			for range rounds {
				lk.Lock()
				counter++
				lk.Unlock()
			}
		}()
	}
	wg.Wait()
	<-hog
	if ok := m.TryLockCtx(context.Background()); !ok {
		t.Error("TryLockCtx failed on a free mutex")
	} else {
		m.Unlock()
	}
	w.Close()

	if counter != workers*rounds {
		t.Errorf("counter = %d, want %d: the mutex did not exclude", counter, workers*rounds)
	}
	got := r.snapshot()
	if len(got) == 0 {
		t.Fatal("the 150ms hold was not reported")
	}
	for _, s := range got {
		if s.Session != "job-hog" || s.Source != "global-lock" {
			t.Errorf("stall %v, want job-hog on global-lock", s)
		}
	}
	if last := got[len(got)-1]; last.Ongoing || last.Blocked < 150*time.Millisecond {
		t.Errorf("last report %v, want the final one with at least 150ms", last)
	}
}

func TestCloseIsIdempotentAndLoopsOutliveIt(t *testing.T) {
	w := stall.New(stall.Options{Report: func(stall.Stall) {}})
	l := w.Loop("x")
	if w.Loop("x") != l {
		t.Error("Loop returned a different loop for the same name")
	}
	w.Close()
	w.Close()
	l.Enter(sessionCtx("job", "a"))()
}

func TestStallString(t *testing.T) {
	tests := []struct {
		s    stall.Stall
		want string
	}{
		{stall.Stall{Session: "job-c1d550", Source: "event loop", Blocked: 320 * time.Millisecond},
			"[slow-session] session_id=job-c1d550 blocked event loop for 320ms"},
		{stall.Stall{Source: stall.SourceScheduler, Blocked: 75400 * time.Microsecond, Ongoing: true, Frame: "a/b.go:3 b.f"},
			"[slow-session] session_id=- blocked the scheduler for 75ms (ongoing) at a/b.go:3 b.f"},
	}
	for _, tt := range tests {
		if got := tt.s.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
}

// orphan is a goroutine a holder starts, which outlives the hold and keeps
// the hold's labels.
func orphan(release <-chan struct{}) {
	<-release
}

func TestChildOfHolderIsNeverTakenForTheHolder(t *testing.T) {
	defer stall.SetCaptureDuty(0.5)()
	r := newReports()
	w := stall.New(stall.Options{Report: r.report})
	defer w.Close()
	loop := w.Loop("room-loop")
	release := make(chan struct{})
	defer close(release)
	ctx := sessionCtx("job-parent", "voice")

	// A short hold starts a long-lived goroutine, which inherits the
	// hold's labels.
	<-inSession(ctx, func(ctx context.Context) {
		leave := loop.Enter(ctx)
		go orphan(release)
		leave()
	})
	// Then the same session stalls twice. The first stall's profile shows
	// its label on two goroutines: the watchdog must not guess. The second
	// stall gets a fresh label, and its holder is found; it lasts until an
	// ongoing report carries its stack.
	// The first stall lasts until it is reported, so the profile taken
	// for its report is sure to see it.
	var ending atomic.Bool
	reported := make(chan struct{})
	done := inSession(ctx, func(ctx context.Context) {
		holdFor(ctx, loop, 0, &ending, reported)
	})
	r.next(t, ongoing)
	close(reported)
	<-done
	first := r.next(t, final)
	framed := make(chan struct{})
	done = inSession(ctx, func(ctx context.Context) {
		holdFor(ctx, loop, 0, &ending, framed)
	})
	withFrame := r.next(t, func(s stall.Stall) bool { return s.Ongoing && s.Frame != "" && s.ID != first.ID })
	close(framed)
	<-done
	second := r.next(t, final)
	w.Close()

	for _, s := range r.snapshot() {
		if strings.HasSuffix(s.Frame, "stall_test.orphan") {
			t.Errorf("stall blamed on the holder's child: %v", s)
		}
		if s.ID == first.ID && s.Ongoing && s.Frame != "" {
			t.Errorf("ambiguous profile gave the first stall a frame: %v", s)
		}
	}
	if !strings.HasSuffix(withFrame.Frame, "stall_test.holdFor") || second.Frame != withFrame.Frame {
		t.Errorf("second stall's Frame = %q, final %q, want holdFor", withFrame.Frame, second.Frame)
	}
	t.Logf("reports: %v", r.snapshot())
}

func TestNestedHoldsAreBothReported(t *testing.T) {
	r := newReports()
	w := stall.New(stall.Options{Report: r.report})
	outer, inner := w.Loop("room-loop"), w.Mutex("room-state")

	<-inSession(sessionCtx("job-nested", "voice"), func(ctx context.Context) {
		leave := outer.Enter(ctx)
		time.Sleep(60 * time.Millisecond)
		inner.LockCtx(ctx)
		time.Sleep(120 * time.Millisecond)
		inner.Unlock()
		leave()
	})
	w.Close()

	finals := map[string]stall.Stall{}
	for _, s := range r.snapshot() {
		if !s.Ongoing {
			finals[s.Source] = s
		}
	}
	o, i := finals["room-loop"], finals["room-state"]
	if o.Session != "job-nested" || o.Blocked < 180*time.Millisecond {
		t.Errorf("outer final = %v, want job-nested for at least 180ms", o)
	}
	if i.Session != "job-nested" || i.Blocked < 120*time.Millisecond || i.Blocked > o.Blocked {
		t.Errorf("inner final = %v, want job-nested for at least 120ms, within the outer", i)
	}
	if o.ID == i.ID {
		t.Error("nested holds share a stall ID")
	}
}

func TestStallsAfterCloseAreDropped(t *testing.T) {
	r := newReports()
	w := stall.New(stall.Options{Threshold: 10 * time.Millisecond, Report: r.report})
	l := w.Loop("late")
	w.Close()
	<-inSession(sessionCtx("job-late", "voice"), func(ctx context.Context) {
		leave := l.Enter(ctx)
		time.Sleep(30 * time.Millisecond)
		leave()
	})
	if got := r.snapshot(); len(got) != 0 {
		t.Errorf("closed watchdog reported %v", got)
	}
}

func TestDefaultReportLogs(t *testing.T) {
	var buf bytes.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
	defer slog.SetDefault(old)

	w := stall.New(stall.Options{Threshold: 20 * time.Millisecond})
	<-inSession(sessionCtx("job-logged", "voice"), func(ctx context.Context) {
		leave := w.Loop("mixer").Enter(ctx)
		time.Sleep(40 * time.Millisecond)
		leave()
	})
	w.Close()
	out := buf.String()
	for _, want := range []string{"level=WARN", "msg=slow-session", "session_id=job-logged", "source=mixer", "ongoing=false"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
}
