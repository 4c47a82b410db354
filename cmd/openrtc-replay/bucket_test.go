package main

import (
	"context"
	"encoding/json"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openrtc-go/introspect/internal/s3test"
)

// bucketOf lays fixtures out as workers upload them, <prefix>/<worker>@<host>/<file>,
// in a file:// bucket, and returns the prefix's URL.
func bucketOf(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for worker, name := range files {
		b, err := os.ReadFile(fixture(name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(root, "prod", worker), 0o755); err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(root, "prod", worker, name), b)
	}
	return (&url.URL{Scheme: "file", Path: filepath.Join(root, "prod") + "/"}).String()
}

func TestBucketWorkersAndFleetSummary(t *testing.T) {
	u := bucketOf(t, map[string]string{"w1": "normal.zst", "w2": "stalls.zst"})

	r := runArgs(t, "workers", u)
	if r.code != exitOK {
		t.Fatalf("workers: exit %d: %s", r.code, r.err)
	}
	for _, want := range []string{"w1@fixture-host", "w2@fixture-host", "2026-11-27 03:10:00", "2026-11-27 03:22:00.5"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("workers output lacks %q:\n%s", want, r.out)
		}
	}
	r = runArgs(t, "workers", "--json", u)
	var rows []workerRow
	if err := json.Unmarshal([]byte(r.out), &rows); err != nil || len(rows) != 2 || rows[0].Files != 1 || rows[0].First.IsZero() {
		t.Errorf("workers --json: %v %+v", err, rows)
	}

	// Who stalled, on which worker, and where: w2's room-2 holds room-loop.
	r = runArgs(t, "summary", "--at", "03:10..03:23", u)
	if r.code != exitOK {
		t.Fatalf("summary --at: exit %d: %s", r.code, r.err)
	}
	var first string
	for _, l := range strings.Split(r.out, "\n") {
		if strings.Contains(l, "@fixture-host ") {
			first = l
			break
		}
	}
	if f := strings.Fields(first); len(f) < 4 || f[0] != "w2@fixture-host" || f[1] != "room-2" || f[3] != "room-loop" {
		t.Errorf("worst stall row = %q, want w2@fixture-host room-2 … room-loop\n%s", first, r.out)
	}
	if !strings.Contains(r.out, "no stalls: w1@fixture-host") {
		t.Errorf("w1 is not listed as quiet:\n%s", r.out)
	}
	// A window with only w1 in it.
	r = runArgs(t, "summary", "--at", "03:10..03:14", "--json", u)
	var fs fleetSummary
	if err := json.Unmarshal([]byte(r.out), &fs); err != nil || len(fs.Rows) != 0 || len(fs.Quiet) != 2 {
		t.Errorf("summary --at 03:10..03:14: %v %+v", err, fs)
	}

	// The same view from the bucket as from the file.
	want := runArgs(t, "top", "--once", "--at", "03:21", fixture("stalls.zst"))
	got := runArgs(t, "top", "--once", "--at", "03:21", "--worker", "w2", u)
	body := func(s string) string { _, b, _ := strings.Cut(s, "\n"); return b } // past the title line
	if got.code != exitOK || body(got.out) != body(want.out) {
		t.Errorf("top --once from the bucket (exit %d, %s):\n%s\nwant\n%s", got.code, got.err, got.out, want.out)
	}
	// Several workers and no --worker: the usual question.
	oneLineErr(t, runArgs(t, "top", "--once", u), exitBadArgs, "choose one with --worker")

	for _, bad := range [][]string{
		{"summary", "--at", "03:10", u},
		{"summary", "--at", "03:15..03:10", u},
		{"workers", "file:///no/such/dir/"},
		{"workers", u, fixture("normal.zst")},
	} {
		if r := runArgs(t, bad...); r.code != exitBadArgs {
			t.Errorf("%v: exit %d, want %d (%s)", bad, r.code, exitBadArgs, r.err)
		}
	}
}

// Two demo workers upload to a real S3 server; one of them has a session
// that blocks the shared mixer. The summary across the prefix names that
// worker and that session, and never the other worker.
func TestFleetSummaryFromS3(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two demo workers against an S3 server")
	}
	s3 := s3test.Start(t)
	tmp := t.TempDir()
	demo := filepath.Join(tmp, "densitydemo")
	if out, err := exec.Command("go", "build", "-o", demo, "../densitydemo").CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var wg sync.WaitGroup
	for _, w := range []struct {
		name  string
		extra []string
	}{{"voice-a", []string{"--blocker"}}, {"voice-b", nil}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			args := append([]string{"--sessions", "10", "--duration", "4s", "--quiet", "--socket", "off",
				"--worker", w.name, "--record", filepath.Join(tmp, w.name), "--upload", s3.URL("prod")}, w.extra...)
			if out, err := exec.Command(demo, args...).CombinedOutput(); err != nil {
				t.Errorf("%s: %v\n%s", w.name, err, out)
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	u := s3.URL("prod/")
	r := runArgs(t, "workers", u)
	if r.code != exitOK || !strings.Contains(r.out, "voice-a@") || !strings.Contains(r.out, "voice-b@") {
		t.Fatalf("workers: exit %d\n%s%s", r.code, r.out, r.err)
	}
	r = runArgs(t, "summary", "--json", "--at", "start..end", u)
	var fs fleetSummary
	if err := json.Unmarshal([]byte(r.out), &fs); err != nil {
		t.Fatalf("summary --at: %v (exit %d, %s)", err, r.code, r.err)
	}
	found := false
	for _, row := range fs.Rows {
		if row.SessionID == "call-blocker" {
			if !strings.HasPrefix(row.Worker, "voice-a@") || row.Source != "mixer" || !strings.Contains(row.Frame, "culprits.go") {
				t.Errorf("call-blocker's row: %+v, want worker voice-a, the mixer, culprits.go", row)
			}
			found = true
		}
		// A holder that waited for a CPU (the box is shared) is a victim,
		// not a blocker.
		if strings.HasPrefix(row.Worker, "voice-b@") && row.Source == "mixer" && row.Cause != "waiting-for-cpu" {
			t.Errorf("voice-b has no blocker, yet: %+v", row)
		}
	}
	if !found {
		t.Errorf("no row names call-blocker: %+v", fs.Rows)
	}
}

// slow --follow on a bucket prefix prints the stalls of the files there,
// then of each file uploaded after it started.
func TestSlowFollowBucket(t *testing.T) {
	old := bucketPoll
	bucketPoll = 20 * time.Millisecond
	defer func() { bucketPoll = old }()
	u := bucketOf(t, map[string]string{"w1": "normal.zst"})
	root := strings.TrimPrefix(u, "file://")

	io, out, errw := testStdio(t, strings.NewReader(""))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	go func() { done <- run(ctx, []string{"slow", "--follow", u}, io) }()
	time.Sleep(200 * time.Millisecond)
	if strings.Contains(out.String(), "room-2") {
		t.Fatalf("printed w2's stall before it was uploaded:\n%s", out.String())
	}
	// w2's file arrives, written aside and renamed as an upload lands.
	b, err := os.ReadFile(fixture("stalls.zst"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(root, "w2"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(root, "w2", ".upload.tmp"), b)
	if err := os.Rename(filepath.Join(root, "w2", ".upload.tmp"), filepath.Join(root, "w2", "stalls.zst")); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(15 * time.Second); !strings.Contains(out.String(), "session_id=room-2 blocked room-loop"); {
		if time.Now().After(deadline) {
			t.Fatalf("slow --follow never printed the uploaded file's stall; output:\n%s\nstderr: %s", out.String(), errw.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("slow --follow on a bucket did not stop when interrupted")
	}
}

// verify checks every file under a prefix, as it checks a directory.
func TestVerifyBucket(t *testing.T) {
	u := bucketOf(t, map[string]string{"w1": "corrupt.zst", "w2": "stalls.zst"})
	r := runArgs(t, "verify", u)
	if r.code != exitFailed || !strings.Contains(r.out, "corrupt.zst: damaged, readable") ||
		!strings.Contains(r.out, "frame at offset 7615") || !strings.Contains(r.out, "stalls.zst: intact") {
		t.Errorf("verify of a bucket: exit %d\n%s%s", r.code, r.out, r.err)
	}
	if r := runArgs(t, "verify", u+"nosuch/"); r.code != exitBadArgs {
		t.Errorf("verify of an empty prefix: exit %d, want %d", r.code, exitBadArgs)
	}
}
