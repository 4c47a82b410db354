package recorder

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/openrtc-go/introspect/events"
	"github.com/openrtc-go/introspect/internal/eventstest"
)

var wtT0 = time.Date(2026, 11, 27, 3, 12, 0, 0, time.UTC)

// wtEvents is one event of every kind with every field set.
func wtEvents() []events.Event { return eventstest.Every(wtT0) }

// wtClock is a settable fake clock.
type wtClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *wtClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *wtClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// wtKeyframer counts sessions and records what it observed.
type wtKeyframer struct {
	observed [][]byte
	live     []events.KeySession
	calls    int
}

func (k *wtKeyframer) Observe(line []byte) {
	k.observed = append(k.observed, bytes.Clone(line))
	if d, err := events.Decode(line); err == nil {
		if s, ok := d.Event.(events.SessionStart); ok {
			k.live = append(k.live, events.KeySession{SessionID: s.SessionID, Agent: s.Agent, Start: d.Time})
		}
	}
}

func (k *wtKeyframer) Keyframe(t time.Time) events.Keyframe {
	k.calls++
	return events.Keyframe{
		Worker:   events.WorkerState{Name: "w1", Begun: int64(len(k.live))},
		Sessions: append([]events.KeySession(nil), k.live...),
	}
}

func wtHandle(t testing.TB, h slog.Handler, at time.Time, e events.Event) {
	t.Helper()
	if err := h.Handle(context.Background(), events.Record(at, e)); err != nil {
		t.Fatal(err)
	}
}

func wtCreate(t testing.TB, opts *Options) (*Recorder, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "rec.zst")
	r, err := Create(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r, path
}

func wtClose(t testing.TB, r *Recorder) {
	t.Helper()
	if err := r.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

// TestRoundTrip writes every event kind and reads back exactly the lines
// slog's JSON handler writes, which decode to the same events.
func TestRoundTrip(t *testing.T) {
	r, path := wtCreate(t, nil)
	var want bytes.Buffer
	ref := slog.NewJSONHandler(&want, &slog.HandlerOptions{Level: slog.LevelDebug})
	evs := wtEvents()
	for i, e := range evs {
		at := wtT0.Add(time.Duration(i) * 123456789)
		wtHandle(t, r, at, e)
		wtHandle(t, ref, at, e)
	}
	wtClose(t, r)
	f := wtReadClosed(t, path)
	if f.schema != events.SchemaVersion {
		t.Errorf("schema version %d", f.schema)
	}
	lines := f.lines()
	if got := append(bytes.Join(lines, []byte("\n")), '\n'); !bytes.Equal(got, want.Bytes()) {
		t.Fatalf("lines differ from slog.JSONHandler:\n got %s\nwant %s", got, want.Bytes())
	}
	for i, l := range lines {
		d, err := events.Decode(l)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(d.Event, evs[i]) {
			t.Errorf("event %d:\n got %#v\nwant %#v\nline %s", i, d.Event, evs[i], l)
		}
	}
	if s := r.Stats(); s.Records != int64(len(evs)) || s.Frames != 1 || s.Files != 1 || s.Dropped != 0 {
		t.Errorf("stats %+v", s)
	}
	if fi, _ := os.Stat(path); r.Stats().Bytes != fi.Size() {
		t.Errorf("Stats.Bytes %d, file has %d", r.Stats().Bytes, fi.Size())
	}
}

// TestHandlerDerivation checks WithAttrs, WithGroup and Enabled against
// slog's JSON handler, derived the same way.
func TestHandlerDerivation(t *testing.T) {
	r, path := wtCreate(t, &Options{Level: slog.LevelInfo})
	var want bytes.Buffer
	ref := slog.Handler(slog.NewJSONHandler(&want, nil))
	derive := func(h slog.Handler) []slog.Handler {
		a := h.WithAttrs([]slog.Attr{slog.String("worker", "w1")})
		g := a.WithGroup("req").WithAttrs([]slog.Attr{slog.Int("id", 7)}).WithGroup("inner")
		return []slog.Handler{h, a, g}
	}
	if r.Enabled(context.Background(), slog.LevelDebug) || !r.Enabled(context.Background(), slog.LevelInfo) {
		t.Error("Enabled does not follow Options.Level")
	}
	if r.WithGroup("") != slog.Handler(r) || r.WithAttrs(nil) != slog.Handler(r) {
		t.Error("WithGroup(\"\") or WithAttrs(nil) did not return the receiver")
	}
	hs, refs := derive(r), derive(ref)
	for i := range hs {
		for _, l := range []*slog.Logger{slog.New(hs[i]), slog.New(refs[i])} {
			l.LogAttrs(context.Background(), slog.LevelInfo, "hello",
				slog.Int("n", i), slog.Group("g", slog.String("k", "v")))
			l.Debug("filtered out")
		}
	}
	wtClose(t, r)
	got := bytes.Join(wtReadClosed(t, path).lines(), []byte("\n"))
	// Times differ between the two loggers; compare without them.
	strip := func(b []byte) string {
		var out []string
		for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			out = append(out, l[strings.Index(l, `"level"`):])
		}
		return strings.Join(out, "\n")
	}
	if strip(got) != strip(want.Bytes()) {
		t.Errorf("derived handlers:\n got %s\nwant %s", strip(got), strip(want.Bytes()))
	}
}

// TestHandleEncodesOnCallerSide changes a record's data right after Handle:
// the recording must hold what it was at the call.
func TestHandleEncodesOnCallerSide(t *testing.T) {
	r, path := wtCreate(t, nil)
	m := map[string]string{"room": "r1"}
	wtHandle(t, r, wtT0, events.SessionStart{SessionID: "a", Labels: m})
	m["room"] = "changed"
	wtClose(t, r)
	if l := wtReadClosed(t, path).lines()[0]; !bytes.Contains(l, []byte(`"room":"r1"`)) {
		t.Errorf("line %s", l)
	}
}

func TestFramesByInterval(t *testing.T) {
	clk := &wtClock{t: wtT0}
	r, path := wtCreate(t, &Options{Clock: clk.Now, FlushInterval: time.Second, IndependentFrames: true})
	for i := range 20 {
		wtHandle(t, r, wtT0.Add(time.Duration(i)*300*time.Millisecond), events.SessionStart{SessionID: "s"})
	}
	wtClose(t, r)
	f := wtReadClosed(t, path)
	// Records at 0, .3, .6, .9 | 1.2 ... 2.1 | ...: four a frame.
	if len(f.frames) != 5 {
		t.Fatalf("%d frames, want 5", len(f.frames))
	}
	for i, fr := range f.frames {
		if fr.entry.Records != 4 || fr.entry.MaxTime.Sub(fr.entry.MinTime) >= time.Second {
			t.Errorf("frame %d: %+v", i, fr.entry)
		}
	}
}

func TestFramesBySize(t *testing.T) {
	clk := &wtClock{t: wtT0}
	const frameBytes = 4 << 10
	r, path := wtCreate(t, &Options{Clock: clk.Now, FrameBytes: frameBytes})
	big := strings.Repeat("x", 6<<10)
	for i := range 200 {
		e := events.SessionEnd{SessionID: "s", Outcome: events.OutcomeOK}
		if i == 100 {
			e.Error = big // bigger than a frame: a frame of its own
		}
		wtHandle(t, r, wtT0, e)
	}
	wtClose(t, r)
	f := wtReadClosed(t, path)
	if len(f.frames) < 200*90/frameBytes {
		t.Fatalf("only %d frames", len(f.frames))
	}
	n := 0
	for i, fr := range f.frames {
		n += len(fr.lines)
		if fr.entry.RawLen > frameBytes && len(fr.lines) != 1 {
			t.Errorf("frame %d: %d bytes in %d records", i, fr.entry.RawLen, len(fr.lines))
		}
	}
	if n != 200 {
		t.Errorf("%d records, want 200", n)
	}
}

// TestFlushIntervalTimer checks that without a Clock the open frame is
// written by the timer, with no further record or Flush.
func TestFlushIntervalTimer(t *testing.T) {
	r, path := wtCreate(t, &Options{FlushInterval: 20 * time.Millisecond})
	wtHandle(t, r, time.Now(), events.SessionStart{SessionID: "a"})
	deadline := time.Now().Add(20 * time.Second)
	for r.Stats().Frames == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the open frame was never written")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if f := wtRead(t, path); len(f.frames) != 1 || f.torn {
		t.Fatalf("%d frames, torn %v", len(f.frames), f.torn)
	}
}

func TestKeyframes(t *testing.T) {
	clk := &wtClock{t: wtT0}
	kf := &wtKeyframer{}
	r, path := wtCreate(t, &Options{Clock: clk.Now, Keyframer: kf, KeyframeInterval: 10 * time.Second})
	for i := range 35 {
		wtHandle(t, r, wtT0.Add(time.Duration(i)*time.Second), events.SessionStart{SessionID: string(rune('a' + i%26))})
	}
	wtClose(t, r)
	f := wtReadClosed(t, path)
	var kfTimes []time.Duration
	var written [][]byte
	for _, fr := range f.frames {
		for j, l := range fr.lines {
			d, err := events.Decode(l)
			if err != nil {
				t.Fatal(err)
			}
			if d.Kind != events.KindKeyframe {
				written = append(written, l)
				continue
			}
			if j != 0 || !fr.entry.Keyframe() {
				t.Errorf("keyframe at line %d of a frame flagged %v", j, fr.entry.Keyframe())
			}
			kfTimes = append(kfTimes, d.Time.Sub(wtT0))
			k := d.Event.(events.Keyframe)
			if want := int(d.Time.Sub(wtT0) / time.Second); len(k.Sessions) != want {
				t.Errorf("keyframe at %v has %d sessions, want %d", d.Time, len(k.Sessions), want)
			}
		}
	}
	if want := []time.Duration{0, 10 * time.Second, 20 * time.Second, 30 * time.Second}; !reflect.DeepEqual(kfTimes, want) {
		t.Errorf("keyframes at %v, want %v", kfTimes, want)
	}
	if !reflect.DeepEqual(kf.observed, written) {
		t.Errorf("observed %d lines, file has %d non-keyframe lines (or order differs)", len(kf.observed), len(written))
	}
	if s := r.Stats(); s.Keyframes != 4 || s.Records != 39 {
		t.Errorf("stats %+v", s)
	}
}

func TestNoKeyframerNoKeyframes(t *testing.T) {
	r, path := wtCreate(t, nil)
	wtHandle(t, r, wtT0, events.SessionStart{SessionID: "a"})
	wtClose(t, r)
	for _, fr := range wtReadClosed(t, path).frames {
		if fr.entry.Keyframe() {
			t.Error("keyframe flag without a Keyframer")
		}
	}
}

func TestFooterTrailer(t *testing.T) {
	r, path := wtCreate(t, &Options{IndependentFrames: true})
	for i := range 3 {
		wtHandle(t, r, wtT0, events.SessionStart{SessionID: "a"})
		if i < 2 {
			if err := r.Flush(); err != nil {
				t.Fatal(err)
			}
		}
	}
	wtClose(t, r)
	data, _ := os.ReadFile(path)
	tail := data[len(data)-footerTrailer:]
	if string(tail[4:]) != footerMagic || tail[0] != 3 {
		t.Fatalf("trailer % x", tail)
	}
	if f := wtReadClosed(t, path); len(f.footer) != 3 {
		t.Fatalf("%d footer entries", len(f.footer))
	}
}

func TestEmptyRecording(t *testing.T) {
	r, path := wtCreate(t, nil)
	wtClose(t, r)
	f := wtReadClosed(t, path)
	if len(f.frames) != 0 || f.created.IsZero() {
		t.Fatalf("empty recording: %+v", f)
	}
}

func TestCloseAndAfter(t *testing.T) {
	others := goleak.IgnoreCurrent()
	r, _ := wtCreate(t, nil)
	wtHandle(t, r, wtT0, events.SessionStart{SessionID: "a"})
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := r.Handle(context.Background(), events.Record(wtT0, events.WorkerStop{})); !errors.Is(err, ErrClosed) {
		t.Errorf("Handle after Close: %v", err)
	}
	if err := r.WithGroup("g").Handle(context.Background(), events.Record(wtT0, events.WorkerStop{})); !errors.Is(err, ErrClosed) {
		t.Errorf("derived Handle after Close: %v", err)
	}
	if err := r.Flush(); !errors.Is(err, ErrClosed) {
		t.Errorf("Flush after Close: %v", err)
	}
	goleak.VerifyNone(t, others)
}

func TestCreateErrors(t *testing.T) {
	if _, err := Create(filepath.Join(t.TempDir(), "missing", "rec.zst"), nil); err == nil {
		t.Error("Create in a missing directory succeeded")
	}
	if _, err := CreateDir(t.TempDir(), &Options{Worker: "a/b"}); err == nil {
		t.Error("CreateDir with a worker name holding a slash succeeded")
	}
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o644)
	if _, err := CreateDir(file, nil); err == nil {
		t.Error("CreateDir over a file succeeded")
	}
}

// TestConcurrentHandle records from many goroutines at once.
func TestConcurrentHandle(t *testing.T) {
	r, path := wtCreate(t, &Options{FrameBytes: 8 << 10, FlushInterval: 5 * time.Millisecond})
	const goroutines, each = 8, 500
	var wg sync.WaitGroup
	for g := range goroutines {
		h := r.WithAttrs([]slog.Attr{slog.Int("g", g)})
		wg.Go(func() {
			for range each {
				wtHandle(t, h, time.Now(), events.SessionStart{SessionID: "s"})
			}
		})
	}
	wg.Wait()
	wtClose(t, r)
	f := wtReadClosed(t, path)
	if n := len(f.lines()); n != goroutines*each || r.Stats().Dropped != 0 {
		t.Fatalf("%d lines, %d dropped", n, r.Stats().Dropped)
	}
}

func TestSyncPolicies(t *testing.T) {
	for _, p := range []SyncPolicy{SyncNever, SyncFrame, SyncInterval} {
		t.Run(p.String(), func(t *testing.T) {
			r, path := wtCreate(t, &Options{Sync: p, SyncInterval: 10 * time.Millisecond})
			for range 5 {
				wtHandle(t, r, time.Now(), events.SessionStart{SessionID: "a"})
				if err := r.Flush(); err != nil {
					t.Fatal(err)
				}
				time.Sleep(5 * time.Millisecond)
			}
			wtClose(t, r)
			// Five flushes: five blocks of one streamed frame.
			if f := wtReadClosed(t, path); len(f.frames) != 1 || len(f.lines()) != 5 {
				t.Fatalf("%d frames, %d records", len(f.frames), len(f.lines()))
			}
		})
	}
}

// TestReproducible writes the same records twice in Clock mode and expects
// the same bytes.
func TestReproducible(t *testing.T) {
	write := func(dir string) map[string][]byte {
		clk := &wtClock{t: wtT0}
		r, err := CreateDir(dir, &Options{Clock: clk.Now, Keyframer: &wtKeyframer{},
			KeyframeInterval: 7 * time.Second, FrameBytes: 2 << 10, MaxFileBytes: 6 << 10, Worker: "w1"})
		if err != nil {
			t.Fatal(err)
		}
		for i := range 400 {
			at := wtT0.Add(time.Duration(i) * 100 * time.Millisecond)
			clk.Set(at)
			e := wtEvents()[i%len(wtEvents())]
			wtHandle(t, r, at, e)
		}
		wtClose(t, r)
		out := map[string][]byte{}
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			out[e.Name()], _ = os.ReadFile(filepath.Join(dir, e.Name()))
		}
		return out
	}
	a, b := write(t.TempDir()), write(t.TempDir())
	if len(a) < 2 {
		t.Fatalf("only %d files: rotation did not happen", len(a))
	}
	if !reflect.DeepEqual(a, b) {
		for name := range a {
			if !bytes.Equal(a[name], b[name]) {
				t.Errorf("%s differs (%d vs %d bytes)", name, len(a[name]), len(b[name]))
			}
		}
		t.Fatal("two runs with the same clock and records differ")
	}
}

// TestRecorderMemory bounds what a recorder allocates to write 1 MB: its
// encoder's window is 512 KiB (SpeedBetterCompression's own 8 MiB window
// would cost more than twice as much) and the lines waiting for a flush are
// written in blocks of at most 128 KiB, so a recorder stays small next to
// the sessions it measures.
func TestRecorderMemory(t *testing.T) {
	line := strings.Repeat("x", 200)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	r, _ := wtCreate(t, nil)
	for i := range 4000 { // about three full frames
		wtHandle(t, r, wtT0, events.SessionEnd{SessionID: strconv.Itoa(i), Outcome: events.OutcomeError, Error: line})
	}
	wtClose(t, r)
	runtime.ReadMemStats(&after)
	n := after.TotalAlloc - before.TotalAlloc
	t.Logf("writing 1 MB allocated %.1f MiB", float64(n)/(1<<20))
	if n > 16<<20 {
		t.Errorf("writing 1 MB allocated %d MiB", n>>20)
	}
}

// wtValuer counts its resolutions.
type wtValuer struct{ n *int }

func (v wtValuer) LogValue() slog.Value { *v.n++; return slog.IntValue(*v.n) }

func TestLevelVarAndValuers(t *testing.T) {
	var lv slog.LevelVar
	lv.Set(slog.LevelWarn)
	r, path := wtCreate(t, &Options{Level: &lv})
	ctx := context.Background()
	if r.Enabled(ctx, slog.LevelInfo) {
		t.Error("INFO enabled at WARN")
	}
	lv.Set(slog.LevelInfo)
	if !r.Enabled(ctx, slog.LevelInfo) {
		t.Error("LevelVar change not seen")
	}
	n := 0
	h := r.WithAttrs([]slog.Attr{slog.Any("resolved", wtValuer{&n})})
	n = 100 // a valuer resolved late would say 101
	slog.New(h).Info("x")
	wtClose(t, r)
	if l := wtReadClosed(t, path).lines()[0]; !bytes.Contains(l, []byte(`"resolved":1`)) {
		t.Errorf("line %s", l)
	}
}
