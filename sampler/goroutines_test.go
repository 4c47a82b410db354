package sampler

import (
	"context"
	"runtime/pprof"
	"sync"
	"testing"
	"time"
)

func TestGoroutinesBySession(t *testing.T) {
	stop := make(chan struct{})
	var started, exited sync.WaitGroup
	start := func(id string, n int) {
		for i := 0; i < n; i++ {
			started.Add(1)
			exited.Add(1)
			go pprof.Do(context.Background(), pprof.Labels(SessionLabel, id, "agent", "voice"), func(ctx context.Context) {
				defer exited.Done()
				// A child goroutine inherits the session's labels.
				started.Add(1)
				exited.Add(1)
				go func() {
					defer exited.Done()
					started.Done()
					<-stop
				}()
				started.Done()
				<-stop
			})
		}
	}
	start("x", 7)
	start("y", 2)
	started.Wait()
	defer func() { close(stop); exited.Wait() }()

	by, total, err := GoroutinesBySession()
	if err != nil {
		t.Fatal(err)
	}
	if by["x"] != 14 || by["y"] != 4 || len(by) != 2 {
		t.Errorf("bySession = %v, want x:14 y:4 (each goroutine and its child)", by)
	}
	if total < 18 {
		t.Errorf("total = %d, want at least the 18 started", total)
	}
}

func TestGoroutineInterval(t *testing.T) {
	tests := []struct {
		goroutines int
		base       time.Duration
		want       time.Duration
	}{
		{goroutines: 0, base: 0, want: GoroutineInterval(0, 0)},
		{goroutines: -5, base: 0, want: GoroutineInterval(0, 0)},
		{goroutines: 1000, base: 0, want: roundUp(costAt(1000))},
		{goroutines: 10000, base: 0, want: roundUp(costAt(10000))},
		{goroutines: 10, base: time.Minute, want: time.Minute},
	}
	for _, tt := range tests {
		if got := GoroutineInterval(tt.goroutines, tt.base); got != tt.want {
			t.Errorf("GoroutineInterval(%d, %v) = %v, want %v", tt.goroutines, tt.base, got, tt.want)
		}
	}
	prev := time.Duration(0)
	for n := 0; n <= 1_000_000; n = n*2 + 1 {
		d := GoroutineInterval(n, 0)
		if d < prev {
			t.Errorf("GoroutineInterval(%d) = %v, less than %v for fewer goroutines", n, d, prev)
		}
		if d%goroutineIntervalResolution != 0 {
			t.Errorf("GoroutineInterval(%d) = %v, not a multiple of %v", n, d, goroutineIntervalResolution)
		}
		// The profile's modelled cost stays within budget.
		cost := goroutineProfileFixedCost + time.Duration(n)*goroutineProfileCostPerG
		if share := cost.Seconds() / d.Seconds(); share > goroutineProfileBudget*1.0001 {
			t.Errorf("at %d goroutines: %v every %v is %.3f%% of a core", n, cost, d, 100*share)
		}
		prev = d
	}
	t.Logf("interval at 1k goroutines %v, at 10k %v, at 100k %v",
		GoroutineInterval(1000, 0), GoroutineInterval(10000, 0), GoroutineInterval(100000, 0))
}

func TestSteadyGoroutineInterval(t *testing.T) {
	for _, n := range []int{0, 1000, 10000} {
		steady, fast := SteadyGoroutineInterval(n, 0), GoroutineInterval(n, 0)
		if steady != 5*fast {
			t.Errorf("SteadyGoroutineInterval(%d) = %v, want five times %v", n, steady, fast)
		}
		cost := goroutineProfileFixedCost + time.Duration(n)*goroutineProfileCostPerG
		if share := cost.Seconds() / steady.Seconds(); share > goroutineProfileBudget/5*1.0001 {
			t.Errorf("at %d goroutines: %v every %v is %.3f%% of a core", n, cost, steady, 100*share)
		}
	}
	if got := SteadyGoroutineInterval(10, time.Hour); got != time.Hour {
		t.Errorf("SteadyGoroutineInterval(10, 1h) = %v, want the base", got)
	}
}

func costAt(n int) time.Duration {
	cost := goroutineProfileFixedCost + time.Duration(n)*goroutineProfileCostPerG
	return time.Duration(float64(cost) / goroutineProfileBudget)
}

func roundUp(d time.Duration) time.Duration {
	r := goroutineIntervalResolution
	return (d + r - 1) / r * r
}
