package stall_test

import (
	"context"
	"runtime"
	"runtime/pprof"
	"sync"
	"testing"
	"time"

	"github.com/openrtc-go/introspect/stall"
)

// sessionCtx returns a context labelled as OpenRTC tags a session's context.
func sessionCtx(session, agent string) context.Context {
	return pprof.WithLabels(context.Background(), pprof.Labels("session", session, "agent", agent, "tenant", "acme"))
}

// inSession runs f in a new goroutine labelled with ctx's labels, as a
// session's goroutines are, and returns a channel closed when f returns.
func inSession(ctx context.Context, f func(ctx context.Context)) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		pprof.SetGoroutineLabels(ctx)
		f(ctx)
	}()
	return done
}

// reports collects a watchdog's reports.
type reports struct {
	mu  sync.Mutex
	all []stall.Stall
	ch  chan stall.Stall
}

func newReports() *reports { return &reports{ch: make(chan stall.Stall, 1024)} }

func (r *reports) report(s stall.Stall) {
	r.mu.Lock()
	r.all = append(r.all, s)
	r.mu.Unlock()
	r.ch <- s
}

func (r *reports) snapshot() []stall.Stall {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]stall.Stall(nil), r.all...)
}

// next waits for the next report matching keep, failing the test after a
// generous timeout.
func (r *reports) next(t *testing.T, keep func(stall.Stall) bool) stall.Stall {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case s := <-r.ch:
			if keep(s) {
				return s
			}
		case <-deadline:
			t.Fatalf("no matching report within 10s; got %v", r.snapshot())
			return stall.Stall{}
		}
	}
}

// here stores the line of its caller's call site in *line and returns v, so
// a test can learn the line of a blocking call it makes: f(here(&line, v)).
func here[T any](line *int, v T) T {
	_, _, *line, _ = runtime.Caller(1)
	return v
}

func final(s stall.Stall) bool   { return !s.Ongoing }
func ongoing(s stall.Stall) bool { return s.Ongoing }
