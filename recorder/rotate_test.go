package recorder

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/openrtc-go/introspect/events"
)

func TestRecordingName(t *testing.T) {
	at := time.Date(2026, 11, 27, 3, 12, 0, 123456789, time.FixedZone("CET", 3600))
	name := RecordingName("w1", at)
	if name != "w1-20261127T021200.123Z.zst" {
		t.Fatalf("name %q", name)
	}
	got, ok := ParseRecordingName("w1", name)
	if !ok || !got.Equal(at.Truncate(time.Millisecond)) {
		t.Fatalf("parse %q = %v %v", name, got, ok)
	}
	for _, bad := range []string{
		"w1-20261127T021200.123Z.zst.tmp", "w2-20261127T021200.123Z.zst", "w1-a-20261127T021200.123Z.zst",
		"w1-20261127T021200Z.zst", "w1-20261327T021200.123Z.zst", "w1-20261127T021200.123+01.zst", "w1-.zst", "notes.txt",
	} {
		if _, ok := ParseRecordingName("w1", bad); ok {
			t.Errorf("%q parsed as a recording of w1", bad)
		}
	}
	// Lexical order is time order.
	var names []string
	for _, d := range []time.Duration{0, time.Millisecond, 999 * time.Millisecond, time.Second, time.Hour, 24 * time.Hour} {
		names = append(names, RecordingName("w1", at.Add(d)))
	}
	if !slices.IsSorted(names) {
		t.Errorf("names not in time order: %v", names)
	}
}

func FuzzParseRecordingName(f *testing.F) {
	f.Add("w1", "w1-20261127T021200.123Z.zst")
	f.Add("recording", "recording-20000101T000000.000Z.zst")
	f.Add("w", "w-99991231T235959.999Z.zst")
	f.Fuzz(func(t *testing.T, worker, name string) {
		start, ok := ParseRecordingName(worker, name)
		if ok && RecordingName(worker, start) != name {
			t.Fatalf("%q parsed as %v, which names %q", name, start, RecordingName(worker, start))
		}
	})
}

// wtDirFiles lists a directory's recordings of worker, oldest first.
func wtDirFiles(t *testing.T, dir, worker string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if _, ok := ParseRecordingName(worker, e.Name()); ok {
			out = append(out, e.Name())
		}
	}
	return out
}

// wtRun writes n sessions starts, one every step, with the clock following.
func wtRun(t *testing.T, r *Recorder, clk *wtClock, n int, step time.Duration) {
	t.Helper()
	for i := range n {
		at := wtT0.Add(time.Duration(i) * step)
		clk.Set(at)
		wtHandle(t, r, at, events.SessionStart{SessionID: "s", Agent: "voice", Tenant: "acme"})
	}
}

func TestRotationBySize(t *testing.T) {
	dir := t.TempDir()
	clk := &wtClock{t: wtT0}
	r, err := CreateDir(dir, &Options{Clock: clk.Now, Keyframer: &wtCountKeyframer{}, Worker: "w1",
		FrameBytes: 1 << 10, MaxFileBytes: 4 << 10, RetainBytes: -1, RetainAge: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	wtRun(t, r, clk, 2000, 10*time.Millisecond)
	wtClose(t, r)
	files := wtDirFiles(t, dir, "w1")
	if len(files) < 5 || int64(len(files)) != r.Stats().Files {
		t.Fatalf("%d files, Stats says %d", len(files), r.Stats().Files)
	}
	records := 0
	var last time.Time
	for i, name := range files {
		f := wtReadClosed(t, filepath.Join(dir, name))
		start, _ := ParseRecordingName("w1", name)
		if !f.created.Equal(start) {
			t.Errorf("%s: header says created %v", name, f.created)
		}
		if len(f.frames) == 0 || !f.frames[0].entry.Keyframe() {
			t.Fatalf("%s does not start with a keyframe", name)
		}
		fi, _ := os.Stat(filepath.Join(dir, name))
		// A file is rotated after the frame that takes it past the cap:
		// all but the last are at least the cap, and less than cap + frame.
		if i < len(files)-1 && (fi.Size() < 4<<10 || fi.Size() > 4<<10+2<<10) {
			t.Errorf("%s: %d bytes", name, fi.Size())
		}
		for _, fr := range f.frames {
			if fr.entry.MinTime.Before(last) {
				t.Errorf("%s: records out of order across files", name)
			}
			last = fr.entry.MaxTime
			for _, l := range fr.lines {
				if !bytes.Contains(l, []byte(`"keyframe"`)) {
					records++
				}
			}
		}
	}
	if records != 2000 {
		t.Fatalf("%d records in the files, want 2000", records)
	}
}

func TestRotationByAge(t *testing.T) {
	dir := t.TempDir()
	clk := &wtClock{t: wtT0}
	r, err := CreateDir(dir, &Options{Clock: clk.Now, Worker: "w1", MaxFileAge: 10 * time.Second, RetainAge: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	wtRun(t, r, clk, 45, time.Second)
	wtClose(t, r)
	files := wtDirFiles(t, dir, "w1")
	if len(files) != 5 {
		t.Fatalf("files %v, want 5", files)
	}
	for _, name := range files {
		start, _ := ParseRecordingName("w1", name)
		f := wtReadClosed(t, filepath.Join(dir, name))
		for _, fr := range f.frames {
			if fr.entry.MinTime.Before(start) || !fr.entry.MaxTime.Before(start.Add(10*time.Second)) {
				t.Errorf("%s holds %v..%v", name, fr.entry.MinTime, fr.entry.MaxTime)
			}
		}
	}
}

// TestRetentionBytes keeps the directory under RetainBytes, touches no
// other files, and never deletes the file being written.
func TestRetentionBytes(t *testing.T) {
	for _, tc := range []struct {
		name   string
		retain int64
	}{{"cap", 16 << 10}, {"tiny cap keeps the current file", 1}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			foreign := []string{"notes.txt", "other-20261127T031200.000Z.zst", "w1-garbage.zst", "w1-20261127T031200.000Z.zst.bak"}
			for _, name := range foreign {
				os.WriteFile(filepath.Join(dir, name), make([]byte, 100<<10), 0o644)
			}
			clk := &wtClock{t: wtT0}
			const maxFile, frame = 4 << 10, 1 << 10
			r, err := CreateDir(dir, &Options{Clock: clk.Now, Worker: "w1",
				FrameBytes: frame, MaxFileBytes: maxFile, RetainBytes: tc.retain, RetainAge: -1})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { r.Close() })
			for i := range 3000 {
				at := wtT0.Add(time.Duration(i) * time.Millisecond)
				clk.Set(at)
				wtHandle(t, r, at, events.SessionStart{SessionID: "s"})
				if i%200 == 0 { // check while the current file is open
					wtCheckRetained(t, r, dir, tc.retain+maxFile+frame)
				}
			}
			wtClose(t, r)
			if r.Stats().Files < 10 {
				t.Fatalf("only %d files written", r.Stats().Files)
			}
			for _, name := range foreign {
				if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
					t.Errorf("foreign file: %v", err)
				}
			}
		})
	}
}

func wtCheckRetained(t *testing.T, r *Recorder, dir string, limit int64) {
	t.Helper()
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	files := wtDirFiles(t, dir, "w1")
	var total int64
	for _, name := range files {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		total += fi.Size()
	}
	if total > limit {
		t.Errorf("%d bytes in %d files, limit %d", total, len(files), limit)
	}
	cur := filepath.Base(r.c.currentPath())
	if len(files) == 0 || files[len(files)-1] != cur {
		t.Fatalf("current file %s missing from %v", cur, files)
	}
}

func TestRetentionAge(t *testing.T) {
	dir := t.TempDir()
	// Recordings of an earlier run, long expired.
	old := wtT0.Add(-30 * 24 * time.Hour)
	for i := range 3 {
		os.WriteFile(filepath.Join(dir, RecordingName("w1", old.Add(time.Duration(i)*time.Hour))), []byte("x"), 0o644)
	}
	clk := &wtClock{t: wtT0}
	r, err := CreateDir(dir, &Options{Clock: clk.Now, Worker: "w1", MaxFileAge: 5 * time.Second, RetainAge: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	// In Clock mode a file's end is the next one's start, so the newest
	// old file lasts until the current one began: kept for now.
	if files := wtDirFiles(t, dir, "w1"); len(files) != 2 {
		t.Fatalf("at start: %v", files)
	}
	wtRun(t, r, clk, 61, time.Second)
	wtClose(t, r)
	files := wtDirFiles(t, dir, "w1")
	now := clk.Now()
	for i, name := range files[:len(files)-1] {
		next, _ := ParseRecordingName("w1", files[i+1])
		if now.Sub(next) > 20*time.Second {
			t.Errorf("%s ended %v ago, kept", name, now.Sub(next))
		}
	}
	// Files start every 5 s; the last rotation, at 60 s, keeps the files
	// whose last record is at most 20 s old: those starting at 40 (last
	// record at 44), 45, 50, 55 and the current one, 60. The one starting
	// at 35 ended with its record at 39: 21 s before.
	if len(files) != 5 {
		t.Errorf("kept %v", files)
	}
}

// TestRetentionAgeByLastRecord (issue 12, F5): a file's age is its last
// record's, not its modification time's nor the next file's name's: a
// recording nine days old copied in with a fresh mtime is deleted, and an
// old-named file whose records are recent is kept.
func TestRetentionAgeByLastRecord(t *testing.T) {
	src := t.TempDir()
	run := func(r *Recorder, clk *wtClock, n int) {
		start := clk.Now()
		for i := range n {
			at := start.Add(time.Duration(i) * time.Second)
			clk.Set(at)
			wtHandle(t, r, at, events.SessionStart{SessionID: "s", Agent: "voice"})
		}
	}
	write := func(start time.Time, n int) string {
		clk := &wtClock{t: start}
		r, err := CreateDir(src, &Options{Clock: clk.Now, Worker: "w1", RetainAge: -1, RetainBytes: -1})
		if err != nil {
			t.Fatal(err)
		}
		run(r, clk, n)
		wtClose(t, r)
		return filepath.Join(src, RecordingName("w1", start))
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	nineDays := write(now.Add(-9*24*time.Hour), 5)
	// Named two days ago, written until five minutes ago (a long run).
	longRun := write(now.Add(-48*time.Hour), 3)
	longRecent := filepath.Join(src, RecordingName("w1", now.Add(-48*time.Hour).Add(time.Minute)))
	{
		clk := &wtClock{t: now.Add(-5 * time.Minute)}
		r, err := Create(longRecent, &Options{Clock: clk.Now, Worker: "w1"})
		if err != nil {
			t.Fatal(err)
		}
		run(r, clk, 3)
		wtClose(t, r)
	}
	dir := t.TempDir()
	copyFresh := func(p string) string {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(dir, filepath.Base(p))
		if err := os.WriteFile(dst, b, 0o644); err != nil { // a fresh mtime
			t.Fatal(err)
		}
		return dst
	}
	old, mid, recent := copyFresh(nineDays), copyFresh(longRun), copyFresh(longRecent)
	r, err := CreateDir(dir, &Options{Worker: "w1", RetainAge: 7 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	wtClose(t, r)
	if _, err := os.Stat(old); err == nil {
		t.Errorf("%s: its last record is 9 days old, kept (fresh mtime)", filepath.Base(old))
	}
	for _, p := range []string{mid, recent} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s: deleted: %v", filepath.Base(p), err)
		}
	}
}

// TestRetentionAgeWallClock checks that without a Clock a file's last
// write, not the start of the next file, says when it ended.
func TestRetentionAgeWallClock(t *testing.T) {
	dir := t.TempDir()
	month := time.Now().Add(-30 * 24 * time.Hour)
	var names []string
	for i := range 3 {
		name := filepath.Join(dir, RecordingName("w1", month.Add(time.Duration(i)*time.Hour)))
		os.WriteFile(name, []byte("x"), 0o644)
		os.Chtimes(name, month, month.Add(time.Duration(i)*time.Hour+time.Minute))
		names = append(names, name)
	}
	recent := filepath.Join(dir, RecordingName("w1", time.Now().Add(-time.Minute)))
	os.WriteFile(recent, []byte("x"), 0o644)
	r, err := CreateDir(dir, &Options{Worker: "w1", RetainAge: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	wtClose(t, r)
	for _, name := range names {
		if _, err := os.Stat(name); err == nil {
			t.Errorf("%s kept", filepath.Base(name))
		}
	}
	if _, err := os.Stat(recent); err != nil {
		t.Errorf("recent file: %v", err)
	}
}
