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

	mu     sync.Mutex
	head   *hold                  // active holds, a doubly linked list so leave is O(1)
	cache  map[uint64]*labelEntry // labelled contexts by label-set hash, see labels.go
	recent []recentSet            // the entries that served recent contexts, see labels.go
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
// Enter and leave are cheap (a few hundred nanoseconds, and no allocation
// once a session's labelled context is cached on the loop, unless leave
// outlives the function that called Enter) and safe for concurrent use.
//
// Holds may nest (a mutex taken inside a loop's work), but the goroutine
// carries one hold label at a time: after the inner leave, the outer hold
// is no longer found in goroutine profiles, and its report falls back to the
// stack captured earlier, or to where it was left.
func (l *Loop) Enter(ctx context.Context) (leave func()) {
	// The hold is recycled once left, so leave names the use it ends.
	// Enter is inlined, so leave lives on the caller's stack unless it
	// outlives the caller.
	return l.enter(ctx).leave
}

// hold is one goroutine's hold on a Loop. Its fields are set by enter before
// the hold is published under Loop.mu and are read-only after, except the
// list links and watch (Loop.mu, then the watchdog goroutine's alone), state,
// ending and id (atomic).
//
// Holds are reused: most last microseconds, and a worker makes tens of
// thousands a second. A hold ends as its entry's spare, lent with the entry
// next time, only if the watchdog never saw it (watch is nil when it is
// unlinked) and it was not a stall, so the watchdog never meets a reused
// hold. A stale leave cannot end the hold's next use either, because each use
// has its own generation.
type hold struct {
	loop  *Loop
	ctx   context.Context
	start int64 // monotonic, see monoNow

	state  atomic.Uint64 // generation<<1 | 1 once left
	ending atomic.Int64  // when leave began (monotonic), 0 while held
	id     atomic.Uint64 // the stall's ID, 0 until the hold is a stall

	prev, next *hold
	watch      *watch      // nil until the hold first crosses the threshold
	entry      *labelEntry // the labelled context lent to this hold
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

// gen returns the generation of the hold's current use.
func (h *hold) gen() uint64 { return h.state.Load() >> 1 }

// stallID returns the hold's stall ID, numbering it on first use: most holds
// are never stalls, and a counter shared by every processor is not free.
func (h *hold) stallID() uint64 {
	if id := h.id.Load(); id != 0 {
		return id
	}
	h.id.CompareAndSwap(0, newID())
	return h.id.Load()
}

func (l *Loop) enter(ctx context.Context) use {
	key := contextKey(ctx)
	start := monoNow()
	l.mu.Lock()
	h := l.recall(ctx, key, start)
	if h == nil {
		l.mu.Unlock()
		h = l.lend(ctx, key, start)
	}
	if s := h.state.Load(); s&1 != 0 {
		h.state.Store(s + 1) // a reused hold: its next generation, held
	}
	h.loop, h.ctx, h.start = l, ctx, start
	h.next = l.head
	if l.head != nil {
		l.head.prev = h
	}
	l.head = h
	l.mu.Unlock()
	pprof.SetGoroutineLabels(h.entry.ctx)
	return use{h, h.gen()}
}

// lend finds or makes at now the entry for ctx's labels, and returns the hold
// it is lent with, with l.mu held.
func (l *Loop) lend(ctx context.Context, key uint64, now int64) *hold {
	labels := readLabels(ctx)
	l.mu.Lock()
	h := l.take(&labels, now)
	if h == nil {
		l.mu.Unlock()
		e := newEntry(&labels, ctx, now) // allocates: not under the lock
		l.mu.Lock()
		h = l.adopt(&labels, e)
	}
	l.remember(ctx, key, h.entry)
	return h
}

// use is one use of a reused hold: the hold and its generation.
type use struct {
	h   *hold
	gen uint64
}

// leave ends the use, if it is still going on.
func (u use) leave() { u.h.end(u.gen) }

// end ends the hold if it is still in generation gen and held.
func (h *hold) end(gen uint64) {
	held := gen << 1
	if h.state.Load() != held {
		return // left already
	}
	end := monoNow()
	if !h.state.CompareAndSwap(held, held|1) {
		return
	}
	// Set before the labels are restored and the entry is lent again, so
	// a capture that reads 0 here after its profile knows the holder
	// still carried the label when the profile was taken.
	h.ending.Store(end)
	pprof.SetGoroutineLabels(h.entry.base) // ctx's labels, without reading ctx
	l := h.loop
	stalled := end-h.start >= int64(l.w.opts.Threshold)
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
	e := h.entry
	e.owner = nil
	if h.watch == nil && !stalled {
		h.ctx = nil // not kept alive by the cache
		e.spare = h
	}
	l.mu.Unlock()
	if !stalled {
		return
	}
	// A stall: remember where it ended in case no profile caught the
	// holder while it lasted, and hand it over for the final report.
	h.stallID()
	pcs := make([]uintptr, maxStack+4)
	l.w.finished(ended{h: h, end: end, leftAt: pcs[:runtime.Callers(2, pcs)]})
}
