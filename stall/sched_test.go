package stall_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
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

// probing runs a probe and returns it with the function that stops it.
func probing(p *stall.SchedProbe) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { p.Run(ctx) })
	return func() { cancel(); wg.Wait() }
}

// lagCovering returns the longest lag that overlaps [from, to].
func lagCovering(lags []stall.SchedLag, from, to time.Time) (stall.SchedLag, bool) {
	var best stall.SchedLag
	found := false
	for _, l := range lags {
		if l.End.After(from) && l.Start.Before(to) && (!found || l.Duration() > best.Duration()) {
			best, found = l, true
		}
	}
	return best, found
}

// A saturated scheduler (sixteen spinning goroutines per P, preemptible) is one
// lag, from when a runnable goroutine has queued for the threshold to the
// end of the saturation.
func TestSchedProbeMeasuresSaturation(t *testing.T) {
	p := &stall.SchedProbe{}
	stop := probing(p)
	defer stop()
	time.Sleep(100 * time.Millisecond)
	_ = p.Lags() // whatever the shared machine did before

	const spin = 300 * time.Millisecond
	var halt atomic.Bool
	var spinning sync.WaitGroup
	begin := time.Now()
	// A preempted goroutine goes to the global run queue behind the
	// others, so with n runnable goroutines per P each waits about n
	// slices of 10ms. At 4 per P that is 40ms, under the 50ms threshold
	// whenever preemption is prompt, and the lag broke into pieces (CI
	// saw 123ms of 370); at 16 per P every wait is well over it.
	for range 16 * runtime.GOMAXPROCS(0) {
		spinning.Go(func() { busy(&halt) })
	}
	time.Sleep(spin) // the sleeper's timer jumps the queue; the wall time is what counts
	halt.Store(true)
	spinning.Wait()
	truth := time.Since(begin)
	time.Sleep(100 * time.Millisecond)
	lags := p.Lags()

	lag, ok := lagCovering(lags, begin, begin.Add(truth))
	if !ok {
		t.Fatalf("no lag overlaps the %v of saturation; lags %+v", truth, lags)
	}
	// Usually one queued lag covers it. On a machine whose other
	// processes take the cores too (CI runs packages side by side), the
	// probe's two goroutines may both wait past the threshold, which is
	// a stop of the process, cut out of the queued lag as a lag of its
	// own: what is asserted is that the lags cover the saturation.
	covered := coverage(lags, begin, begin.Add(truth))
	t.Logf("saturated for %v; lags cover %v, the longest %v (start %+v, worst wait %v)", truth, covered, lag.Duration(), lag.Start.Sub(begin), lag.Worst)
	// A lag starts once a runnable goroutine has queued for the
	// threshold, so they cover less than the saturation by about that
	// much; the shared machine may add its own. Generous on the
	// measurement.
	if covered < truth/2 || lag.Worst < 50*time.Millisecond {
		t.Errorf("lags cover %v (worst wait %v), want most of the %v of saturation", covered, lag.Worst, truth)
	}
	for _, l := range lags {
		if l.Ongoing || l.ID == 0 {
			t.Errorf("lag = %+v, want ended lags with IDs", l)
		}
	}
}

// coverage returns how much of [from, to] the lags cover, overlaps counted
// once.
func coverage(lags []stall.SchedLag, from, to time.Time) time.Duration {
	var covered time.Duration
	at := from
	sorted := slices.SortedFunc(slices.Values(lags), func(a, b stall.SchedLag) int { return a.Start.Compare(b.Start) })
	for _, l := range sorted {
		lo, hi := l.Start, l.End
		if lo.Before(at) {
			lo = at
		}
		if hi.After(to) {
			hi = to
		}
		if hi.After(lo) {
			covered += hi.Sub(lo)
			at = hi
		}
	}
	return covered
}

// Work that cannot be preempted holds every P, and nothing runs, not even
// timers: the probe's late tick measures the stall. Asynchronous preemption
// is switched off in a child process, with one P, so a loop without calls
// holds it.
func TestSchedProbeMeasuresNonPreemptibleSpin(t *testing.T) {
	if os.Getenv(spinChildEnv) != "" {
		spinChild()
		return
	}
	out := spinChildOutput(t)
	var spins, lags, cpus []time.Duration
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 6 || f[0] != "spin" || f[2] != "lag" || f[4] != "cpu" {
			continue
		}
		spin, err1 := time.ParseDuration(f[1])
		lag, err2 := time.ParseDuration(f[3])
		cpu, err3 := time.ParseDuration(f[5])
		if err1 == nil && err2 == nil && err3 == nil {
			spins, lags, cpus = append(spins, spin), append(lags, lag), append(cpus, cpu)
		}
	}
	if len(spins) == 0 {
		t.Fatalf("child printed no measurement:\n%s", out)
	}
	for i := range spins {
		t.Logf("spun %v, lag %v (%+.1f%%), the process's CPU meanwhile %v", spins[i], lags[i], 100*(float64(lags[i])/float64(spins[i])-1), cpus[i])
		// The spinner ran on the process's one P all along: the CPU the
		// probe measured over the lag is mostly its own.
		if runtime.GOOS == "linux" && lags[i] > 0 && cpus[i] <= 0 {
			t.Errorf("a lag of %v with no CPU measured", lags[i])
		}
		// The truth is the spinner's own clock. A late tick cannot be
		// shorter than the spin minus one interval; the box may add.
		if lags[i] < spins[i]-15*time.Millisecond {
			t.Errorf("spin of %v measured as %v", spins[i], lags[i])
		}
	}
}

// spinChildEnv is set in the child process a spin test runs itself in.
const spinChildEnv = "STALL_SPIN_CHILD"

// spinChildOutput runs the calling test again in a child process with one P
// and asynchronous preemption off, where a loop without calls holds the
// process's only P, and returns what the child printed.
func spinChildOutput(t *testing.T) []byte {
	t.Helper()
	if testing.Short() {
		t.Skip("runs a child process")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$", "-test.v")
	cmd.Env = append(os.Environ(), spinChildEnv+"=1", "GODEBUG=asyncpreemptoff=1", "GOMAXPROCS=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	return out
}

// spinLoop adds up n numbers without a call: with asynchronous preemption
// off, nothing else runs on its P meanwhile.
//
//go:noinline
func spinLoop(n int) int {
	x := 0
	for i := range n {
		x += i ^ (x >> 3)
	}
	return x
}

var sink int

func spinChild() {
	p := &stall.SchedProbe{}
	stop := probing(p)
	defer stop()
	// Calibrate: iterations per millisecond.
	t0 := time.Now()
	sink += spinLoop(20_000_000)
	perMs := 20_000_000 / max(1, int(time.Since(t0).Milliseconds()))
	for _, want := range []time.Duration{300 * time.Millisecond, 540 * time.Millisecond} {
		time.Sleep(150 * time.Millisecond)
		_ = p.Lags()
		begin := time.Now()
		sink += spinLoop(perMs * int(want.Milliseconds()))
		spin := time.Since(begin)
		time.Sleep(150 * time.Millisecond)
		lag, ok := lagCovering(p.Lags(), begin, begin.Add(spin))
		if !ok {
			fmt.Printf("spin %v lag 0s cpu 0s\n", spin)
			continue
		}
		fmt.Printf("spin %v lag %v cpu %v\n", spin, lag.Duration(), lag.CPU)
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
