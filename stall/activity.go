package stall

import (
	"cmp"
	"slices"
	"time"
)

// A session entering a watched loop or mutex proves that the scheduler ran
// it then, and a busy worker's sessions enter far more often than the
// scheduler probe wakes. In a saturated worker the probe's own goroutines
// queue behind everyone else before and after a stop (tens of milliseconds
// each way), while the first sessions run as soon as a P is free. So each
// shard of a loop keeps, beside its holds, what its enters say about time:
// when it was last entered, and its latest stretches of at least gapMin
// with no enter (the first enter is kept as one of no length, where what is
// known begins). Everywhere else from the oldest it keeps to the last enter
// it was entered at least every gapMin: the scheduler ran. [SchedProbe]
// cuts a stop to what no such proof falls in.

// gapMin is the shortest stretch without an enter a shard records. A shard
// entered less often records every enter as the end of a gap, and says
// less about when the scheduler ran; one entered more often records only
// stops and lulls.
const gapMin = int64(10 * time.Millisecond)

// maxActivityShards bounds the shards a stop's measurement reads: a worker
// with a Loop per room may have tens of thousands, and a few thousand say as
// much about when anything ran.
const maxActivityShards = 4096

// entered records an enter at start (monotonic), read before sh.mu was
// taken. sh.mu must be held.
func (sh *shard) entered(start int64) {
	n := uint64(len(sh.gaps))
	switch {
	case sh.ngaps == 0:
		// The first enter: a gap of no length, where what is known begins.
		sh.gaps[0], sh.ngaps = span{start, start}, 1
	case start-sh.last >= gapMin:
		sh.gaps[sh.ngaps%n] = span{sh.last, start}
		sh.ngaps++
	case start <= sh.last:
		// An enter that read the clock, then waited for the lock or a P
		// while others entered: if its time falls in the latest gap,
		// something ran in it after all.
		g := &sh.gaps[(sh.ngaps-1)%n]
		if start > g.start && start < g.end {
			end := g.end
			g.end = start
			if end-start >= gapMin {
				sh.gaps[sh.ngaps%n] = span{start, end}
				sh.ngaps++
			}
		}
	}
	// One nanosecond on when the enter read an earlier time, so that last
	// changes with every enter.
	sh.last = max(start, sh.last+1)
}

// ran appends to dst the stretches within [from, to] in which the shard's
// enters prove the scheduler ran: its enters, and everything between its
// recorded gaps from the oldest it remembers to its last enter. sh.mu must
// be held.
func (sh *shard) ran(dst []span, from, to int64) []span {
	if sh.ngaps == 0 {
		return dst
	}
	n := uint64(len(sh.gaps))
	k := min(sh.ngaps, n)
	prev := sh.gaps[(sh.ngaps-k)%n].start // what came before is forgotten
	for i := sh.ngaps - k; i < sh.ngaps; i++ {
		g := sh.gaps[i%n]
		if g.start == g.end {
			continue // the first enter's mark
		}
		if prev <= to && g.start >= from {
			dst = append(dst, span{max(prev, from), min(g.start, to)})
		}
		prev = g.end
	}
	if prev <= to && sh.last >= from {
		dst = append(dst, span{max(prev, from), min(sh.last, to)})
	}
	return dst
}

// ran returns the stretches within [from, to] (monotonic) in which the
// enters of the watchdog's loops and mutexes prove the scheduler ran.
func (w *Watchdog) ran(from, to int64) []span {
	w.mu.Lock()
	loops := slices.Clone(w.order)
	w.mu.Unlock()
	var dst []span
	read := 0
	for _, l := range loops {
		for i := range l.shards {
			if read == maxActivityShards {
				return dst
			}
			read++
			sh := &l.shards[i]
			sh.mu.Lock()
			dst = sh.ran(dst, from, to)
			sh.mu.Unlock()
		}
	}
	return dst
}

// A proof is a stretch in which the scheduler is known to have run, and
// whether it is one of the probe's own (a time its witness or queuer ran)
// rather than a session's.
type proof struct {
	span
	probe bool
}

// longestFree returns the longest stretch of [from, to] that no proof falls
// in, and whether it begins at a proof of the probe's own. from and to are
// times the probe ran.
func longestFree(from, to int64, proofs []proof) (start, end int64, atProbe bool) {
	slices.SortFunc(proofs, func(a, b proof) int { return cmp.Compare(a.start, b.start) })
	cur, curProbe := from, true
	start, end, atProbe = from, from, true
	for _, p := range proofs {
		if p.start > cur && p.start-cur > end-start {
			start, end, atProbe = cur, p.start, curProbe
		}
		if p.end > cur || p.end == cur && p.probe {
			cur, curProbe = p.end, p.probe
		}
	}
	if to-cur > end-start {
		start, end, atProbe = cur, to, curProbe
	}
	return start, end, atProbe
}
