package tui

import (
	"fmt"
	"testing"
	"time"

	"github.com/openrtc-go/introspect/events"
	"github.com/openrtc-go/introspect/fixtures"
	"github.com/openrtc-go/introspect/fold"
)

// crowd is a worker with n live sessions, one sample, and CPU spread over
// a tenth of them, folded from real events.
func crowd(b *testing.B, n int) *foldSource {
	b.Helper()
	ev := []timed{{0, events.WorkerStart{Worker: "dense", MaxSessions: n}}}
	by := map[string]int64{}
	gor := map[string]int{}
	for i := range n {
		id := fmt.Sprintf("sess-%05d", i)
		ev = append(ev, timed{time.Duration(i) * time.Millisecond, events.SessionStart{
			SessionID: id, Agent: []string{"voice", "chat", "video"}[i%3], Tenant: fmt.Sprintf("t%d", i%17)}})
		if i%10 == 0 {
			by[id] = int64(i % 7)
		}
		gor[id] = 1 + i%9
	}
	ev = append(ev, timed{time.Duration(n+1) * time.Millisecond, events.Sample{
		RSSBytes: uint64(n) << 20, Sessions: n, Goroutines: 3 * n, Runnable: -1, Running: -1, Waiting: -1,
		CPU:                 events.CPUWindow{Duration: time.Second, Period: 10 * time.Millisecond, Total: 400, Unlabelled: 10, Sessions: by},
		GoroutinesBySession: gor,
	}})
	return newFoldSource(b, jsonLines(b, ev))
}

// BenchmarkView is the cost of one frame: it must not grow with the
// number of sessions, since only the rows on screen are drawn. rows=100
// is the baseline in the same run.
func BenchmarkView(b *testing.B) {
	for _, n := range []int{100, 10_000} {
		b.Run(fmt.Sprintf("rows=%d", n), func(b *testing.B) {
			m := newModel(crowd(b, n), Options{Width: 160, Height: 50})
			m.stalls, m.stallsRead = manyStalls(m.start, m.end, 1000), true
			if len(m.rows) != n {
				b.Fatalf("%d rows, want %d", len(m.rows), n)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				_ = m.View()
			}
		})
	}
}

// BenchmarkRebuild is the cost of a move or a key that re-sorts: copying,
// filtering and sorting every row. It runs once per move, not per frame.
func BenchmarkRebuild(b *testing.B) {
	for _, n := range []int{100, 10_000} {
		for _, key := range []string{fold.SortAttention, fold.SortMem, fold.SortAgent} {
			b.Run(fmt.Sprintf("rows=%d/sort=%s", n, key), func(b *testing.B) {
				m := newModel(crowd(b, n), Options{Width: 160, Height: 50, Sort: key})
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					m.rebuild()
				}
			})
		}
	}
}

// BenchmarkStrip draws the timeline strip of a recording with many stalls.
func BenchmarkStrip(b *testing.B) {
	start := at(0)
	end := start.Add(24 * time.Hour)
	for _, n := range []int{0, 100_000} {
		stalls := manyStalls(start, end, n)
		b.Run(fmt.Sprintf("stalls=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = renderCells(timelineCells(140, start, end, start.Add(time.Hour), stalls))
			}
		})
	}
}

func manyStalls(start, end time.Time, n int) []fold.Stall {
	out := make([]fold.Stall, n)
	for i := range out {
		out[i] = fold.Stall{At: start.Add(time.Duration(float64(end.Sub(start)) * float64(i) / float64(max(n, 1))))}
	}
	return out
}

// BenchmarkKeyStep is what one press of t costs on a real recording through
// the real cursor: the cursor's step, the view, the table's rebuild and a
// frame. At the end it goes back to the start, as g would.
func BenchmarkKeyStep(b *testing.B) {
	cur := openCursor(b, fixture(fixtures.Normal))
	m := newModel(cur, Options{Width: 160, Height: 50})
	m.seek(m.start)
	b.ReportAllocs()
	for b.Loop() {
		m.step(true)
		if m.note != "" {
			m.note = ""
			m.seek(m.start)
		}
		_ = m.View()
	}
}
