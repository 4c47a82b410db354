package stall

import (
	"context"
	"sync"
)

// A Mutex is a mutual exclusion lock shared by sessions whose hold time is
// watched: a global lock, a room's state lock. Hold time counts from the
// moment the lock is acquired, so a session waiting for it is not blamed;
// the session holding it is.
//
// A Mutex has no Lock method, because a hold must say whose it is: lock it
// with [Mutex.LockCtx], or use [Mutex.Locker] where a [sync.Locker] is
// needed (for a [sync.Cond], say). As with [Loop.Enter], the goroutine that
// locks it must be the one that unlocks it, so its profiler labels can be
// restored.
//
// Create one with [Watchdog.Mutex]. A Mutex must not be copied.
type Mutex struct {
	mu   sync.Mutex
	loop *Loop
	u    use // the current hold, guarded by mu
}

// Mutex returns a new watched mutex whose stalls have the given name as
// their Source. Mutexes and loops of the same name share one [Loop].
func (w *Watchdog) Mutex(name string) *Mutex {
	return &Mutex{loop: w.Loop(name)}
}

// LockCtx locks m on behalf of the session whose pprof labels ctx carries,
// waiting if it is held.
func (m *Mutex) LockCtx(ctx context.Context) {
	m.mu.Lock()
	m.u = m.loop.enter(ctx)
}

// TryLockCtx tries to lock m on behalf of the session whose pprof labels
// ctx carries and reports whether it succeeded.
func (m *Mutex) TryLockCtx(ctx context.Context) bool {
	if !m.mu.TryLock() {
		return false
	}
	m.u = m.loop.enter(ctx)
	return true
}

// Unlock unlocks m, ending the hold. It is a run-time error if m is not
// locked on entry to Unlock.
func (m *Mutex) Unlock() {
	u := m.u
	m.u = use{}
	if u.h != nil {
		u.leave()
	}
	m.mu.Unlock()
}

// Locker returns a [sync.Locker] whose Lock locks m on behalf of the session
// whose pprof labels ctx carries.
func (m *Mutex) Locker(ctx context.Context) sync.Locker {
	return &ctxLocker{m: m, ctx: ctx}
}

type ctxLocker struct {
	m   *Mutex
	ctx context.Context
}

func (l *ctxLocker) Lock()   { l.m.LockCtx(l.ctx) }
func (l *ctxLocker) Unlock() { l.m.Unlock() }
