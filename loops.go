package introspect

import (
	"context"
	"sync"

	"github.com/openrtc-go/introspect/events"
	"github.com/openrtc-go/introspect/stall"
)

// A Loop is a loop or critical section that sessions share: a room's event
// loop, a mixer, a dispatcher. Sessions enter it around each piece of work
// they do on it; a hold longer than the slow threshold is reported as a
// slow-session event while it is still going on, with the holder's session
// and source line, and again with its total when it ends.
//
// Get one with [Introspector.Loop]. The zero Loop (from a nil or disabled
// Introspector) watches nothing.
type Loop struct {
	l    *stall.Loop
	hide bool // sessions' ids are hidden from their goroutines (Options.HideSessionLabel)
}

// Loop returns the shared loop or section of the given name, creating it on
// first use. The name is the source of its stalls.
func (in *Introspector) Loop(name string) *Loop {
	if in == nil || in.off {
		return &Loop{}
	}
	return &Loop{l: in.watchdog.Loop(name), hide: in.hideSession()}
}

// Enter marks the start of a piece of work on the loop by the session whose
// context is ctx, and returns the function that marks its end. Call both on
// the same goroutine: while it holds the loop, the goroutine carries an extra
// profiler label by which its stack is found if the hold becomes a stall.
// Calling leave more than once is harmless.
func (l *Loop) Enter(ctx context.Context) (leave func()) {
	if l == nil || l.l == nil {
		return noLeave
	}
	if l.hide {
		ctx = holdContext(ctx)
	}
	return l.l.Enter(ctx)
}

// noLeave is the leave of a Loop that watches nothing; one shared func keeps
// Enter small enough to inline, so the leave of a watched hold does not
// escape to the heap.
var noLeave = func() {}

// A Mutex is a lock that sessions share, whose hold times are watched like a
// [Loop]'s: the session holding it too long is reported, not the ones
// waiting for it. Lock it with LockCtx, so the hold is attributed.
type Mutex struct {
	mu   sync.Mutex // used when introspection is off
	m    *stall.Mutex
	hide bool // sessions' ids are hidden from their goroutines
}

// Mutex returns a new watched mutex; its stalls have name as their source.
func (in *Introspector) Mutex(name string) *Mutex {
	if in == nil || in.off {
		return &Mutex{}
	}
	return &Mutex{m: in.watchdog.Mutex(name), hide: in.hideSession()}
}

// LockCtx locks m on behalf of the session whose context is ctx.
func (m *Mutex) LockCtx(ctx context.Context) {
	if m.m == nil {
		m.mu.Lock()
		return
	}
	if m.hide {
		ctx = holdContext(ctx)
	}
	m.m.LockCtx(ctx)
}

// Unlock unlocks m. It must be called by the goroutine that locked it.
func (m *Mutex) Unlock() {
	if m.m == nil {
		m.mu.Unlock()
		return
	}
	m.m.Unlock()
}

// Locker returns a sync.Locker that locks m on behalf of ctx's session, for
// APIs that take a Locker, such as sync.Cond.
func (m *Mutex) Locker(ctx context.Context) sync.Locker {
	return ctxLocker{m, ctx}
}

type ctxLocker struct {
	m   *Mutex
	ctx context.Context
}

func (l ctxLocker) Lock()   { l.m.LockCtx(l.ctx) }
func (l ctxLocker) Unlock() { l.m.Unlock() }

// reportStall turns a watchdog or scheduler report into a slow-session event.
func (in *Introspector) reportStall(s stall.Stall) {
	agent := s.Agent
	if agent == "" && s.Session != "" {
		agent = in.agentOf(s.Session)
	}
	in.emit(events.SlowSession{
		StallID: s.ID, SessionID: s.Session, Agent: agent, Source: s.Source,
		Blocked: s.Blocked, Ongoing: s.Ongoing, Confidence: s.Confidence,
		Frame: s.Frame, FrameFrom: s.FrameFrom, Stack: s.Stack, Start: s.Start,
		Cause: s.Cause, Wait: s.Wait, HoldCPU: s.HoldCPU, HoldCPUSeen: s.HoldCPUSeen, StarvedBy: s.StarvedBy,
	})
}
