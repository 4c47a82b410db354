package fold_test

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/openrtc-go/introspect/events"
	"github.com/openrtc-go/introspect/fold"
	"github.com/openrtc-go/introspect/recorder"
)

// smallRecording writes ten minutes of 40 sessions with the culprits.
func smallRecording(t *testing.T) string {
	t.Helper()
	return generate(t, t.TempDir(), workload{Duration: 10 * time.Minute, Sessions: 40, OnCPU: 10,
		StallEvery: 45 * time.Second, Culprits: true, Seed: 1})
}

func openSet(t testing.TB, paths ...string) *recorder.Set {
	t.Helper()
	set, err := recorder.Open(paths...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { set.Close() })
	return set
}

// foldFromStart is the reference: every record from the first, up to t.
func foldFromStart(t testing.TB, set *recorder.Set, at time.Time) fold.View {
	t.Helper()
	s := fold.New()
	sc := set.ScanRange(time.Time{}, at.Add(time.Nanosecond))
	for sc.Next() {
		_ = s.ApplyLine(sc.Record().Line)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return s.View(at)
}

func viewJSON(t testing.TB, v fold.View) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func sameView(t *testing.T, what string, got, want fold.View) {
	t.Helper()
	g, w := viewJSON(t, got), viewJSON(t, want)
	if !bytes.Equal(g, w) {
		t.Fatalf("%s: view differs from the fold from the start\n got %s\nwant %s", what, g, w)
	}
}

// StateAt, from the nearest keyframe, shows exactly what folding every
// record from the start shows.
func TestStateAtMatchesFullFold(t *testing.T) {
	set := openSet(t, smallRecording(t))
	first, last := set.Span()
	rng := rand.New(rand.NewPCG(7, 7))
	moments := []time.Time{first, first.Add(30 * time.Second), last}
	for range 12 {
		moments = append(moments, first.Add(time.Duration(rng.Int64N(int64(last.Sub(first))))))
	}
	for _, at := range moments {
		s, err := fold.StateAt(set, at)
		if err != nil {
			t.Fatal(err)
		}
		sameView(t, "StateAt "+at.Format(time.RFC3339Nano), s.View(at), foldFromStart(t, set, at))
	}
}

func TestCursorSteps(t *testing.T) {
	set := openSet(t, smallRecording(t))
	c, err := fold.NewCursor(set)
	if err != nil {
		t.Fatal(err)
	}
	first, last := c.Span()
	if !c.Time().Equal(last) {
		t.Fatalf("new cursor at %v, want the end %v", c.Time(), last)
	}
	if err := c.Seek(first.Add(3 * time.Minute)); err != nil {
		t.Fatal(err)
	}
	loads := c.Stats().Loads
	prev := c.Time()
	var visited []time.Time
	for range 90 {
		ok, err := c.Next()
		if err != nil || !ok {
			t.Fatalf("Next = %v, %v", ok, err)
		}
		if !c.Time().After(prev) {
			t.Fatalf("Next went from %v to %v", prev, c.Time())
		}
		prev = c.Time()
		visited = append(visited, prev)
		if len(visited)%15 == 0 {
			sameView(t, "after Next", c.View(), foldFromStart(t, set, c.Time()))
		}
	}
	if n := c.Stats().Loads - loads; n != 0 {
		t.Errorf("stepping forward reloaded %d times; it must only fold the new records", n)
	}
	// A sample a second: 90 steps are 90 seconds.
	if d := visited[len(visited)-1].Sub(visited[0]); d != 89*time.Second {
		t.Errorf("90 steps span %v, want 89s", d)
	}
	// Back over the same samples, in reverse.
	for i := len(visited) - 2; i >= len(visited)-10; i-- {
		ok, err := c.Prev()
		if err != nil || !ok {
			t.Fatalf("Prev = %v, %v", ok, err)
		}
		if !c.Time().Equal(visited[i]) {
			t.Fatalf("Prev moved to %v, want %v", c.Time(), visited[i])
		}
	}
	sameView(t, "after Prev", c.View(), foldFromStart(t, set, c.Time()))

	// The ends.
	if err := c.Seek(first.Add(-time.Hour)); err != nil || !c.Time().Equal(first) {
		t.Fatalf("Seek before the start: %v, %v", c.Time(), err)
	}
	if ok, err := c.Prev(); ok || err != nil {
		t.Errorf("Prev at the start = %v, %v", ok, err)
	}
	if err := c.Seek(last.Add(time.Hour)); err != nil || !c.Time().Equal(last) {
		t.Fatalf("Seek past the end: %v, %v", c.Time(), err)
	}
	if ok, err := c.Next(); ok || err != nil {
		t.Errorf("Next at the end = %v, %v", ok, err)
	}
	sameView(t, "at the end", c.View(), foldFromStart(t, set, last))
}

func TestCursorStalls(t *testing.T) {
	set := openSet(t, smallRecording(t))
	c, err := fold.NewCursor(set)
	if err != nil {
		t.Fatal(err)
	}
	stalls, err := c.Stalls()
	if err != nil {
		t.Fatal(err)
	}
	// One stall every 45 s over ten minutes, each reported twice.
	if len(stalls) != 13 {
		t.Fatalf("%d stalls, want 13", len(stalls))
	}
	for _, s := range stalls {
		if s.Reports != 2 || s.Ongoing || s.SessionID != "block-1" || s.Source != "room-loop" || s.BlockedMs < 200 {
			t.Fatalf("stall %+v", s)
		}
	}
	first, _ := c.Span()
	if err := c.Seek(first); err != nil {
		t.Fatal(err)
	}
	for i, want := range stalls {
		got, ok, err := c.NextStall()
		if err != nil || !ok || got.ID != want.ID || !c.Time().Equal(want.At) {
			t.Fatalf("NextStall %d = %+v %v %v at %v", i, got, ok, err, c.Time())
		}
		// At the stall the culprit shows slow.
		for _, r := range c.View().Sessions {
			if r.SessionID == "block-1" && r.Status != fold.StatusSlow {
				t.Fatalf("at stall %d block-1 is %s", i, r.Status)
			}
		}
	}
	if _, ok, _ := c.NextStall(); ok {
		t.Error("NextStall past the last stall moved")
	}
	for i := len(stalls) - 2; i >= 0; i-- {
		got, ok, err := c.PrevStall()
		if err != nil || !ok || got.ID != stalls[i].ID {
			t.Fatalf("PrevStall = %+v %v %v, want stall %d", got, ok, err, stalls[i].ID)
		}
	}
	if _, ok, _ := c.PrevStall(); ok {
		t.Error("PrevStall before the first stall moved")
	}
}

func TestSessionTimeline(t *testing.T) {
	set := openSet(t, smallRecording(t))
	c, err := fold.NewCursor(set)
	if err != nil {
		t.Fatal(err)
	}
	first, last := c.Span()
	if err := c.Seek(first.Add(5 * time.Minute)); err != nil {
		t.Fatal(err)
	}
	tl, err := c.Timeline("hot-1")
	if err != nil {
		t.Fatal(err)
	}
	// hot-1 lives from the first second to the end, sampled every second.
	if n := len(tl.Points); n < 595 || n > 601 {
		t.Errorf("%d points, want one per second of ten minutes", n)
	}
	for _, p := range tl.Points {
		if p.CPUPct < 40 || p.MemMB <= 0 {
			t.Fatalf("point %+v: hot-1 holds most of every window and a share of RSS", p)
		}
	}
	if end := tl.Points[len(tl.Points)-1].At; end.After(last) || last.Sub(end) > 2*time.Second {
		t.Errorf("last point at %v, recording ends %v", end, last)
	}
	full := foldFromStart(t, set, last)
	for _, r := range full.Sessions {
		if r.SessionID == "hot-1" && (r.CPUSeconds != tl.Row.CPUSeconds || r.PeakMB != tl.Row.PeakMB) {
			t.Errorf("timeline row %+v, full fold %+v", tl.Row, r)
		}
	}

	tl, err = c.Timeline("block-1")
	if err != nil {
		t.Fatal(err)
	}
	if len(tl.Stalls) != 13 || tl.Stalls[0].Frame == "" {
		t.Errorf("block-1 timeline has %d stalls (%+v), want 13 with frames", len(tl.Stalls), tl.Stalls)
	}
	tl, err = c.Timeline("leak-1")
	if err != nil {
		t.Fatal(err)
	}
	if g0, g1 := tl.Points[10].Goroutines, tl.Points[len(tl.Points)-1].Goroutines; g1 < g0+500 {
		t.Errorf("leak-1 goroutines %d → %d, want a steady climb", g0, g1)
	}
	if _, err := c.Timeline("nobody"); err == nil {
		t.Error("timeline of an unknown session: no error")
	}
}

// A plain log without keyframes is folded from its start.
func TestStateAtWithoutKeyframes(t *testing.T) {
	dir := t.TempDir()
	var log bytes.Buffer
	for i, ev := range []events.Event{
		events.WorkerStart{Worker: "w"},
		events.SessionStart{SessionID: "a", Agent: "voice"},
		events.Sample{RSSBytes: 100 << 20, Sessions: 1},
	} {
		log.Write(jsonLine(t, genStart.Add(time.Duration(i)*time.Second), ev))
		log.WriteByte('\n')
	}
	path := dir + "/plain.jsonl"
	writeFile(t, path, log.Bytes())
	set := openSet(t, path)
	s, err := fold.StateAt(set, genStart.Add(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	v := s.View(genStart.Add(2 * time.Second))
	if len(v.Sessions) != 1 || v.Sessions[0].MemMB != 100 {
		t.Fatalf("view %+v", v)
	}
}
