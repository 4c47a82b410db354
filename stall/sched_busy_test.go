package stall_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openrtc-go/introspect/stall"
)

// In a saturated worker the probe's own goroutines queue behind everyone
// else before and after a stop, so its own clock places the stop's ends
// early and late by that wait. Sessions that enter a watched loop run as
// soon as a P is free: a probe lent the watchdog's enters places them
// where they were. Two probes watch the same spins, one lent the watchdog
// and one not. One P, asynchronous preemption off: a loop without calls
// holds the process's only P, while hogs and sessions that make calls are
// preempted every 10ms and queue. The truth is what everything else saw:
// each hog and session notes the time whenever it runs, and the stop is
// the longest stretch around the spin in which none of them ran, within
// the spinner's own clock readings before and after (it cannot read a
// clock without a call, where it may be preempted).
func TestSchedProbeWithWatchdogMeasuresSpinInBusyWorker(t *testing.T) {
	if os.Getenv(spinChildEnv) != "" {
		busySpinChild()
		return
	}
	out := spinChildOutput(t)
	n := 0
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) > 0 && f[0] == "missed" {
			t.Errorf("a spin no lag covered: %s", sc.Text())
			continue
		}
		if len(f) != 10 || f[0] != "stop" || f[2] != "plain" || f[4] != "lent" || f[6] != "off" {
			continue
		}
		var d [5]time.Duration
		for i, s := range []string{f[1], f[3], f[5], f[7], f[8]} {
			var err error
			if d[i], err = time.ParseDuration(s); err != nil {
				t.Fatalf("child printed %q: %v", sc.Text(), err)
			}
		}
		stop, plain, lent, plainOff, lentOff := d[0], d[1], d[2], d[3], d[4]
		n++
		t.Logf("nothing else ran for %v: the probe alone measured %v (its ends off by %v in all), lent the watchdog %v (off by %v); %s", stop, plain, plainOff, lent, lentOff, f[9])
		// The lent probe's proofs are enters, which came when nothing
		// else ran either: it does not measure less than the stop, but
		// for what the truth cannot see (a session between its enter and
		// its note, the probe's and the watchdog's own goroutines; under
		// the race detector they run for milliseconds). Its ends are the
		// last enter before and the first after, which in this worker come
		// within two hogs' slices (10ms each) of them; the OS may add.
		if lent < stop-15*time.Millisecond {
			t.Errorf("a stop of %v measured as %v by the probe lent the watchdog", stop, lent)
		}
		if lentOff > 60*time.Millisecond {
			t.Errorf("a stop of %v: the probe lent the watchdog placed its ends %v off in all", stop, lentOff)
		}
	}
	if n == 0 {
		t.Fatalf("child printed no measurement:\n%s", out)
	}
}

// work makes calls, so that with asynchronous preemption off it can still be
// preempted.
//
//go:noinline
func work(n int) int {
	x := 0
	for i := range n {
		x += step(i)
	}
	return x
}

//go:noinline
func step(i int) int { return i ^ (i >> 3) }

// runLog is when the worker's goroutines other than the spinner ran.
type runLog struct {
	mu sync.Mutex
	at []time.Time
}

func (r *runLog) ran() {
	now := time.Now()
	r.mu.Lock()
	r.at = append(r.at, now)
	r.mu.Unlock()
}

// stop returns the longest stretch in which nothing ran that overlaps
// [begin, end].
func (r *runLog) stop(begin, end time.Time) (from, to time.Time) {
	r.mu.Lock()
	at := slices.Clone(r.at)
	r.mu.Unlock()
	slices.SortFunc(at, time.Time.Compare)
	for i := 1; i < len(at); i++ {
		if at[i].After(begin) && at[i-1].Before(end) && at[i].Sub(at[i-1]) > to.Sub(from) {
			from, to = at[i-1], at[i]
		}
	}
	return from, to
}

func busySpinChild() {
	// No collections: a GC's stack scan asks the spinner to yield at its
	// next call, which would make the clock it read before the spin early.
	debug.SetGCPercent(-1)
	// Calibrate before the worker gets busy: iterations per millisecond.
	t0 := time.Now()
	sink += spinLoop(20_000_000)
	perMs := 20_000_000 / max(1, int(time.Since(t0).Milliseconds()))

	w := stall.New(stall.Options{Report: func(stall.Stall) {}})
	defer w.Close()
	plain, lent := &stall.SchedProbe{}, &stall.SchedProbe{Watchdog: w}
	defer probing(plain)()
	defer probing(lent)()
	var log runLog
	var stop atomic.Bool
	var total atomic.Int64 // what the work came to, so that it is done
	var wg sync.WaitGroup
	defer wg.Wait()
	defer stop.Store(true)
	for range 2 { // hogs: the P is never free
		wg.Go(func() {
			x := 0
			for !stop.Load() {
				x += work(10_000)
				log.ran()
			}
			total.Add(int64(x))
		})
	}
	mixer := w.Loop("mixer")
	for i := range 40 { // sessions: a frame every 2ms, entering the mixer
		ctx := pprof.WithLabels(context.Background(), pprof.Labels("session", fmt.Sprint("s", i)))
		wg.Go(func() {
			x := 0
			for !stop.Load() {
				leave := mixer.Enter(ctx)
				log.ran()
				x += work(200)
				leave()
				time.Sleep(2 * time.Millisecond)
			}
			total.Add(int64(x))
		})
	}
	for _, want := range []time.Duration{300 * time.Millisecond, 540 * time.Millisecond, 300 * time.Millisecond} {
		time.Sleep(300 * time.Millisecond)
		_, _ = plain.Lags(), lent.Lags()
		begin := time.Now()
		sink += spinLoop(perMs * int(want.Milliseconds()))
		end := time.Now()
		time.Sleep(300 * time.Millisecond)
		// The spinner's own clock bounds the spin too: the probe's and the
		// watchdog's goroutines run without noting it.
		from, to := log.stop(begin, end)
		if begin.After(from) {
			from = begin
		}
		if end.Before(to) {
			to = end
		}
		p, ok1 := lagCovering(plain.Lags(), from, to)
		l, ok2 := lagCovering(lent.Lags(), from, to)
		if !ok1 || !ok2 {
			fmt.Printf("missed: a stop of %v, the probe alone found a lag %v, lent the watchdog %v\n", to.Sub(from), ok1, ok2)
			continue
		}
		fmt.Printf("stop %v plain %v lent %v off %v %v start/end:plain%+v/%+v,lent%+v/%+v\n", to.Sub(from), p.Duration(), l.Duration(),
			offBy(p, from, to), offBy(l, from, to),
			p.Start.Sub(from).Round(time.Millisecond), p.End.Sub(to).Round(time.Millisecond),
			l.Start.Sub(from).Round(time.Millisecond), l.End.Sub(to).Round(time.Millisecond))
	}
}

// offBy returns how far the lag's ends are from the stop's, in all.
func offBy(l stall.SchedLag, from, to time.Time) time.Duration {
	return l.Start.Sub(from).Abs() + l.End.Sub(to).Abs()
}
