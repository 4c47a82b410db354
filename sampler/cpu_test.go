package sampler

import (
	"context"
	"runtime"
	"runtime/pprof"
	"strings"
	"testing"
	"time"

	"github.com/google/pprof/profile"
)

// next returns the next window from ch, failing the test after timeout.
func next(t *testing.T, ch <-chan CPUWindow, timeout time.Duration) CPUWindow {
	t.Helper()
	select {
	case w, ok := <-ch:
		if !ok {
			t.Fatal("sampler stopped delivering windows")
		}
		return w
	case <-time.After(timeout):
		t.Fatalf("no window within %v", timeout)
	}
	panic("unreachable")
}

// logCoverage logs how much of the wall time between the first and last
// sampled window the profiler was off (between one window's stop and the
// next one's start), and how far the profiles' own durations stray from the
// time the profiler was on.
func logCoverage(t *testing.T, what string, ws []CPUWindow) (uncovered float64) {
	t.Helper()
	var gaps, maxGap, stray, maxStray time.Duration
	var n int
	for i, w := range ws {
		if w.Unavailable != "" {
			continue
		}
		n++
		d := w.profileDuration - w.Duration
		stray += d
		if d < 0 {
			d = -d
		}
		maxStray = max(maxStray, d)
		if i > 0 && ws[i-1].Unavailable == "" {
			g := w.Start.Sub(ws[i-1].Start.Add(ws[i-1].Duration))
			gaps += g
			maxGap = max(maxGap, g)
		}
	}
	if n < 2 {
		return 0
	}
	last := ws[len(ws)-1]
	span := last.Start.Add(last.Duration).Sub(ws[0].Start)
	uncovered = gaps.Seconds() / span.Seconds()
	t.Logf("%s coverage: %d windows over %v, profiler off %v (%.2f%%), longest gap %v; profile DurationNanos − time on: mean %v, worst %v",
		what, n, span.Round(time.Millisecond), gaps.Round(time.Microsecond), 100*uncovered, maxGap.Round(time.Microsecond),
		(stray / time.Duration(n)).Round(time.Microsecond), maxStray.Round(time.Microsecond))
	return uncovered
}

// TestCPUSaturationCoverage saturates every core (four spinning goroutines
// per P) and measures how much wall time no window covers: under saturation
// StopCPUProfile waits for the profile writer goroutine to get through the
// run queue. It also compares the CPU the samples show with the CPU the
// process used (getrusage). It asserts only that sampling goes on.
func TestCPUSaturationCoverage(t *testing.T) {
	if testing.Short() {
		t.Skip("saturates the CPU for 7s")
	}
	ctx, cancel := context.WithCancel(context.Background())
	var waits []func()
	for i := 0; i < 4*runtime.GOMAXPROCS(0); i++ {
		waits = append(waits, labelled(ctx, "hot", func(ctx context.Context) {
			for ctx.Err() == nil {
				spin()
			}
		}))
	}
	defer func() {
		cancel()
		for _, w := range waits {
			w()
		}
	}()

	for _, tt := range []struct {
		window, run time.Duration
	}{
		{250 * time.Millisecond, 3 * time.Second},
		{time.Second, 4 * time.Second},
	} {
		t.Run(tt.window.String(), func(t *testing.T) {
			sctx, stop := context.WithTimeout(ctx, tt.run)
			cpu0, wall0 := processCPU(t), time.Now()
			ch, wait := collect(sctx, NewCPUSampler(CPUOptions{Window: tt.window}))
			var ws []CPUWindow
			for w := range ch {
				ws = append(ws, w)
			}
			stop()
			wait()
			cpu, wall := processCPU(t)-cpu0, time.Since(wall0)
			if len(ws) < 2 {
				t.Fatalf("%d windows under saturation, want at least 2", len(ws))
			}
			var hot, total int64
			var on, profiled time.Duration
			for _, w := range ws {
				if w.Unavailable != "" {
					t.Fatalf("window unavailable: %s", w.Unavailable)
				}
				profiled += w.profileDuration
				hot += w.BySession["hot"]
				total += w.Total
				on += w.Duration
			}
			if total == 0 || hot == 0 {
				t.Fatalf("no samples under saturation (total %d, hot %d)", total, hot)
			}
			sampled := (time.Duration(total) * ws[0].Period).Seconds()
			t.Logf("saturated, %v windows: process used %.2f cores (getrusage); samples say %.2f cores over the time on, %.2f over the profiles' DurationNanos; %.1f%% of samples in session hot",
				tt.window, cpu.Seconds()/wall.Seconds(), sampled/on.Seconds(), sampled/profiled.Seconds(), 100*float64(hot)/float64(total))
			logCoverage(t, "saturated", ws)
		})
	}
}

// TestCPUStepsAsideForAnotherProfile runs the sampler while the test holds
// its own CPU profile: windows come back unavailable with a reason, and
// sampling resumes once the test's profile stops.
func TestCPUStepsAsideForAnotherProfile(t *testing.T) {
	user := newProfileBuffer()
	if err := pprof.StartCPUProfile(user); err != nil {
		t.Fatal(err)
	}
	userRunning := true
	defer func() {
		if userRunning {
			pprof.StopCPUProfile()
		}
	}()

	ctx, cancel := context.WithCancel(context.Background())
	ch, wait := collect(ctx, NewCPUSampler(CPUOptions{Window: 200 * time.Millisecond}))
	defer func() { cancel(); wait() }()

	for i := 0; i < 2; i++ {
		w := next(t, ch, 5*time.Second)
		if !strings.Contains(w.Unavailable, "already in use") {
			t.Fatalf("window %d: Unavailable = %q, want the profiler-in-use reason", i, w.Unavailable)
		}
		if w.Duration <= 0 || w.Total != 0 || w.BySession != nil {
			t.Errorf("window %d: unavailable window with duration %v, %d samples, BySession %v", i, w.Duration, w.Total, w.BySession)
		}
		t.Logf("window %d: %s", i, w.Unavailable)
	}
	if user.received() {
		t.Fatal("the test's own profile was stopped by the sampler")
	}
	pprof.StopCPUProfile()
	userRunning = false
	if _, err := profile.ParseData(user.bytes()); err != nil {
		t.Fatalf("the test's own profile does not parse: %v", err)
	}

	deadline := time.Now().Add(5 * time.Second)
	for {
		w := next(t, ch, 5*time.Second)
		if w.Unavailable == "" {
			if w.Period <= 0 || w.Duration <= 0 {
				t.Errorf("recovered window: period %v, duration %v", w.Period, w.Duration)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("still unavailable 5s after the other profile stopped: %s", w.Unavailable)
		}
	}
}

// TestCPUUserStopsSamplerWindow has the application call StopCPUProfile in
// the middle of a sampler window and start its own profile right away, as
// the package documentation tells it to. The sampler must deliver the cut
// window, stand aside, and never stop the application's profile.
func TestCPUUserStopsSamplerWindow(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	burn := labelled(ctx, "u", func(ctx context.Context) { dutyCycle(ctx, 0.5, 10*time.Millisecond) })
	defer func() { cancel(); burn() }()

	const window = time.Second
	sctx, stop := context.WithCancel(ctx)
	ch, wait := collect(sctx, NewCPUSampler(CPUOptions{Window: window}))
	defer func() { stop(); wait() }()

	// Stop the sampler's profile 300ms into a window and take the profiler.
	user := takeProfiler(t, ch, 300*time.Millisecond)
	userStart := time.Now()

	cut := next(t, ch, 5*time.Second)
	if cut.Unavailable != "" {
		t.Fatalf("cut window unavailable: %s", cut.Unavailable)
	}
	if cut.Duration >= window-100*time.Millisecond || cut.Duration <= 0 {
		t.Errorf("cut window lasted %v, want less than the %v window", cut.Duration, window)
	}
	t.Logf("cut window: %v, %d samples, session u %d", cut.Duration, cut.Total, cut.BySession["u"])

	// Hold the profile for 1.5 windows: the sampler stands aside for one
	// window, then finds the profiler in use.
	aside := next(t, ch, 5*time.Second)
	if !strings.Contains(aside.Unavailable, "stopped by another caller") {
		t.Errorf("after the cut window: Unavailable = %q, want the stand-aside reason", aside.Unavailable)
	}
	if rest := 3*window/2 - time.Since(userStart); rest > 0 {
		time.Sleep(rest)
	}
	if user.received() {
		t.Fatal("the sampler stopped the application's profile")
	}
	pprof.StopCPUProfile()
	p, err := profile.ParseData(user.bytes())
	if err != nil {
		t.Fatalf("application profile: %v", err)
	}
	if d := time.Duration(p.DurationNanos); d < window {
		t.Errorf("application profile lasted %v, want at least %v", d, window)
	}

	var sawInUse bool
	deadline := time.Now().Add(5 * time.Second)
	for {
		w := next(t, ch, 5*time.Second)
		if w.Unavailable == "" {
			break
		}
		sawInUse = sawInUse || strings.Contains(w.Unavailable, "already in use")
		if time.Now().After(deadline) {
			t.Fatalf("sampling did not resume: %s", w.Unavailable)
		}
	}
	if !sawInUse {
		t.Error("no window reported the application's profile in use")
	}
}

// TestCPUSamplerRunTwice checks that a sampler refuses to run twice at once
// and stops cleanly on cancellation.
func TestCPUSamplerRunTwice(t *testing.T) {
	s := NewCPUSampler(CPUOptions{Window: 50 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan struct{}, 1)
	done := make(chan error, 1)
	go func() {
		done <- s.Run(ctx, func(CPUWindow) {
			select {
			case started <- struct{}{}:
			default:
			}
		})
	}()
	<-started
	if err := s.Run(ctx, func(CPUWindow) {}); err != ErrCPUSamplerRunning {
		t.Errorf("second Run: %v, want ErrCPUSamplerRunning", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run after cancel: %v", err)
	}
	// The profiler is free again.
	if err := pprof.StartCPUProfile(newProfileBuffer()); err != nil {
		t.Fatalf("profiler still in use after Run returned: %v", err)
	}
	pprof.StopCPUProfile()
}

// TestCPUSamplerPanicInCallback checks that a callback panicking while a
// window runs does not leave the profiler running.
func TestCPUSamplerPanicInCallback(t *testing.T) {
	s := NewCPUSampler(CPUOptions{Window: 50 * time.Millisecond})
	recovered := make(chan any, 1)
	go func() {
		defer func() { recovered <- recover() }()
		s.Run(context.Background(), func(CPUWindow) { panic("callback") })
	}()
	select {
	case r := <-recovered:
		if r != "callback" {
			t.Fatalf("recovered %v", r)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the callback was never called")
	}
	if err := pprof.StartCPUProfile(newProfileBuffer()); err != nil {
		t.Fatalf("profiler left running after the callback panicked: %v", err)
	}
	pprof.StopCPUProfile()
}

// A duty-cycled sampler starts one window per Every and gives each the span
// it stands for.
func TestCPUSamplerDutyCycle(t *testing.T) {
	s := NewCPUSampler(CPUOptions{Window: 100 * time.Millisecond, Every: 400 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	var ws []CPUWindow
	_ = s.Run(ctx, func(w CPUWindow) { ws = append(ws, w) })
	if len(ws) < 2 {
		t.Fatalf("%d windows in 1.5s, want at least 2", len(ws))
	}
	for i, w := range ws {
		if w.Unavailable != "" {
			continue
		}
		// Spans tile the time: each runs from the previous window's end
		// to this one's, so after the first it covers the off time too.
		if i > 0 && ws[i-1].Unavailable == "" {
			if want := w.Start.Add(w.Duration).Sub(ws[i-1].Start.Add(ws[i-1].Duration)); w.Span != want {
				t.Errorf("window %d: span %v, want %v (from the previous window's end)", i, w.Span, want)
			}
			if w.Span < 350*time.Millisecond {
				t.Errorf("window %d: span %v, want about 400ms", i, w.Span)
			}
		}
		if i > 0 && w.Start.Sub(ws[i-1].Start) < 350*time.Millisecond {
			t.Errorf("window %d started %v after the previous one, want about 400ms", i, w.Start.Sub(ws[i-1].Start))
		}
	}
}

// SetWindow changes the length of the windows that start afterwards.
func TestCPUSamplerSetWindow(t *testing.T) {
	s := NewCPUSampler(CPUOptions{Window: time.Hour})
	s.SetWindow(100 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 1200*time.Millisecond)
	defer cancel()
	var ws []CPUWindow
	_ = s.Run(ctx, func(w CPUWindow) { ws = append(ws, w) })
	if len(ws) < 3 {
		t.Fatalf("%d windows in 1.2s of 100ms windows (set over an hour's), want at least 3", len(ws))
	}
	for _, w := range ws {
		if w.Unavailable == "" && w.Duration > time.Second {
			t.Errorf("a window of %v, want about 100ms", w.Duration)
		}
	}
}

// TestCPUSamplerLastWindow: with Last, the window that cancellation cut
// short is delivered, with the CPU it saw up to the end; without, it is not.
func TestCPUSamplerLastWindow(t *testing.T) {
	for _, last := range []bool{false, true} {
		s := NewCPUSampler(CPUOptions{Window: time.Hour, Last: last})
		ctx, cancel := context.WithCancel(context.Background())
		burnCtx, stop := context.WithCancel(context.Background())
		go dutyCycle(burnCtx, 1, 10*time.Millisecond)
		ch, wait := collect(ctx, s)
		time.Sleep(300 * time.Millisecond)
		cancel()
		wait()
		stop()
		var got []CPUWindow
		for w := range ch {
			got = append(got, w)
		}
		switch {
		case !last && len(got) != 0:
			t.Errorf("without Last: %d windows delivered after cancel, want 0", len(got))
		case last && len(got) != 1:
			t.Errorf("with Last: %d windows, want the one cut short", len(got))
		case last && (got[0].Duration <= 0 || got[0].Duration >= time.Hour || got[0].CPUTime <= 0):
			t.Errorf("with Last: window %+v, want its duration and CPU time as far as it ran", got[0])
		}
	}
}

// TestCPUNamesTheOwnerOfAShortProfile: the application stops the sampler's
// window and takes a profile shorter than a window (a black-box run's app
// profiled 4 s inside a 5 s window). The window the sampler stands aside
// for must name who took the profiler, found while its profile ran, not
// looked for only when the window ends and the profile is gone.
func TestCPUNamesTheOwnerOfAShortProfile(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const window = time.Second
	ch, wait := collect(ctx, NewCPUSampler(CPUOptions{Window: window}))
	defer func() { cancel(); wait() }()

	takeProfiler(t, ch, 200*time.Millisecond)
	time.Sleep(300 * time.Millisecond)
	pprof.StopCPUProfile()

	if cut := next(t, ch, 5*time.Second); cut.Unavailable != "" {
		t.Fatalf("cut window unavailable: %s", cut.Unavailable)
	}
	aside := next(t, ch, 5*time.Second)
	if !strings.Contains(aside.Unavailable, "stopped by another caller") {
		t.Fatalf("after the cut window: Unavailable = %q, want the stand-aside reason", aside.Unavailable)
	}
	if aside.Owner == "" {
		t.Errorf("the stand-aside window names no owner; the application's profile ran for 300ms of it")
	}
	if aside.CPUTime <= 0 && runtime.GOOS == "linux" {
		t.Errorf("the stand-aside window measured no process CPU")
	}
	t.Logf("stand-aside: %v, owner %q, process CPU %v", aside.Duration, aside.Owner, aside.CPUTime)
	if w := next(t, ch, 5*time.Second); w.Unavailable != "" {
		t.Errorf("sampling did not resume after the profile ended: %s", w.Unavailable)
	}
}

// takeProfiler does what an application that stops introspection's profile
// does. A window is delivered after the next one has started, so once one
// arrives the sampler's profile is running: it waits until after into it,
// well clear of its end (if a loaded machine delivered the window late, it
// waits for the next one), stops it and starts a profile of its own, which
// the caller must stop.
func takeProfiler(t *testing.T, ch <-chan CPUWindow, after time.Duration) *profileBuffer {
	t.Helper()
	for {
		w := next(t, ch, 5*time.Second)
		if w.Unavailable != "" {
			t.Fatalf("window unavailable: %s", w.Unavailable)
		}
		if wait := after - time.Since(w.Start.Add(w.Duration)); wait > 0 {
			time.Sleep(wait)
			break
		}
	}
	pprof.StopCPUProfile() // ends the sampler's window
	user := newProfileBuffer()
	if err := pprof.StartCPUProfile(user); err != nil {
		t.Fatalf("starting our own profile after stopping the sampler's: %v", err)
	}
	return user
}
