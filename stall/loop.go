package stall

import (
	"context"
	"runtime"
	"runtime/pprof"
	"sync"
	"sync/atomic"
)

// A Loop is a named loop or critical section shared by sessions, such as a
// room's event loop, a mixer or a dispatcher. Sessions [Loop.Enter] it when
// they start a piece of work on it and leave when done; the [Watchdog] that
// made it reports any hold longer than its threshold.
//
// A Loop does not exclude anybody: many goroutines may hold it at once, and
// each hold is watched on its own. For a lock, see [Mutex].
type Loop struct {
	w    *Watchdog
	name string

	mu    sync.Mutex
	head  *hold                  // active holds, a doubly linked list so leave is O(1)
	cache map[uint64]*labelEntry // labelled contexts by label-set hash, see labels.go
}

// Name returns the loop's name, the Source of its stalls.
func (l *Loop) Name() string { return l.name }

// Enter records that the calling goroutine starts holding the loop on behalf
// of the session whose pprof labels ctx carries, and returns the function
// that ends the hold. Calling leave more than once is harmless.
//
// While it holds the loop the goroutine's profiler labels are those of ctx
// plus [HoldLabel], so the watchdog can find its stack; leave sets them back
// to those of ctx. Enter and leave must therefore be called by the same
// goroutine, and ctx should be the context whose labels the goroutine runs
// with (as pprof.Do arranges).
//
// Enter and leave are cheap (a few hundred nanoseconds, one allocation once
// a session's labelled context is cached on the loop) and safe for
// concurrent use.
//
// Holds may nest (a mutex taken inside a loop's work), but the goroutine
// carries one hold label at a time: after the inner leave, the outer hold
// is no longer found in goroutine profiles, and its report falls back to the
// stack captured earlier, or to where it was left.
func (l *Loop) Enter(ctx context.Context) (leave func()) {
	h := l.enter(ctx)
	return h.leave
}

// hold is one goroutine's hold on a Loop. Its fields are set by Enter before
// the hold is published under Loop.mu and are read-only after, except the
// list links (Loop.mu), ending (atomic) and watch (the watchdog goroutine's).
// It is kept small: Enter allocates one per hold.
type hold struct {
	loop  *Loop
	ctx   context.Context
	id    uint64
	start int64 // monotonic, see monoNow

	prev, next *hold
	watch      *watch       // nil until the hold first crosses the threshold
	entry      *labelEntry  // the labelled context lent to this hold
	ending     atomic.Int64 // when leave began (monotonic), 0 while held
}

// watch is what the watchdog goroutine, and only it, keeps about a hold that
// crossed the threshold.
type watch struct {
	reported   bool  // an ongoing report was made
	nextReport int64 // the duration due the next ongoing report
	bare       bool  // the last ongoing report carried no stack
	captured   bool  // a profile was taken since the hold crossed the threshold
	frame      string
	stack      []string
}

// ended is a hold that ended as a stall, queued for its final report.
type ended struct {
	h      *hold
	end    int64     // monotonic
	leftAt []uintptr // where it ended, for a stall no profile caught
}

func (l *Loop) enter(ctx context.Context) *hold {
	h := &hold{loop: l, ctx: ctx, id: newID()}
	labels := readLabels(ctx)
	h.start = monoNow()
	l.mu.Lock()
	if !l.take(&labels, h) {
		l.mu.Unlock()
		e := newEntry(&labels, ctx) // allocates: not under the lock
		l.mu.Lock()
		l.adopt(&labels, e, h)
	}
	h.next = l.head
	if l.head != nil {
		l.head.prev = h
	}
	l.head = h
	l.mu.Unlock()
	pprof.SetGoroutineLabels(h.entry.ctx)
	return h
}

func (h *hold) leave() {
	if h.ending.Load() != 0 {
		return // left already
	}
	end := monoNow()
	if !h.ending.CompareAndSwap(0, end) {
		return
	}
	pprof.SetGoroutineLabels(h.ctx)
	l := h.loop
	l.mu.Lock()
	if h.prev != nil {
		h.prev.next = h.next
	} else {
		l.head = h.next
	}
	if h.next != nil {
		h.next.prev = h.prev
	}
	h.prev, h.next = nil, nil
	h.entry.owner = nil
	l.mu.Unlock()
	if end-h.start < int64(l.w.opts.Threshold) {
		return
	}
	// A stall: remember where it ended in case no profile caught the
	// holder while it lasted, and hand it over for the final report.
	pcs := make([]uintptr, maxStack+4)
	l.w.finished(ended{h: h, end: end, leftAt: pcs[:runtime.Callers(2, pcs)]})
}
