//go:build linux

package truth

import (
	"testing"
	"time"
)

// holding are the figures the introspector gets right today, each asserted
// at its goal. A figure joins this list when the fix that brings it to its
// goal is on main; the others are printed, not asserted (scripts/truth.sh,
// BENCHMARKS.md).
var holding = []string{
	FigDetected, // slow-session start (stall, 04:31)
	FigSession,
	FigRSS,
	FigLeakCount,
	FigLeakLine,       // gor_stacks (stall, 04:51)
	FigMem,            // rows keep bytes (cpu, 04:2x)
	FigDispatcher,     // introspect.Dispatched and Go
	FigPoolAttributed, // introspect.Do
	FigBlamed,         // cause waiting-for-cpu (stall, 04:31 and 05:22)
	FigVictims,
	FigCulprits,
}

// TestTruth runs the small scenario with the real introspector and checks
// what it recorded against what happened: the right session, line and cause
// of every injected stall, no blame for the innocent, CPU seconds against the
// threads' clocks, the leak's parking line. It asserts what is true or false,
// never a speed: every margin is on a measurement, and the scenario holds on
// a loaded two-core machine.
func TestTruth(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a 24-second scenario")
	}
	cfg := Quick(t.TempDir())
	cfg.Logf = t.Logf
	tr, err := Run(cfg)
	if err != nil {
		t.Fatal(err)
	}
	checkHarness(t, cfg, tr)
	v, err := Judge(tr)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s\n%s", v.Table(), v.Details())
	for _, name := range holding {
		f, ok := v.Figure(name)
		if !ok {
			t.Errorf("no figure %q", name)
			continue
		}
		if !f.Met {
			t.Errorf("%s: %s, goal %s", f.Name, f.Measured, f.Goal)
			for _, d := range f.Detail {
				t.Errorf("  %s", d)
			}
		}
	}
}

// checkHarness checks the truth itself: a harness that injected nothing, or
// measured no CPU, would judge nothing and pass.
func checkHarness(t *testing.T, cfg Config, tr *Truth) {
	t.Helper()
	if len(tr.Injected) != cfg.Stalls {
		t.Errorf("injected %d stalls, planned %d", len(tr.Injected), cfg.Stalls)
	}
	for _, i := range tr.Injected {
		if i.Site == "" || i.Dur() < cfg.StallMin/2 {
			t.Errorf("injected stall %+v: no site, or it did not block", i)
		}
	}
	if asmSpin && len(tr.Spins) == 0 {
		t.Errorf("none of the %d scheduler stalls held every P", len(cfg.SchedStalls))
	}
	for _, id := range tr.Judged {
		if tr.CPU[id] <= 0 {
			t.Errorf("no CPU measured for %s", id)
		}
	}
	if tr.Pool.Job <= 0 || tr.Pool.Own <= 0 || tr.Dispatcher.Own < time.Duration(cfg.Dispatched)*cfg.DispatcherCPU {
		t.Errorf("pool %+v, dispatcher %+v: not measured", tr.Pool, tr.Dispatcher)
	}
	if tr.Leak.Site == "" || tr.Leak.Count == 0 {
		t.Errorf("leak %+v: nothing leaked", tr.Leak)
	}
	if tr.HTTPSessions == 0 || len(tr.Live) == 0 || len(tr.Ordinary) == 0 {
		t.Errorf("%d HTTP sessions, %d live checks, %d ordinary sessions", tr.HTTPSessions, len(tr.Live), len(tr.Ordinary))
	}
}
