//go:build linux

package truth

import (
	"slices"
	"sync"
	"testing"
	"time"
)

func TestFrameAt(t *testing.T) {
	for _, c := range []struct {
		frame, site string
		want        bool
	}{
		{"truth/block.go:116 truth.(*blocker).prepare.func1", "block.go:116", true},
		{"block.go:116 main.f", "block.go:116", true},
		{"truth/block.go:1160 truth.f", "block.go:116", false},
		{"truth/myblock.go:116 truth.f", "block.go:116", false},
		{"truth/scenario.go:359 truth.(*mixer).run", "block.go:116", false},
		{"", "block.go:116", false},
	} {
		if got := frameAt(c.frame, c.site); got != c.want {
			t.Errorf("frameAt(%q, %q) = %v", c.frame, c.site, got)
		}
	}
}

func TestCauseOf(t *testing.T) {
	for in, want := range map[string]string{
		"": "", "blocked": "blocked", "waiting-for-cpu": "cpu", "waiting for CPU": "cpu",
		"runnable": "cpu", "running": "running", "Blocked": "blocked",
	} {
		if got := causeOf(in); got != want {
			t.Errorf("causeOf(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestOverlap(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	for _, c := range []struct {
		a0, a1, b0, b1 int
		want           time.Duration
	}{
		{0, 100, 50, 150, 50 * time.Millisecond},
		{0, 100, 100, 200, 0},
		{0, 100, 200, 300, 0},
		{0, 300, 100, 200, 100 * time.Millisecond},
	} {
		if got := overlap(at(c.a0), at(c.a1), at(c.b0), at(c.b1)); got != c.want {
			t.Errorf("overlap(%v) = %v, want %v", c, got, c.want)
		}
	}
}

func TestSeriesAt(t *testing.T) {
	t0 := time.Unix(1000, 0)
	s := Series{
		{At: t0, Proc: 0, CPU: map[string]time.Duration{"a": 0}},
		{At: t0.Add(time.Second), Proc: time.Second, CPU: map[string]time.Duration{"a": 500 * time.Millisecond}},
	}
	p, ok := s.at(t0.Add(500 * time.Millisecond))
	if !ok || p.Proc != 500*time.Millisecond || p.CPU["a"] != 250*time.Millisecond {
		t.Errorf("at(+500ms) = %+v, %v", p, ok)
	}
	if _, ok := s.at(t0.Add(2 * time.Second)); ok {
		t.Error("at past the readings reported ok")
	}
	if g := s.gapAt(t0.Add(time.Second / 3)); g != time.Second {
		t.Errorf("gapAt = %v", g)
	}
	if g := s.gapAt(t0.Add(3 * time.Second)); g != 0 {
		t.Errorf("gapAt past the readings = %v", g)
	}
}

// TestSpinHoldsItsP checks the device behind the scheduler stalls: while
// every P runs the assembly loop, no other goroutine runs.
func TestSpinHoldsItsP(t *testing.T) {
	if !asmSpin {
		t.Skip("no assembly loop on this architecture")
	}
	clk := calibrate()
	var ran []time.Time
	stop, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		for {
			select {
			case <-stop:
				return
			default:
			}
			ran = append(ran, time.Now())
			time.Sleep(100 * time.Microsecond)
		}
	}()
	time.Sleep(10 * time.Millisecond)
	n := procs()
	starts, ends := make([]time.Time, n), make([]time.Time, n)
	g := clk.group(n)
	var wg sync.WaitGroup
	for p := range n {
		wg.Go(func() {
			_, starts[p], ends[p], _ = g.spin(p, 150*time.Millisecond)
		})
	}
	wg.Wait()
	time.Sleep(10 * time.Millisecond)
	close(stop)
	<-stopped
	from, to := slices.MaxFunc(starts, time.Time.Compare), slices.MinFunc(ends, time.Time.Compare)
	if to.Sub(from) < 100*time.Millisecond {
		t.Fatalf("the spinners overlapped for %v only", to.Sub(from))
	}
	inside := 0
	for _, r := range ran {
		if r.After(from.Add(2*time.Millisecond)) && r.Before(to.Add(-2*time.Millisecond)) {
			inside++
		}
	}
	if inside > 0 || len(ran) == 0 {
		t.Errorf("a goroutine ran %d times while every P spun (%d runs in all)", inside, len(ran))
	}
}
