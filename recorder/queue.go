package recorder

import (
	"sync"
	"sync/atomic"
	"time"
)

// lineQueue carries encoded lines from Handle to the writer goroutine. It is
// two batches that swap: callers append to the pending one under a mutex, and
// the writer takes it whole, leaving the other (emptied) in its place. Both
// batches count against one budget until the writer releases the one it
// took, so what the queue holds is bounded in bytes and records whatever the
// event rate, with no allocation per record once the buffers have grown.
type lineQueue struct {
	mu        sync.Mutex
	room      sync.Cond // signalled when the writer releases a batch (blocking mode)
	pend      *lineBatch
	busy      *lineBatch
	busyBytes int // held by the batch the writer is working on
	busyRecs  int
	maxBytes  int
	maxRecs   int
	blocks    bool // wait for room instead of dropping (Options.Clock mode)
	closed    bool

	// wake holds a token when the pending batch became non-empty since the
	// writer last looked.
	wake chan struct{}

	dropped atomic.Int64 // dropped as "queue full" since the writer last reported
	lost    atomic.Int64 // dropped in total, for Stats
}

// A lineBatch is a run of lines (each ending in '\n') in one buffer, with
// where each ends and its record time in Unix nanoseconds (0 for none).
type lineBatch struct {
	buf   []byte
	ends  []int
	times []int64
}

func (b *lineBatch) reset() {
	b.buf, b.ends, b.times = b.buf[:0], b.ends[:0], b.times[:0]
}

func (b *lineBatch) len() int { return len(b.ends) }

// line returns the i-th line, with its newline.
func (b *lineBatch) line(i int) []byte {
	start := 0
	if i > 0 {
		start = b.ends[i-1]
	}
	return b.buf[start:b.ends[i]]
}

func newLineQueue(maxBytes, maxRecs int, blocks bool) *lineQueue {
	q := &lineQueue{
		pend:     new(lineBatch),
		busy:     new(lineBatch),
		maxBytes: maxBytes,
		maxRecs:  maxRecs,
		blocks:   blocks,
		wake:     make(chan struct{}, 1),
	}
	q.room.L = &q.mu
	// A modest start: the buffers grow to what the event rate needs, up to
	// the budget, and are then reused.
	q.pend.buf = make([]byte, 0, min(maxBytes, 64<<10))
	return q
}

// push copies line into the queue. It never waits for the writer unless the
// queue blocks (Clock mode); a line that does not fit is dropped and counted.
func (q *lineQueue) push(line []byte, t int64) error {
	q.mu.Lock()
	for {
		if q.closed {
			q.mu.Unlock()
			return ErrClosed
		}
		fits := q.busyBytes+len(q.pend.buf)+len(line) <= q.maxBytes &&
			q.busyRecs+len(q.pend.ends) < q.maxRecs
		if fits {
			break
		}
		// A line bigger than the whole budget can never fit: drop it even
		// in blocking mode rather than wait forever.
		if !q.blocks || len(line) > q.maxBytes {
			q.mu.Unlock()
			q.dropped.Add(1)
			q.lost.Add(1)
			return nil
		}
		q.room.Wait()
	}
	p := q.pend
	wasEmpty := len(p.ends) == 0
	p.buf = append(p.buf, line...)
	p.ends = append(p.ends, len(p.buf))
	p.times = append(p.times, t)
	q.mu.Unlock()
	if wasEmpty {
		select {
		case q.wake <- struct{}{}:
		default:
		}
	}
	return nil
}

// take hands the pending batch to the writer. The batch stays counted against
// the budget, and valid, until release.
func (q *lineQueue) take() *lineBatch {
	q.mu.Lock()
	q.busy.reset()
	q.pend, q.busy = q.busy, q.pend
	q.busyBytes, q.busyRecs = len(q.busy.buf), len(q.busy.ends)
	q.mu.Unlock()
	return q.busy
}

// release returns the budget of the batch last taken.
func (q *lineQueue) release() {
	q.mu.Lock()
	q.busyBytes, q.busyRecs = 0, 0
	if q.blocks {
		q.room.Broadcast()
	}
	q.mu.Unlock()
}

// close makes every later push fail with ErrClosed and wakes pushers that
// wait for room.
func (q *lineQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.room.Broadcast()
	q.mu.Unlock()
}

// unixNano encodes t as format.go does: 0 stands for the zero time.
func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}
