package tui

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
)

// lockedBuffer is the program's output, read by the test while the
// program writes it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return ansi.Strip(b.buf.String())
}

// waitOutput waits until the program has written want, however loaded the
// machine is.
func waitOutput(t *testing.T, out *lockedBuffer, want string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(out.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("the screen never showed %q", want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestRunQuits runs the real Bubble Tea program over pipes: it draws the
// screen, takes keys, and returns nil when q is pressed.
func TestRunQuits(t *testing.T) {
	src := newFoldSource(t, jsonLines(t, scenario()))
	in, keys := io.Pipe()
	out := &lockedBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- Run(context.Background(), src, Options{Input: in, Output: out, Width: 120, Height: 30, Sort: "cpu_pct"})
	}()
	// s then q: the sort moves on to duration_s before the screen quits.
	waitOutput(t, out, "sort cpu_pct")
	waitOutput(t, out, "call-b")
	if _, err := keys.Write([]byte("s")); err != nil {
		t.Fatal(err)
	}
	waitOutput(t, out, "duration_s")
	if _, err := keys.Write([]byte("q")); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run = %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not return after q")
	}
	keys.Close()
}

func TestRunContextEnds(t *testing.T) {
	src := newFoldSource(t, jsonLines(t, scenario()))
	in, keys := io.Pipe()
	defer keys.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, src, Options{Input: in, Output: io.Discard}) }()
	time.Sleep(100 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Run = %v, want context.Canceled", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not return when its context ended")
	}
}

func TestRunBadOptions(t *testing.T) {
	src := newFoldSource(t, jsonLines(t, scenario()))
	err := Run(context.Background(), src, Options{Sort: "size"})
	if err == nil || !strings.Contains(err.Error(), `unknown sort key "size"`) {
		t.Fatalf("Run with a bad sort = %v", err)
	}
}
