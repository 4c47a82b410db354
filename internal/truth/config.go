//go:build linux

package truth

import (
	"path/filepath"
	"time"
)

// Config sizes a scenario. Quick and Full are the two the repository runs.
type Config struct {
	// Dir receives the recording.
	Dir string
	// Duration is the length of the run, from the first session to the
	// last; every phase is placed at a fraction of it.
	Duration time.Duration
	// Sessions is the number of ordinary sessions, each of which works on
	// the mixer and the mutex every Every, until the end.
	Sessions int
	Every    time.Duration
	// Stalls is the number of injected loop and mutex stalls, of durations
	// spread from StallMin to StallMax. One of them is an HTTP session's.
	Stalls             int
	StallMin, StallMax time.Duration
	// SchedStalls are the lengths of the scheduler stalls: every P spins in
	// assembly for that long.
	SchedStalls []time.Duration
	// Hogs are the duty cycles of the CPU hogs, each a session of
	// 1+HogChildren goroutines running at that duty cycle.
	Hogs        []float64
	HogChildren int
	// FreeHog, when not zero, is the duty cycle of one more hog whose
	// goroutines are not locked to their threads (measured by steps).
	FreeHog float64
	// Dispatched is the number of sessions the dispatcher begins.
	Dispatched int
	// DispatcherCPU is the CPU the dispatcher burns before each Begin.
	DispatcherCPU time.Duration
	// LeakEvery is how often the leaker leaks a goroutine.
	LeakEvery time.Duration
	// HTTPEvery is how often the HTTP client starts a request (a session).
	HTTPEvery time.Duration
	// SampleInterval is Options.SampleInterval; zero is the default.
	SampleInterval time.Duration
	// Logf, when not nil, gets progress lines.
	Logf func(format string, args ...any)
}

// Quick is the scenario of the test: every kind of session and stall of the
// full one, scaled down to run in well under a minute under -race on a
// loaded 2-core machine.
func Quick(dir string) Config {
	return Config{
		Dir:           dir,
		Duration:      24 * time.Second,
		Sessions:      40,
		Every:         10 * time.Millisecond,
		Stalls:        8,
		StallMin:      150 * time.Millisecond,
		StallMax:      350 * time.Millisecond,
		SchedStalls:   []time.Duration{300 * time.Millisecond, 540 * time.Millisecond},
		Hogs:          []float64{0.4, 0.2, 0.1},
		HogChildren:   1,
		FreeHog:       0.3,
		Dispatched:    4,
		DispatcherCPU: 150 * time.Millisecond,
		LeakEvery:     40 * time.Millisecond,
		HTTPEvery:     25 * time.Millisecond,
	}
}

// Full is the scenario: 200 ordinary sessions, 15 injected stalls,
// three scheduler stalls of 300 to 540 ms, for 100 seconds.
func Full(dir string) Config {
	c := Quick(dir)
	c.Duration = 100 * time.Second
	c.Sessions = 200
	c.Every = 20 * time.Millisecond
	c.Stalls = 15
	c.StallMin, c.StallMax = 120*time.Millisecond, 450*time.Millisecond
	c.SchedStalls = []time.Duration{300 * time.Millisecond, 420 * time.Millisecond, 540 * time.Millisecond}
	c.Dispatched = 10
	c.DispatcherCPU = 300 * time.Millisecond
	return c
}

func (c Config) recording() string { return filepath.Join(c.Dir, "truth.zst") }

// at is the moment a fraction f of the run after start.
func (c Config) at(start time.Time, f float64) time.Time {
	return start.Add(time.Duration(f * float64(c.Duration)))
}
