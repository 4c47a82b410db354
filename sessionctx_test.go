package introspect_test

import (
	"context"
	"errors"
	"runtime"
	"runtime/pprof"
	"testing"
	"time"

	"github.com/openrtc-go/introspect"
)

// The context Begin returns is an ordinary context of its caller's: it is
// cancelled with it, with its cause, carries the session's labels and the
// caller's values, and contexts derived from it are cancelled through the
// caller's cancelCtx, not by a goroutine each.
func TestSessionContextIsTheCallersContext(t *testing.T) {
	in, _, _ := start(t, introspect.Options{DisableCPU: true})
	type key struct{}
	parent, cancel := context.WithCancelCause(context.WithValue(context.Background(), key{}, "v"))
	sctx, end := in.Begin(parent, "call-1", introspect.Agent("voice"))
	defer end(nil)
	defer pprof.SetGoroutineLabels(context.Background())

	if id, _ := pprof.Label(sctx, introspect.LabelSession); id != "call-1" {
		t.Errorf("session label %q, want call-1", id)
	}
	if a, _ := pprof.Label(sctx, introspect.LabelAgent); a != "voice" {
		t.Errorf("agent label %q, want voice", a)
	}
	if v := sctx.Value(key{}); v != "v" {
		t.Errorf("the caller's value = %v, want v", v)
	}
	if sctx.Done() != parent.Done() {
		t.Error("Done is not the caller's channel")
	}

	// Derived contexts: cancelled with the session's, without a goroutine
	// each (context falls back to one per child for a parent it does not
	// recognise).
	g0 := runtime.NumGoroutine()
	const n = 200
	children := make([]context.Context, n)
	for i := range children {
		c, cc := context.WithCancel(sctx)
		defer cc()
		children[i] = c
	}
	if g := runtime.NumGoroutine() - g0; g > n/4 {
		t.Errorf("%d goroutines started for %d children of the session's context", g, n)
	}
	if id, _ := pprof.Label(children[0], introspect.LabelSession); id != "call-1" {
		t.Errorf("a child's session label %q, want call-1", id)
	}

	boom := errors.New("boom")
	cancel(boom)
	select {
	case <-sctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the session's context was not cancelled with its caller's")
	}
	for _, c := range children {
		select {
		case <-c.Done():
		case <-time.After(5 * time.Second):
			t.Fatal("a child of the session's context was not cancelled")
		}
	}
	if !errors.Is(sctx.Err(), context.Canceled) || !errors.Is(context.Cause(sctx), boom) {
		t.Errorf("Err %v, Cause %v: want canceled, boom", sctx.Err(), context.Cause(sctx))
	}
	if !errors.Is(context.Cause(children[0]), boom) {
		t.Errorf("a child's cause %v, want boom", context.Cause(children[0]))
	}
}
