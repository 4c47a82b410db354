package bucket_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "gocloud.dev/blob/fileblob"
	_ "gocloud.dev/blob/s3blob"

	"github.com/openrtc-go/introspect"
	"github.com/openrtc-go/introspect/bucket"
	"github.com/openrtc-go/introspect/internal/s3test"
	"github.com/openrtc-go/introspect/recorder"
)

var quiet = slog.New(slog.DiscardHandler)

func host(t *testing.T) string {
	h, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func fileURL(dir string) string { return (&url.URL{Scheme: "file", Path: dir}).String() }

// runWorker runs a real introspector recording to dir with up, with a
// session holding a loop now and then, rotating files every few hundred
// milliseconds, for d.
func runWorker(t *testing.T, dir, worker string, up introspect.RecordingUploader, d time.Duration, ro *recorder.Options) {
	t.Helper()
	if ro == nil {
		ro = &recorder.Options{}
	}
	ro.MaxFileAge = 300 * time.Millisecond
	ro.FlushInterval = 50 * time.Millisecond
	in, err := introspect.Start(introspect.Options{
		Worker: worker, Record: dir, RecordOptions: ro, Upload: up,
		SampleInterval: 50 * time.Millisecond, Socket: introspect.SocketOff, Logger: quiet,
	})
	if err != nil {
		t.Fatal(err)
	}
	mixer := in.Loop("mixer")
	ctx, end := in.Begin(context.Background(), "call-1")
	for deadline := time.Now().Add(d); time.Now().Before(deadline); {
		leave := mixer.Enter(ctx)
		time.Sleep(5 * time.Millisecond)
		leave()
	}
	end(nil)
	if err := in.Close(); err != nil {
		t.Fatal(err)
	}
}

// localFiles returns the recording files of worker in dir.
func localFiles(t *testing.T, dir, worker string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if _, ok := recorder.ParseRecordingName(worker, e.Name()); ok {
			out = append(out, e.Name())
		}
	}
	return out
}

func TestUploadsEachClosedFile(t *testing.T) {
	dir, bkt := t.TempDir(), t.TempDir()
	up, err := bucket.NewUploader(context.Background(), bucket.UploadOptions{URL: fileURL(filepath.Join(bkt, "prod")), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	// The folder is the worker's name and the host its files' headers
	// carry, which a pod may set (recorder.Options.Host).
	runWorker(t, dir, "w1", up, 1200*time.Millisecond, &recorder.Options{Host: "pod-7"})
	files := localFiles(t, dir, "w1")
	if len(files) < 3 {
		t.Fatalf("%d files recorded, want rotations", len(files))
	}
	for _, name := range files {
		local, _ := os.ReadFile(filepath.Join(dir, name))
		remote, err := os.ReadFile(filepath.Join(bkt, "prod", "w1@pod-7", name))
		if err != nil || !bytes.Equal(local, remote) {
			t.Errorf("%s: in the bucket %d bytes (err %v), on disk %d", name, len(remote), err, len(local))
		}
	}
	if st := up.Stats(); st.Uploaded != int64(len(files)) || st.Pending != 0 {
		t.Errorf("stats %+v, want %d uploaded, none pending", st, len(files))
	}
}

func TestUploadNeedsDirectory(t *testing.T) {
	up, err := bucket.NewUploader(context.Background(), bucket.UploadOptions{URL: fileURL(t.TempDir())})
	if err != nil {
		t.Fatal(err)
	}
	_, err = introspect.Start(introspect.Options{Record: filepath.Join(t.TempDir(), "rec.zst"), Upload: up, Socket: introspect.SocketOff})
	if err == nil || !strings.Contains(err.Error(), "directory") {
		t.Errorf("Start with a .zst Record and Upload: %v, want an error saying Record must be a directory", err)
	}
}

func TestBadBucketURL(t *testing.T) {
	for _, u := range []string{"", "nosuch://x/y", "s3:///prefix-without-bucket", "/just/a/path"} {
		if _, err := bucket.NewUploader(context.Background(), bucket.UploadOptions{URL: u}); err == nil {
			t.Errorf("NewUploader(%q) = nil error", u)
		}
	}
}

// The bucket is unreachable for good: closed files wait on disk up to the
// backlog bound, the oldest beyond it are deleted and reported, the newest
// are kept for the next start.
func TestBacklogIsBounded(t *testing.T) {
	dir := t.TempDir()
	start := time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC)
	var names []string
	for i := range 5 {
		name := recorder.RecordingName("w1", start.Add(time.Duration(i)*time.Minute))
		names = append(names, name)
		if err := os.WriteFile(filepath.Join(dir, name), bytes.Repeat([]byte{'x'}, 100<<10), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("AWS_ACCESS_KEY_ID", "x")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "y")
	up, err := bucket.NewUploader(context.Background(), bucket.UploadOptions{
		URL:          "s3://b/p?endpoint=http://127.0.0.1:1&region=us-east-1&use_path_style=true&disable_https=true",
		BacklogBytes: 250 << 10, MinBackoff: 10 * time.Millisecond, MaxBackoff: 20 * time.Millisecond,
		CloseTimeout: 100 * time.Millisecond, Logger: quiet,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := up.Start(dir, recorder.WorkerID{Name: "w1", Host: "h1"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a failed attempt", func() bool { return up.Stats().Failures > 0 })
	st := up.Stats()
	if strings.Join(st.Lost, " ") != strings.Join(names[:3], " ") || st.Pending != 2 {
		t.Errorf("lost %v, %d pending; want the 3 oldest lost, 2 pending", st.Lost, st.Pending)
	}
	if got := localFiles(t, dir, "w1"); strings.Join(got, " ") != strings.Join(names[3:], " ") {
		t.Errorf("on disk %v, want the newest two %v", got, names[3:])
	}
	if !up.Keep(filepath.Join(dir, names[4])) || up.Keep(filepath.Join(dir, names[0])) {
		t.Error("Keep must protect exactly the files waiting for upload")
	}
	if st.NotesPending != 3 {
		t.Errorf("%d notes of lost files pending, want 3", st.NotesPending)
	}
	if err := up.Close(); err == nil || !strings.Contains(err.Error(), "5 file(s) not uploaded") {
		t.Errorf("Close = %v, want it to say 2 files and 3 notes are left", err)
	}
}

// What the backlog bound deleted is said in the bucket, beside where the
// files would have been: <file>.lost.json.
func TestLostFilesAreNotedInTheBucket(t *testing.T) {
	dir, bkt := t.TempDir(), t.TempDir()
	start := time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC)
	var names []string
	for i := range 4 {
		name := recorder.RecordingName("w1", start.Add(time.Duration(i)*time.Minute))
		names = append(names, name)
		if err := os.WriteFile(filepath.Join(dir, name), bytes.Repeat([]byte{'x'}, 100<<10), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	up, err := bucket.NewUploader(context.Background(), bucket.UploadOptions{URL: fileURL(bkt), BacklogBytes: 150 << 10, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if err := up.Start(dir, recorder.WorkerID{Name: "w1", Host: "h1"}); err != nil {
		t.Fatal(err)
	}
	if err := up.Close(); err != nil {
		t.Fatal(err)
	}
	folder := filepath.Join(bkt, bucket.Folder("w1", "h1"))
	for i, name := range names {
		_, errRec := os.Stat(filepath.Join(folder, name))
		note, errNote := os.ReadFile(filepath.Join(folder, name+".lost.json"))
		if lost := i < 3; lost != (errNote == nil) || lost == (errRec == nil) {
			t.Errorf("%s: in the bucket %v, noted lost %v; want lost %v", name, errRec == nil, errNote == nil, lost)
		}
		if errNote == nil && !strings.Contains(string(note), "deleted unuploaded to bound the local backlog") {
			t.Errorf("note of %s: %s", name, note)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "*.lost.json")); len(left) != 0 {
		t.Errorf("local notes left after upload: %v", left)
	}
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); {
		if ok() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

// The S3 server is down while the worker records and rotates: nothing is
// lost, retention keeps what is not uploaded, and everything arrives once
// the server is back.
func TestUploadsSurviveServerDown(t *testing.T) {
	s3 := s3test.Start(t)
	dir := t.TempDir()
	up, err := bucket.NewUploader(context.Background(), bucket.UploadOptions{
		URL: s3.URL("prod"), MinBackoff: 50 * time.Millisecond, MaxBackoff: 300 * time.Millisecond,
		CloseTimeout: 30 * time.Second, Logger: quiet,
	})
	if err != nil {
		t.Fatal(err)
	}
	s3.Stop()
	done := make(chan struct{})
	go func() {
		defer close(done)
		// RetainBytes of 1: every uploaded file may go at the next rotation;
		// none that is not uploaded may.
		runWorker(t, dir, "w2", up, 1500*time.Millisecond, &recorder.Options{RetainBytes: 1})
	}()
	waitFor(t, "failed attempts while the server is down", func() bool {
		st := up.Stats()
		return st.Failures >= 2 && st.Pending >= 2
	})
	kept := localFiles(t, dir, "w2")
	s3.Restart()
	<-done // Close waited for the backlog to drain
	st := up.Stats()
	if st.Pending != 0 || len(st.Lost) != 0 {
		t.Fatalf("after the server came back: %+v", st)
	}
	for _, name := range kept {
		got := s3.Object(t, "prod/"+bucket.Folder("w2", host(t))+"/"+name)
		if local, err := os.ReadFile(filepath.Join(dir, name)); err == nil && !bytes.Equal(local, got) {
			t.Errorf("%s differs in the bucket", name)
		}
	}
	if int(st.Uploaded) < len(kept) {
		t.Errorf("uploaded %d files, %d were waiting", st.Uploaded, len(kept))
	}
}

// A worker killed with SIGKILL leaves its last file unclosed; the next start
// of the same worker uploads it, and it reads back from the bucket.
func TestKilledWorkersLastFileArrivesAfterRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the demo worker twice")
	}
	s3 := s3test.Start(t)
	tmp := t.TempDir()
	demo := filepath.Join(tmp, "densitydemo")
	if out, err := exec.Command("go", "build", "-o", demo, "../cmd/densitydemo").CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	dir := filepath.Join(tmp, "rec")
	args := []string{"--sessions", "10", "--blocker", "--record", dir, "--upload", s3.URL("prod"),
		"--worker", "w-killed", "--socket", "off", "--quiet"}
	cmd := exec.Command(demo, args...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the recording to hold a frame", func() bool {
		fs := localFiles(t, dir, "w-killed")
		if len(fs) == 0 {
			return false
		}
		st, err := os.Stat(filepath.Join(dir, fs[len(fs)-1]))
		return err == nil && st.Size() > 4<<10
	})
	time.Sleep(1500 * time.Millisecond)
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()
	killed := localFiles(t, dir, "w-killed")
	last := killed[len(killed)-1]
	loc, err := bucket.Open(context.Background(), s3.URL("prod"))
	if err != nil {
		t.Fatal(err)
	}
	defer loc.Close()
	if ok, _ := loc.Bucket.Exists(context.Background(), "prod/"+bucket.Folder("w-killed", host(t))+"/"+last); ok {
		t.Fatalf("%s is in the bucket before the restart; it was never closed", last)
	}

	out, err := exec.Command(demo, append(args, "--duration", "1s")...).CombinedOutput()
	if err != nil {
		t.Fatalf("restart: %v\n%s", err, out)
	}
	got := s3.Object(t, "prod/"+bucket.Folder("w-killed", host(t))+"/"+last)
	local, _ := os.ReadFile(filepath.Join(dir, last))
	if !bytes.Equal(got, local) {
		t.Fatalf("%s: %d bytes in the bucket, %d on disk", last, len(got), len(local))
	}
	// It reads back from the bucket: the index is rebuilt by walking frames.
	objs, err := (&bucket.Location{Bucket: loc.Bucket, Prefix: "prod/" + bucket.Folder("w-killed", host(t)) + "/" + last + "/", URL: s3.URL("prod")}).Recordings(context.Background())
	if err != nil || len(objs) != 1 {
		t.Fatalf("listing the killed file: %v %v", objs, err)
	}
	ins, _ := loc.Inputs(context.Background(), objs)
	set, err := recorder.OpenInputs(ins...)
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	sc := set.Scan()
	n := 0
	for sc.Next() {
		n++
	}
	if n == 0 || set.Files()[0].Index != recorder.IndexRebuilt {
		t.Errorf("read %d records from the killed file (index %v), want records and a rebuilt index", n, set.Files()[0].Index)
	}
}

// A file of the same name from another process (two workers of one name on
// one host) is never overwritten.
func TestUploadNeverOverwritesAnotherFile(t *testing.T) {
	dir, bkt := t.TempDir(), t.TempDir()
	name := recorder.RecordingName("w1", time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC))
	folder := filepath.Join(bkt, bucket.Folder("w1", "h1"))
	if err := os.MkdirAll(folder, 0o755); err != nil {
		t.Fatal(err)
	}
	theirs, mine := []byte("their recording"), []byte("my recording, longer")
	if err := os.WriteFile(filepath.Join(folder, name), theirs, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), mine, 0o644); err != nil {
		t.Fatal(err)
	}
	up, err := bucket.NewUploader(context.Background(), bucket.UploadOptions{URL: fileURL(bkt), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if err := up.Start(dir, recorder.WorkerID{Name: "w1", Host: "h1"}); err != nil {
		t.Fatal(err)
	}
	if err := up.Close(); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(folder, name)); !bytes.Equal(got, theirs) {
		t.Errorf("the other file was overwritten: %q", got)
	}
	ents, _ := os.ReadDir(folder)
	found := false
	for _, e := range ents {
		if b, _ := os.ReadFile(filepath.Join(folder, e.Name())); e.Name() != name && bytes.Equal(b, mine) {
			found = true
		}
	}
	if !found {
		t.Errorf("my file was not uploaded beside theirs: %v", ents)
	}
}
