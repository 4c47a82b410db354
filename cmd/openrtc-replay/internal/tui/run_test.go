package tui

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
)

// TestRunQuits runs the real Bubble Tea program over pipes: it draws the
// screen, takes keys, and returns nil when q is pressed.
func TestRunQuits(t *testing.T) {
	src := newFoldSource(t, jsonLines(t, scenario()))
	in, keys := io.Pipe()
	var out bytes.Buffer
	done := make(chan error, 1)
	go func() {
		done <- Run(context.Background(), src, Options{Input: in, Output: &out, Width: 120, Height: 30, Sort: "cpu_pct"})
	}()
	// s then q: the sort moves on to duration_s before the screen quits (the
	// renderer redraws only what changed, so only that word is sure to be
	// written again).
	for _, k := range []string{"s", "q"} {
		time.Sleep(100 * time.Millisecond)
		if _, err := keys.Write([]byte(k)); err != nil {
			t.Fatal(err)
		}
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
	screen := ansi.Strip(out.String())
	for _, want := range []string{"call-b", "sort cpu_pct", "duration_s"} {
		if !strings.Contains(screen, want) {
			t.Errorf("output lacks %q", want)
		}
	}
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
