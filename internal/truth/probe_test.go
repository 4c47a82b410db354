//go:build linux && (amd64 || arm64)

package truth

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/openrtc-go/introspect/stall"
)

// TestSchedProbeBesideLoad runs the scheduler probe beside preemptible load
// (a busy goroutine per P, 200 that wake every 2 ms) while every P spins in
// assembly for 300, 420 and 540 ms, and logs each spin beside the stop the
// probe measured. The spin's own counter is the truth. It asserts only what
// no load can excuse: the stop is found and is not shorter than the spin
// less one tick.
func TestSchedProbeBesideLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("spins every P for 1.3 s")
	}
	ctx, cancel := context.WithCancel(context.Background())
	var p stall.SchedProbe
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	wg.Go(func() { p.Run(ctx) })
	for range procs() {
		wg.Go(func() {
			for ctx.Err() == nil {
				crunch()
			}
		})
	}
	for range 200 {
		wg.Go(func() {
			for ctx.Err() == nil {
				time.Sleep(2 * time.Millisecond)
				crunch()
			}
		})
	}
	clk := calibrate()
	time.Sleep(time.Second)
	p.Lags()
	for _, d := range []time.Duration{300 * time.Millisecond, 420 * time.Millisecond, 540 * time.Millisecond} {
		g := clk.group(procs())
		starts, ends := make([]time.Time, procs()), make([]time.Time, procs())
		var spun sync.WaitGroup
		for k := range procs() {
			spun.Go(func() { _, starts[k], ends[k], _ = g.spin(k, d) })
		}
		spun.Wait()
		time.Sleep(300 * time.Millisecond)
		from, to := slices.MaxFunc(starts, time.Time.Compare), slices.MinFunc(ends, time.Time.Compare)
		var best stall.SchedLag
		for _, l := range p.Lags() {
			if l.End.After(from) && l.Start.Before(to) && l.Duration() > best.Duration() {
				best = l
			}
		}
		spin := to.Sub(from)
		t.Logf("every P spun %v; the probe measured %v (%+.1f %%), from %+v to %+v of the spin",
			spin.Round(time.Millisecond), best.Duration().Round(time.Millisecond), 100*(best.Duration().Seconds()/spin.Seconds()-1),
			best.Start.Sub(from).Round(time.Millisecond), best.End.Sub(to).Round(time.Millisecond))
		if best.Duration() < spin-15*time.Millisecond {
			t.Errorf("a spin of %v measured as %v", spin, best.Duration())
		}
	}
}
