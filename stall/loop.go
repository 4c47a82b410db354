package stall

import (
	"context"
	"runtime"
	"runtime/pprof"
	"strconv"
	"sync"
	"sync/atomic"
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
// Enter and leave cost a few hundred nanoseconds, most of it building the
// labelled context, and are safe for concurrent use.
func (l *Loop) Enter(ctx context.Context) (leave func()) {
	h := l.enter(ctx)
	return h.leave
}

// hold is one goroutine's hold on a Loop. Its fields are set by Enter before
// the hold is published under Loop.mu and are read-only after, except the
// list links (Loop.mu), left (atomic) and watch (the watchdog goroutine's).
// It is kept small: Enter allocates one per hold.
type hold struct {
	loop  *Loop
	ctx   context.Context
	id    uint64
	start int64 // monotonic, see monoNow

	prev, next *hold
	watch      *watch // nil until the hold first crosses the threshold
	left       atomic.Bool
	idBuf      [20]byte // backs the HoldLabel value without another allocation
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
	label := strconv.AppendUint(h.idBuf[:0], h.id, 10)
	// The string aliases idBuf, which is never written again.
	pprof.SetGoroutineLabels(withHoldLabel(ctx, unsafe.String(&label[0], len(label))))
	h.start = monoNow()
	l.mu.Lock()
	h.next = l.head
	if l.head != nil {
		l.head.prev = h
	}
	l.head = h
	l.mu.Unlock()
	return h
}

// withHoldLabel returns a context whose pprof labels are those of ctx plus
// HoldLabel=id. It is only for pprof.SetGoroutineLabels, which reads nothing
// but the labels, so it need not descend from ctx; building the label set in
// one piece saves pprof.WithLabels' merge (three allocations of five).
func withHoldLabel(ctx context.Context, id string) context.Context {
	var kv [2 * 8]string
	n, ok := 0, true
	put := func(k, v string) {
		if n+2 > len(kv) {
			ok = false
			return
		}
		kv[n], kv[n+1] = k, v
		n += 2
	}
	placed := false
	pprof.ForLabels(ctx, func(k, v string) bool {
		// ForLabels yields keys in sorted order; keep them sorted so
		// pprof.Labels takes its fast path.
		if !placed && k >= HoldLabel {
			put(HoldLabel, id)
			placed = true
			if k == HoldLabel {
				return true // an outer hold's label; ours replaces it
			}
		}
		put(k, v)
		return ok
	})
	if !placed {
		put(HoldLabel, id)
	}
	if !ok {
		return pprof.WithLabels(ctx, pprof.Labels(HoldLabel, id))
	}
	return pprof.WithLabels(context.Background(), pprof.Labels(kv[:n]...))
}

func (h *hold) leave() {
	if h.left.Swap(true) {
		return
	}
	end := monoNow()
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
	if end-h.start < int64(l.w.opts.Threshold) {
		return
	}
	// A stall: remember where it ended in case no profile caught the
	// holder while it lasted, and hand it over for the final report.
	pcs := make([]uintptr, maxStack+4)
	l.w.finished(ended{h: h, end: end, leftAt: pcs[:runtime.Callers(2, pcs)]})
}
