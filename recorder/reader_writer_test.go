package recorder

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/openrtc-go/introspect/events"
)

// countKeyframer is the least a Keyframer can be: it counts what it saw.
type countKeyframer struct{ seen int }

func (k *countKeyframer) Observe([]byte) { k.seen++ }
func (k *countKeyframer) Keyframe(t time.Time) events.Keyframe {
	return events.Keyframe{Worker: events.WorkerState{Name: "w", Begun: int64(k.seen)}}
}

// record writes n records a step apart from start through the writer.
func recordThrough(t *testing.T, h slog.Handler, start time.Time, step time.Duration, n int) {
	t.Helper()
	for i := range n {
		r := slog.NewRecord(start.Add(time.Duration(i)*step), slog.LevelInfo, "app.tick", 0)
		r.AddAttrs(slog.Int("n", i), slog.String("session", "s-1"))
		if err := h.Handle(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
}

func clockAt(p *time.Time) func() time.Time { return func() time.Time { return *p } }

// The writer's own output: a clean file is indexed from its footer; a copy
// taken after Flush (what a crash leaves) is rebuilt to the same index.
func TestReadWriterOutput(t *testing.T) {
	for _, independent := range []bool{false, true} {
		t.Run(fmt.Sprintf("independent=%v", independent), func(t *testing.T) { testReadWriterOutput(t, independent) })
	}
}

func testReadWriterOutput(t *testing.T, independent bool) {
	dir := t.TempDir()
	p := dir + "/w.zst"
	now := t0
	rec, err := Create(p, &Options{Clock: clockAt(&now), FlushInterval: time.Second, IndependentFrames: independent,
		KeyframeInterval: 10 * time.Second, Keyframer: &countKeyframer{}})
	if err != nil {
		t.Fatal(err)
	}
	recordThrough(t, rec, t0, 50*time.Millisecond, 1000)
	if err := rec.Flush(); err != nil {
		t.Fatal(err)
	}
	crashed, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}

	s := mustOpen(t, p)
	fi := s.Files()[0]
	minFrames := 5 // a streamed frame per keyframe interval
	if independent {
		minFrames = 40 // a frame per flush
	}
	if fi.Index != IndexFooter || fi.Format != FormatRecording || fi.Keyframes < 5 || fi.Frames < minFrames || len(fi.Damage) != 0 {
		t.Fatalf("FileInfo = %+v", fi)
	}
	var app, keys int
	sc := s.Scan()
	for sc.Next() {
		d, err := events.Decode(sc.Record().Line)
		if err != nil {
			t.Fatal(err)
		}
		switch d.Kind {
		case "app.tick":
			app++
		case events.KindKeyframe:
			keys++
		}
	}
	if sc.Err() != nil || app != 1000 || keys != fi.Keyframes || int64(app+keys) > fi.Records {
		t.Fatalf("read %d records and %d keyframes of %+v: %v", app, keys, fi, sc.Err())
	}
	pos, ok := s.KeyframeAtOrBefore(t0.Add(25 * time.Second))
	if !ok {
		t.Fatal("no keyframe")
	}
	ks := s.ScanFrom(pos, time.Time{})
	if !ks.Next() || !isKeyframe(ks.Record().Line) || ks.Record().Time.After(t0.Add(25*time.Second)) {
		t.Fatalf("ScanFrom(%v) starts at %s", pos, ks.Record().Line)
	}

	c := mustOpen(t, writeTemp(t, dir, "crashed.zst", crashed))
	c.Span() // learn the frame that did not end
	cfi := c.Files()[0]
	if cfi.Index != IndexRebuilt || cfi.Frames != fi.Frames || cfi.Records != fi.Records || len(c.Damage()) != 0 {
		t.Fatalf("crashed copy: %+v, damage %v", cfi, c.Damage())
	}
}

// A rotated directory written by CreateDir reads back as one stream.
func TestReadWriterRotatedDir(t *testing.T) {
	dir := t.TempDir()
	now := t0
	rec, err := CreateDir(dir, &Options{Clock: clockAt(&now), MaxFileAge: 10 * time.Second, Worker: "w1"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 600 {
		now = t0.Add(time.Duration(i) * 100 * time.Millisecond)
		recordThrough(t, rec, now, 0, 1)
	}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	s := mustOpen(t, dir)
	if n := len(s.Files()); n < 5 {
		t.Fatalf("%d files, want rotation every 10 s over 60 s", n)
	}
	var prev time.Time
	n := 0
	sc := s.Scan()
	for sc.Next() {
		if tm := sc.Record().Time; tm.Before(prev) {
			t.Fatalf("record %d at %v before %v", n, tm, prev)
		} else {
			prev = tm
		}
		n++
	}
	if n < 600 || sc.Err() != nil {
		t.Fatalf("read %d records: %v", n, sc.Err())
	}
}

// A streamed frame left open by a kill reads the same every time: its
// complete blocks, learnt by the first scan, are not then decoded as a
// whole frame (which fails: it has no end).
func TestOpenFrameScannedTwice(t *testing.T) {
	dir := t.TempDir()
	p := dir + "/w.zst"
	now := t0
	rec, err := Create(p, &Options{Clock: clockAt(&now), Keyframer: &countKeyframer{}})
	if err != nil {
		t.Fatal(err)
	}
	recordThrough(t, rec, t0, 100*time.Millisecond, 50)
	if err := rec.Flush(); err != nil {
		t.Fatal(err)
	}
	killed, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	rec.Close()
	s := mustOpen(t, writeTemp(t, dir, "killed.zst", killed))
	for scan := range 3 {
		n := 0
		sc := s.Scan()
		for sc.Next() {
			n++
		}
		if n != 51 || sc.Err() != nil || len(s.Damage()) != 0 {
			t.Fatalf("scan %d: %d records (want 50 and the keyframe), %v, damage %v", scan, n, sc.Err(), s.Damage())
		}
	}
	if fi := s.Files()[0]; fi.Records != 51 || fi.Frames != 1 || fi.Keyframes != 1 {
		t.Fatalf("%+v", fi)
	}
}
