package recorder

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/tidwall/gjson"
)

// collect runs f until its context ends, sending each record's line.
func collect(f *Follower) (<-chan string, <-chan error) {
	lines, done := make(chan string, 1000), make(chan error, 1)
	go func() {
		for f.Next() {
			lines <- string(f.Record().Line)
		}
		done <- f.Err()
	}()
	return lines, done
}

// expect waits for want, in order, from lines.
func expect(t *testing.T, lines <-chan string, want []string) {
	t.Helper()
	for i, w := range want {
		select {
		case got := <-lines:
			if got != w {
				t.Fatalf("record %d:\n got %s\nwant %s", i, got, w)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("waited 10 s for record %d of %d: %s", i, len(want), w)
		}
	}
}

func appendFile(t *testing.T, p string, b []byte) {
	t.Helper()
	fh, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fh.Write(b); err != nil {
		t.Fatal(err)
	}
	fh.Close()
}

func startFollow(t *testing.T, path string, opts FollowOptions) (*Follower, <-chan string, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	opts.Poll = 5 * time.Millisecond
	f, err := Follow(ctx, path, opts)
	if err != nil {
		t.Fatal(err)
	}
	lines, done := collect(f)
	var once sync.Once
	var err2 error
	stop := func() error {
		once.Do(func() {
			cancel()
			err2 = <-done
			f.Close()
			if errors.Is(err2, context.Canceled) {
				err2 = nil
			}
		})
		return err2
	}
	t.Cleanup(func() { stop() })
	return f, lines, stop
}

func TestFollowRecordingAppends(t *testing.T) {
	frames := testFrames(t0, time.Second, 4, 5, 0)
	b := newRecBuilder(t).frames(frames[:2])
	p := writeTemp(t, "", "live.zst", b.buf)
	f, lines, stop := startFollow(t, p, FollowOptions{Since: t0.Add(3 * time.Second)})
	expect(t, lines, flatten(frames[:2])[3:])

	// A frame written in two pieces is read once whole, the torn piece
	// never reported.
	n := len(b.buf)
	b.frame(frames[2])
	half := n + (len(b.buf)-n)/2
	appendFile(t, p, b.buf[n:half])
	time.Sleep(30 * time.Millisecond)
	appendFile(t, p, b.buf[half:])
	expect(t, lines, frames[2])

	n = len(b.buf)
	b.frame(frames[3])
	b.footer()
	appendFile(t, p, b.buf[n:])
	expect(t, lines, frames[3])
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if d := f.Damage(); len(d) != 0 {
		t.Fatalf("damage while following: %v", d)
	}
}

func TestFollowLogLines(t *testing.T) {
	lines := testFrames(t0, time.Second, 1, 6, 0)[0]
	p := writeTemp(t, "", "app.jsonl", jsonl(lines[:2]))
	f, got, stop := startFollow(t, p, FollowOptions{})
	expect(t, got, lines[:2])
	partial := jsonl(lines[2:4])
	appendFile(t, p, partial[:len(partial)-20])
	time.Sleep(30 * time.Millisecond)
	appendFile(t, p, append(partial[len(partial)-20:], "oops\n"...))
	appendFile(t, p, jsonl(lines[4:]))
	expect(t, got, lines[2:])
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if d := f.Damage(); len(d) != 1 || d[0].Kind != BadLine {
		t.Fatalf("damage = %v, want the one bad line", d)
	}
}

func TestFollowRotation(t *testing.T) {
	dir := t.TempDir()
	frames := testFrames(t0, time.Second, 6, 5, 1)
	old := writeTemp(t, dir, "w-1.zst", newRecBuilder(t).frames(frames[:1]).footer().buf)
	b := newRecBuilder(t).frames(frames[1:2])
	cur := writeTemp(t, dir, "w-2.zst", b.buf)
	_ = old
	f, lines, stop := startFollow(t, dir, FollowOptions{})
	expect(t, lines, frames[1]) // the newest file, from its start
	if f.Path() != cur {
		t.Fatalf("following %s, want %s", f.Path(), cur)
	}
	// The writer finishes w-2, then starts w-3.
	n := len(b.buf)
	b.frame(frames[2])
	b.footer()
	appendFile(t, cur, b.buf[n:])
	writeTemp(t, dir, "w-3.jsonl", jsonl(frames[3]))
	expect(t, lines, append(append([]string{}, frames[2]...), frames[3]...))
	appendFile(t, filepath.Join(dir, "w-3.jsonl"), jsonl(frames[4]))
	expect(t, lines, frames[4])
	if err := stop(); err != nil {
		t.Fatal(err)
	}

	// From a time: starts in the file holding it.
	_, lines, stop = startFollow(t, dir, FollowOptions{Since: t0.Add(2 * time.Second)})
	expect(t, lines, flatten(frames[:5])[2:])
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

// The writer's own rotation, followed live.
func TestFollowWriter(t *testing.T) {
	dir := t.TempDir()
	now := t0
	rec, err := CreateDir(dir, &Options{Clock: clockAt(&now), MaxFileAge: time.Second, Worker: "w"})
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Close()
	recordThrough(t, rec, t0, 0, 1)
	if err := rec.Flush(); err != nil {
		t.Fatal(err)
	}
	_, lines, stop := startFollow(t, dir, FollowOptions{})
	got := 0
	for i := range 50 {
		now = t0.Add(time.Duration(i) * 100 * time.Millisecond)
		recordThrough(t, rec, now, 0, 1)
		if err := rec.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(10 * time.Second)
	for got < 51 {
		select {
		case <-lines:
			got++
		case <-deadline:
			t.Fatalf("followed %d of 51 records", got)
		}
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

// TestFollowIndexDamage: a follower believes the data frame over a damaged
// index frame (its length, or its size field) and reads every record,
// reporting the disagreement.
func TestFollowIndexDamage(t *testing.T) {
	frames := testFrames(t0, time.Second, 4, 5, 0)
	b := newRecBuilder(t).frames(frames)
	for _, tc := range []struct {
		name string
		at   int64
		mask byte
	}{
		{"compressed length", b.entries[1].Offset + skipHeaderLen + 4, 0x7f},
		{"size field", b.entries[2].Offset + 4, 0xff},
	} {
		data := append([]byte(nil), b.buf...)
		data[tc.at] ^= tc.mask
		p := writeTemp(t, "", "damaged.zst", data)
		f, lines, stop := startFollow(t, p, FollowOptions{})
		expect(t, lines, flatten(frames))
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		if len(f.Damage()) == 0 {
			t.Errorf("%s: no damage reported", tc.name)
		}
	}
}

// A streamed frame is followed block by block while its writer keeps it
// open, then to its end, each record once.
func TestFollowStreamedFrame(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "w.zst")
	now := t0
	rec, err := Create(p, &Options{Clock: clockAt(&now), Keyframer: &countKeyframer{}})
	if err != nil {
		t.Fatal(err)
	}
	_, lines, stop := startFollow(t, p, FollowOptions{})
	next := 0 // the next tick expected
	for round := range 4 {
		for range 5 {
			now = t0.Add(time.Duration(next+round*5) * 300 * time.Millisecond)
			r := slog.NewRecord(now, slog.LevelInfo, "app.tick", 0)
			r.AddAttrs(slog.Int("n", round*5+next%5))
			if err := rec.Handle(context.Background(), r); err != nil {
				t.Fatal(err)
			}
			next++
		}
		next -= 5
		if err := rec.Flush(); err != nil {
			t.Fatal(err)
		}
		// The block flushed arrives while the frame is open.
		for next < (round+1)*5 {
			select {
			case l := <-lines:
				if gjson.Get(l, "msg").Str != "app.tick" {
					continue // the keyframe
				}
				if n := int(gjson.Get(l, "n").Int()); n != next {
					t.Fatalf("tick %d read, want %d", n, next)
				}
				next++
			case <-time.After(10 * time.Second):
				t.Fatalf("round %d: tick %d of the open frame was not read", round, next)
			}
		}
	}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case l := <-lines:
		t.Fatalf("a record read twice or after the end: %s", l)
	case <-time.After(100 * time.Millisecond):
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}
