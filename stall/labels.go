package stall

import (
	"context"
	"hash/maphash"
	"math/bits"
	"math/rand/v2"
	"runtime/pprof"
	"strconv"
	"time"
)

// Labelling a holder costs pprof.WithLabels: a merged label set, a map and a
// context, five allocations on every hold. A session enters the same loops
// again and again with the same labels, so each Loop keeps, per label set, a
// labelled context with its own HoldLabel value, lent to one hold at a time,
// and the hold it was last lent with, to use again. A second concurrent hold
// with the same labels gets a fresh one.
//
// Reading a context's labels costs more than the rest of a hold: the
// context, its label set and the strings are the session's memory, cold by
// the time its next frame enters the loop. Contexts are immutable, so each
// shard of a loop also remembers which entry served each recent context, in
// a small table indexed by the context's identity, and a context seen before
// is served without reading its labels. The table keeps the contexts it
// holds alive, but it is small: two to four slots per cached entry.
//
// One leak remains: a goroutine started by a holder inherits its labels, and
// keeps them after the hold ends. When a profile shows a label on more than
// one goroutine, the watchdog cannot tell the holder from such a child; it
// takes no stack from that profile rather than a wrong one, and marks the
// entry polluted so that later holds get a fresh label. To bound how long a
// child can shadow later holders, an entry is lent for at most maxEntryAge.

const (
	// maxLabelPairs is the most labels a context may carry for its
	// labelled context to be cached; more is unusual, and works uncached.
	maxLabelPairs = 8
	// maxEntryAge is how long one labelled context is lent before it is
	// rebuilt with a new label. Rebuilding costs about 1.2µs of CPU and
	// 660 bytes of garbage (nine allocations), as much as ten holds: a
	// session holding once per 20ms frame pays 8% more per hold for a
	// rebuild every second, under 2% at five.
	maxEntryAge = int64(5 * time.Second)
	// labelCacheSize bounds a shard's cache (a loop has four shards per
	// processor), at under a kilobyte an entry. When it is full, the
	// entries not lent out are dropped; they are rebuilt on demand.
	labelCacheSize = 4096
	// minRecent is the fewest sets a shard's table of recent contexts has.
	minRecent = 16
)

// labelSeed keys the hash of label sets; it only needs to be stable within
// the process.
var labelSeed = maphash.MakeSeed()

// sessionLabels is a context's pprof labels, flattened as key, value, ...
// in key order, without HoldLabel.
type sessionLabels struct {
	kv   [2 * maxLabelPairs]string
	n    int
	ok   bool // every label fitted in kv
	hash uint64
}

func readLabels(ctx context.Context) sessionLabels {
	s := sessionLabels{ok: true}
	var h maphash.Hash
	h.SetSeed(labelSeed)
	pprof.ForLabels(ctx, func(k, v string) bool {
		if k == HoldLabel {
			return true
		}
		if s.n == len(s.kv) {
			s.ok = false
			return false
		}
		s.kv[s.n], s.kv[s.n+1] = k, v
		s.n += 2
		h.WriteString(k)
		h.WriteByte(0)
		h.WriteString(v)
		h.WriteByte(0)
		return true
	})
	s.hash = h.Sum64()
	return s
}

// equal reports whether s holds exactly the labels kv.
func (s *sessionLabels) equal(kv []string) bool {
	if s.n != len(kv) {
		return false
	}
	for i, x := range kv {
		if s.kv[i] != x {
			return false
		}
	}
	return true
}

// labelEntry is a labelled context for one label set. The fields a hold
// touches come first and fill one cache line.
type labelEntry struct {
	// Guarded by the mu of the shard the entry belongs to.
	owner *hold // the hold it is lent to
	spare *hold // the hold to lend it with next; nil to make one

	born int64           // monotonic; lent until maxEntryAge after
	ctx  context.Context // the session's labels and HoldLabel, for pprof.SetGoroutineLabels
	base context.Context // the session's labels alone, likewise

	polluted bool // seen on a goroutine other than its holder: do not lend again; shard.mu

	label string   // the HoldLabel value in ctx
	kv    []string // the session's labels, to confirm a hash match
}

// entryHold is an entry allocated together with its first hold, padded to
// a size class (192 bytes) whose blocks start on a cache line, so that the
// hold and the entry's first line each fill one line.
type entryHold struct {
	h hold
	e labelEntry
	_ [192 - 64 - 104]byte
}

// newEntry builds at now the labelled context for s, or for ctx when its
// labels did not fit in s.
func newEntry(s *sessionLabels, ctx context.Context, now int64) *labelEntry {
	eh := new(entryHold)
	e := &eh.e
	e.spare, eh.h.entry = &eh.h, e
	e.born = now
	e.label = strconv.FormatUint(newID(), 10)
	if !s.ok {
		e.ctx = pprof.WithLabels(ctx, pprof.Labels(HoldLabel, e.label))
		e.base = ctx
		return e
	}
	e.kv = append([]string(nil), s.kv[:s.n]...)
	// A context of the labels alone, so leave need not read ctx again.
	e.base = pprof.WithLabels(context.Background(), pprof.Labels(e.kv...))
	// Build the whole label set in one piece, keys sorted so pprof.Labels
	// takes its fast path. The context need not descend from ctx:
	// SetGoroutineLabels reads nothing but its labels.
	var kv [2*maxLabelPairs + 2]string
	n, placed := 0, false
	for i := 0; i < s.n; i += 2 {
		if !placed && s.kv[i] > HoldLabel {
			kv[n], kv[n+1], n, placed = HoldLabel, e.label, n+2, true
		}
		kv[n], kv[n+1], n = s.kv[i], s.kv[i+1], n+2
	}
	if !placed {
		kv[n], kv[n+1], n = HoldLabel, e.label, n+2
	}
	e.ctx = pprof.WithLabels(context.Background(), pprof.Labels(kv[:n]...))
	return e
}

// lendable reports whether e may be lent at now.
func (e *labelEntry) lendable(now int64) bool {
	return e.owner == nil && !e.polluted && now-e.born < maxEntryAge
}

// lend lends e to a hold, its spare if it has one, and returns the hold.
// sh.mu must be held.
func (e *labelEntry) lend() *hold {
	h := e.spare
	if h == nil {
		h = &hold{entry: e}
	}
	e.spare, e.owner = nil, h
	return h
}

// take lends the cached entry for s, if there is one and it may be lent at
// now, and returns the hold it is lent with, or nil. sh.mu must be held.
func (sh *shard) take(s *sessionLabels, now int64) *hold {
	if !s.ok {
		return nil
	}
	e := sh.cache[s.hash]
	if e == nil || !e.lendable(now) || !s.equal(e.kv) {
		return nil
	}
	return e.lend()
}

// adopt lends the new entry e, caches it if its slot is free or its
// occupant is spent, and returns the hold it is lent with. sh.mu must be held.
func (sh *shard) adopt(s *sessionLabels, e *labelEntry) *hold {
	h := e.lend()
	if !s.ok {
		return h
	}
	if old := sh.cache[s.hash]; old != nil {
		if old.owner != nil && !old.polluted && e.born-old.born < maxEntryAge {
			return h // lent out: e serves this hold only
		}
	} else if len(sh.cache) >= labelCacheSize {
		for k, x := range sh.cache {
			if x.owner == nil {
				delete(sh.cache, k)
			}
		}
		if len(sh.cache) >= labelCacheSize {
			return h // all lent out: e serves this hold only
		}
	}
	if sh.cache == nil {
		sh.cache = make(map[uint64]*labelEntry)
	}
	sh.cache[s.hash] = e
	if want := len(sh.cache); want > len(sh.recent) {
		// Start afresh rather than move the contexts: it is a cache.
		sh.recent = make([]recentSet, max(minRecent, 1<<bits.Len(uint(want-1))))
	}
	return h
}

// recentSet is one set of a shard's table of recent contexts: the entries
// that last served up to two contexts. A context may sit in either of two
// sets (see recall), so that a few contexts whose identities hash alike do
// not evict each other. A set fills a cache line, so a lookup mostly reads
// one.
type recentSet struct {
	ctx [2]context.Context
	e   [2]*labelEntry
	_   [16]byte
}

// contextKey returns the hash of ctx's identity, without reading the
// context itself.
func contextKey(ctx context.Context) uint64 { return maphash.Comparable(labelSeed, ctx) }

// recall lends at now the entry that last served ctx, if the table of
// recent contexts has it and it may be lent, and returns the hold it is
// lent with, or nil. sh.mu must be held.
func (sh *shard) recall(ctx context.Context, key uint64, now int64) *hold {
	if len(sh.recent) == 0 {
		return nil
	}
	mask := uint64(len(sh.recent) - 1)
	r := &sh.recent[key&mask]
	i := r.find(ctx)
	if i < 0 {
		r = &sh.recent[(key>>32)&mask]
		if i = r.find(ctx); i < 0 {
			return nil
		}
	}
	if e := r.e[i]; e.lendable(now) {
		return e.lend()
	}
	return nil
}

// find returns the way of r that holds ctx, or -1.
func (r *recentSet) find(ctx context.Context) int {
	for i := range r.ctx {
		if r.ctx[i] == ctx && r.e[i] != nil {
			return i
		}
	}
	return -1
}

// remember notes that e served ctx. sh.mu must be held.
func (sh *shard) remember(ctx context.Context, key uint64, e *labelEntry) {
	if len(sh.recent) == 0 {
		return
	}
	mask := uint64(len(sh.recent) - 1)
	r1, r2 := &sh.recent[key&mask], &sh.recent[(key>>32)&mask]
	for _, r := range [2]*recentSet{r1, r2} {
		if i := r.find(ctx); i >= 0 {
			r.e[i] = e
			return
		}
	}
	// A free way if there is one, else a way picked at random: a fixed
	// choice would let three contexts that take turns evict each other
	// every time.
	for _, r := range [2]*recentSet{r1, r2} {
		for i := range r.e {
			if r.e[i] == nil {
				r.ctx[i], r.e[i] = ctx, e
				return
			}
		}
	}
	n := rand.Uint32()
	r := r1
	if n&2 != 0 {
		r = r2
	}
	r.ctx[n&1], r.e[n&1] = ctx, e
}

// pollute marks e as carried by a goroutine other than its holder.
func (sh *shard) pollute(e *labelEntry) {
	sh.mu.Lock()
	e.polluted = true
	sh.mu.Unlock()
}
