package workload

import (
	"context"
	"runtime/pprof"

	"github.com/openrtc-go/introspect"
)

// mixer is the resource every session shares. Inline, each session mixes on
// its own goroutine and only the hold is watched; as a loop, one goroutine
// mixes for everybody, so one session's long hold delays every other
// session's frame, which is what a shared event loop does.
type mixer struct {
	loop *introspect.Loop
	jobs chan mixJob // nil inline
}

// mixJob is one session's turn on the mixer loop.
type mixJob struct {
	ctx  context.Context // the session's context: its labels, for attribution
	work func()
	done chan struct{} // buffered: the loop never waits for a session gone away
}

func newMixer(l *introspect.Loop, asLoop bool) *mixer {
	m := &mixer{loop: l}
	if asLoop {
		m.jobs = make(chan mixJob)
	}
	return m
}

// do runs work on the mixer on behalf of the session of ctx and waits for it
// to be done. It reports false when ctx ended first.
func (m *mixer) do(ctx context.Context, work func()) bool {
	if m.jobs == nil {
		leave := m.loop.Enter(ctx)
		work()
		leave()
		return true
	}
	j := mixJob{ctx: ctx, work: work, done: make(chan struct{}, 1)}
	select {
	case m.jobs <- j:
	case <-ctx.Done():
		return false
	}
	select {
	case <-j.done:
		return true
	case <-ctx.Done():
		return false
	}
}

// run is the mixer loop: one goroutine, one job at a time, until ctx ends.
// Each job runs under its session's labels, so its CPU is the session's and
// a hold too long names the session, as a dispatcher that serves sessions
// does with pprof.SetGoroutineLabels.
func (m *mixer) run(ctx context.Context) {
	for {
		var j mixJob
		select {
		case <-ctx.Done():
			return
		case j = <-m.jobs:
		}
		pprof.SetGoroutineLabels(j.ctx)
		leave := m.loop.Enter(j.ctx)
		j.work()
		leave()
		pprof.SetGoroutineLabels(ctx) // back to the loop's own labels
		j.done <- struct{}{}
	}
}
