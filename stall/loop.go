package stall

import (
	"context"
	"math/bits"
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
	w      *Watchdog
	name   string
	thr    int64   // the watchdog's threshold, in nanoseconds
	shards []shard // a power of two of them
	shift  uint    // a context's key shifted right by shift picks its shard
	seen   []int64 // each shard's last at the watchdog's last check; the watchdog goroutine's
}

// A shard is a part of a Loop's holds, and the entries that serve them: the
// sessions whose contexts hash alike (see contextKey). Holds of different
// sessions seldom meet on one lock, which matters less for the time spent
// waiting than for the cost of waking the waiter.
type shard struct {
	loop *Loop
	// last is when the shard was last entered (monotonic; see entered):
	// it changes with every enter, so the watchdog tells a busy loop from
	// an idle one by it. mu
	last int64

	mu     sync.Mutex
	head   *hold                  // active holds, a doubly linked list so leave is O(1)
	cache  map[uint64]*labelEntry // labelled contexts by label-set hash, see labels.go
	recent []recentSet            // the entries that served recent contexts, see labels.go

	// The latest stretches without an enter (see activity.go), in a line
	// of their own: an enter writes them only after a lull. mu
	ngaps uint64
	gaps  [7]span
	_     [8]byte
}

// maxShards bounds the shards of a Loop, which has four per processor.
const maxShards = 64

func newLoop(w *Watchdog, name string) *Loop {
	n := min(maxShards, 1<<bits.Len(uint(4*runtime.GOMAXPROCS(0)-1)))
	l := &Loop{w: w, name: name, thr: int64(w.opts.Threshold), shards: make([]shard, n),
		shift: uint(64 - bits.TrailingZeros(uint(n))), seen: make([]int64, n)}
	for i := range l.shards {
		l.shards[i].loop = l
	}
	return l
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
// Enter and leave are cheap and safe for concurrent use. Together they cost
// about 120ns of CPU in a tight loop and a few hundred nanoseconds in a busy
// worker, where a session's next hold finds what its last one touched gone
// from the caches; they allocate nothing once the session's labelled context
// is cached on the loop, unless leave outlives the function that called
// Enter.
//
// Holds may nest (a mutex taken inside a loop's work), but the goroutine
// carries one hold label at a time: after the inner leave, the outer hold
// is no longer found in goroutine profiles, and its report falls back to the
// stack captured earlier, or to where it was left.
func (l *Loop) Enter(ctx context.Context) (leave func()) {
	// The hold is reused once left, so leave names the use it ends.
	// Enter is inlined, so leave lives on the caller's stack unless it
	// outlives the caller.
	return l.enter(ctx).leave
}

// hold is one goroutine's hold on a Loop. Its fields are set by enter before
// the hold is published under its shard's mu and are read-only after, except
// the list links and watch (shard.mu; the watch itself is the watchdog
// goroutine's), state and ending (atomic).
//
// Holds are reused: most last microseconds, and a worker makes tens of
// thousands a second. A hold ends as its entry's spare, lent with the entry
// next time, only if the watchdog never saw it (watch is nil when it is
// unlinked) and it was not a stall, so the watchdog never meets a reused
// hold. A stale leave cannot end the hold's next use either, because each use
// has its own generation.
//
// What a hold touches fits in one cache line (64 bytes), and its entry's in
// another: the next time a session enters, both have long left the caches.
type hold struct {
	state  atomic.Uint64 // generation<<1 | 1 once left
	ending atomic.Int64  // when leave began (monotonic), 0 while held
	start  int64         // monotonic, see monoNow
	shard  *shard

	prev, next *hold
	watch      *watch      // nil until the watchdog sees the hold or it ends as a stall
	entry      *labelEntry // the labelled context lent to this hold
}

// watch is what the watchdog goroutine, and only it, keeps about a hold that
// crossed the threshold.
type watch struct {
	id         uint64 // the stall's ID, set when the watch is made
	reported   bool   // an ongoing report was made
	nextReport int64  // the duration due the next ongoing report
	bare       bool   // the last ongoing report carried no stack
	captured   bool   // a profile was taken since the hold crossed the threshold
	frame      string
	frameFrom  string // FrameHolder or FrameLeave
	stack      []string
	wait       string // what the holder waited for at the last capture, "" if it was not parked
	parked     string // what it waited for at the last capture that found it parked
	runnable   bool   // a capture found it neither parked nor in a system call
}

// ended is a hold that ended as a stall, queued for its final report.
type ended struct {
	h      *hold
	end    int64     // monotonic
	leftAt []uintptr // where it ended, for a stall no profile caught
}

// gen returns the generation of the hold's current use.
func (h *hold) gen() uint64 { return h.state.Load() >> 1 }

func (l *Loop) enter(ctx context.Context) use {
	key := contextKey(ctx)
	sh := &l.shards[key>>l.shift]
	start := monoNow()
	sh.mu.Lock()
	h := sh.recall(ctx, key, start)
	if h == nil {
		sh.mu.Unlock()
		h = sh.lend(ctx, key, start)
	}
	if s := h.state.Load(); s&1 != 0 {
		h.state.Store(s + 1) // a reused hold: its next generation, held
		// and not ending: a capture that read its last use's mark would
		// take this use for ended and throw the holder's stack away.
		h.ending.Store(0)
	}
	h.shard, h.start = sh, start
	h.next = sh.head
	if sh.head != nil {
		sh.head.prev = h
	}
	sh.head = h
	sh.entered(start)
	sh.mu.Unlock()
	if l.w.idle.Load() {
		l.w.nudge() // it sleeps until a hold begins: this one
	}
	pprof.SetGoroutineLabels(h.entry.ctx)
	return use{h, h.gen()}
}

// lend finds or makes at now the entry for ctx's labels, and returns the hold
// it is lent with, with sh.mu held.
func (sh *shard) lend(ctx context.Context, key uint64, now int64) *hold {
	labels := readLabels(ctx)
	sh.mu.Lock()
	h := sh.take(&labels, now)
	if h == nil {
		sh.mu.Unlock()
		e := newEntry(&labels, ctx, now) // allocates: not under the lock
		sh.mu.Lock()
		h = sh.adopt(&labels, e)
	}
	sh.remember(ctx, key, h.entry)
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
	sh := h.shard
	stalled := end-h.start >= sh.loop.thr
	sh.mu.Lock()
	if h.prev != nil {
		h.prev.next = h.next
	} else {
		sh.head = h.next
	}
	if h.next != nil {
		h.next.prev = h.prev
	}
	h.prev, h.next = nil, nil
	e := h.entry
	e.owner = nil
	if !stalled {
		if h.watch == nil {
			e.spare = h
		}
		sh.mu.Unlock()
		return
	}
	if h.watch == nil {
		h.watch = &watch{id: newID()}
	}
	// Retire the label: the CPU samples that carry it should be this
	// stall's, not a later hold's, when the watchdog judges it.
	e.polluted = true
	sh.mu.Unlock()
	// A stall: remember where it ended in case no profile caught the
	// holder while it lasted, and hand it over for the final report.
	pcs := make([]uintptr, maxStack+4)
	sh.loop.w.finished(ended{h: h, end: end, leftAt: pcs[:runtime.Callers(2, pcs)]})
}
