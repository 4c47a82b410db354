package main

import (
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openrtc-go/introspect/events"
	"github.com/openrtc-go/introspect/fold"
	"github.com/openrtc-go/introspect/recorder"
)

// slow --follow prints stalls written after it started, including those in
// a file the recorder rotated to.
func TestSlowFollowAcrossRotation(t *testing.T) {
	dir := t.TempDir()
	t0 := time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	now := t0
	rec, err := recorder.CreateDir(dir, &recorder.Options{Worker: "w", Keyframer: fold.New(), MaxFileAge: time.Minute,
		Clock: func() time.Time { mu.Lock(); defer mu.Unlock(); return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Close()
	emit := func(at time.Duration, e events.Event) {
		t.Helper()
		mu.Lock()
		now = t0.Add(at)
		mu.Unlock()
		if err := rec.Handle(context.Background(), events.Record(t0.Add(at), e)); err != nil {
			t.Fatal(err)
		}
	}
	flush := func() {
		t.Helper()
		if err := rec.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	stall := func(at time.Duration, id uint64, session string) {
		emit(at, events.SlowSession{StallID: id, SessionID: session, Source: "room-loop", Blocked: 300 * time.Millisecond,
			Confidence: 1, Frame: "room.go:7 main.mix"})
	}
	emit(0, events.WorkerStart{Worker: "w"})
	emit(0, events.SessionStart{SessionID: "before", Agent: "voice"})
	stall(time.Second, 1, "before")
	flush()

	io, out, errw := testStdio(t, strings.NewReader(""))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	go func() { done <- run(ctx, []string{"slow", "--follow", dir}, io) }()
	waitOutput := func(want string) {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for !strings.Contains(out.String(), want) {
			if time.Now().After(deadline) {
				t.Fatalf("slow --follow never printed %q; output:\n%s\nstderr: %s", want, out.String(), errw.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitOutput("session_id=before blocked room-loop for 300ms")

	// Appended to the same file after the follower started.
	emit(10*time.Second, events.SessionStart{SessionID: "appended", Agent: "voice"})
	stall(11*time.Second, 2, "appended")
	flush()
	waitOutput("session_id=appended")

	// Past the file's age limit: the recorder rotates to a new file.
	for s := 20; s <= 80; s += 10 {
		emit(time.Duration(s)*time.Second, events.Sample{RSSBytes: 1 << 20, Sessions: 2, Runnable: -1, Running: -1, Waiting: -1})
	}
	stall(81*time.Second, 3, "rotated")
	flush()
	files, _ := os.ReadDir(dir)
	if len(files) < 2 {
		t.Fatalf("the recorder did not rotate: %d files", len(files))
	}
	waitOutput("session_id=rotated")

	cancel()
	select {
	case code := <-done:
		if code != 0 && code != 1 {
			t.Errorf("exit %d after interrupt", code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("slow --follow did not stop when interrupted")
	}
	if n := strings.Count(out.String(), "[slow-session]"); n != 3 {
		t.Errorf("%d stall lines, want 3:\n%s", n, out.String())
	}
}
