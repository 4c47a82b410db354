package stall

import (
	"context"
	"runtime"
	"runtime/pprof"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
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

	mu   sync.Mutex
	head *hold // active holds, a doubly linked list so leave is O(1)
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
// Enter and leave take a few hundred nanoseconds and are safe for concurrent
// use.
func (l *Loop) Enter(ctx context.Context) (leave func()) {
	h := l.enter(ctx)
	return h.leave
}

// hold is one goroutine's hold on a Loop. Fields above the line are set by
// Enter before the hold is published under Loop.mu and are read-only after;
// end and leftAt are set by leave before the hold is queued under
// Watchdog.finMu; the rest belong to the watchdog goroutine alone.
type hold struct {
	loop  *Loop
	ctx   context.Context
	id    uint64
	start time.Time
	idBuf [20]byte // backs the HoldLabel value without another allocation

	prev, next *hold
	left       atomic.Bool

	end    time.Time
	leftAt []uintptr // where the hold ended, for a stall no profile caught

	// Watchdog-owned.
	reported   bool          // an ongoing report was made
	nextReport time.Duration // the duration due the next ongoing report
	captured   bool          // a profile was taken since the hold crossed the threshold
	frame      string
	stack      []string
}

func (l *Loop) enter(ctx context.Context) *hold {
	h := &hold{loop: l, ctx: ctx, id: newID()}
	label := strconv.AppendUint(h.idBuf[:0], h.id, 10)
	// The string aliases idBuf, which is never written again.
	pprof.SetGoroutineLabels(pprof.WithLabels(ctx, pprof.Labels(HoldLabel, unsafe.String(&label[0], len(label)))))
	h.start = time.Now()
	l.mu.Lock()
	h.next = l.head
	if l.head != nil {
		l.head.prev = h
	}
	l.head = h
	l.mu.Unlock()
	return h
}

func (h *hold) leave() {
	if h.left.Swap(true) {
		return
	}
	end := time.Now()
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
	l.mu.Unlock()
	if end.Sub(h.start) < l.w.opts.Threshold {
		return
	}
	// A stall: remember where it ended in case no profile caught the
	// holder while it lasted, and hand it to the watchdog for the final
	// report.
	pcs := make([]uintptr, maxStack+4)
	h.leftAt = pcs[:runtime.Callers(2, pcs)]
	h.end = end
	l.w.finished(h)
}
