package stall

import (
	"context"
	"fmt"
	"runtime/pprof"
	"testing"
)

// TestEntriesServeTheirContextsLabels enters a loop with many contexts,
// more than the table of recent contexts has sets, in several shapes: a
// context per session, contexts derived from it (a new identity with the
// same labels) and contexts with too many labels to cache, and checks that
// every hold is labelled with its own session's labels.
func TestEntriesServeTheirContextsLabels(t *testing.T) {
	w := New(Options{Report: func(Stall) {}})
	defer w.Close()
	defer pprof.SetGoroutineLabels(context.Background())
	l := w.Loop("mixer")
	type key struct{}

	const sessions = 3000
	base := make([]context.Context, sessions)
	for i := range base {
		base[i] = pprof.WithLabels(context.Background(), pprof.Labels("session", fmt.Sprintf("job-%d", i), "agent", "voice"))
	}
	crowded := func(i int) context.Context {
		kv := []string{"session", fmt.Sprintf("job-%d", i)}
		for j := range maxLabelPairs {
			kv = append(kv, fmt.Sprintf("extra-%d", j), "x")
		}
		return pprof.WithLabels(context.Background(), pprof.Labels(kv...))
	}
	shapes := []struct {
		name string
		ctx  func(i, round int) context.Context
	}{
		{"same context", func(i, _ int) context.Context { return base[i] }},
		{"derived context", func(i, round int) context.Context { return context.WithValue(base[i], key{}, round) }},
		{"too many labels", func(i, _ int) context.Context { return crowded(i) }},
	}
	for _, shape := range shapes {
		for round := range 3 {
			for i := range sessions {
				ctx := shape.ctx(i, round)
				u := l.enter(ctx)
				want := fmt.Sprintf("job-%d", i)
				if got, _ := pprof.Label(u.h.entry.ctx, "session"); got != want {
					t.Fatalf("%s, round %d: hold labelled session %q, want %q", shape.name, round, got, want)
				}
				if got, _ := pprof.Label(u.h.entry.ctx, HoldLabel); got != u.h.entry.label {
					t.Fatalf("%s: hold label %q, want %q", shape.name, got, u.h.entry.label)
				}
				if got, _ := pprof.Label(u.h.entry.base, "session"); got != want {
					t.Fatalf("%s: leave would restore session %q, want %q", shape.name, got, want)
				}
				if _, ok := pprof.Label(u.h.entry.base, HoldLabel); ok {
					t.Fatalf("%s: leave would keep the hold label", shape.name)
				}
				u.leave()
			}
		}
	}
	for i := range l.shards {
		sh := &l.shards[i]
		if len(sh.cache) > labelCacheSize || len(sh.recent) > labelCacheSize {
			t.Errorf("shard %d: cache of %d entries, %d recent sets: want at most %d", i, len(sh.cache), len(sh.recent), labelCacheSize)
		}
	}
}

// TestRecentContextsAreRecalled checks that a context entered again is served
// from the table of recent contexts, so its labels are not read again, even
// when many contexts take turns.
func TestRecentContextsAreRecalled(t *testing.T) {
	w := New(Options{Report: func(Stall) {}})
	defer w.Close()
	defer pprof.SetGoroutineLabels(context.Background())
	l := w.Loop("mixer")
	ctxs := make([]context.Context, 1000)
	for i := range ctxs {
		ctxs[i] = pprof.WithLabels(context.Background(), pprof.Labels("session", fmt.Sprintf("job-%d", i)))
	}
	for range 2 {
		for _, ctx := range ctxs {
			l.Enter(ctx)()
		}
	}
	missed := 0
	for _, ctx := range ctxs {
		key := contextKey(ctx)
		sh := &l.shards[key>>l.shift]
		sh.mu.Lock()
		h := sh.recall(ctx, key, monoNow())
		if h == nil {
			missed++
		} else {
			h.entry.owner, h.entry.spare = nil, h
		}
		sh.mu.Unlock()
	}
	// Each context has two sets of two ways; a few may still collide.
	if missed > len(ctxs)/50 {
		t.Errorf("%d of %d contexts not recalled", missed, len(ctxs))
	}
}
