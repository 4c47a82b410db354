package stall_test

import (
	"cmp"
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openrtc-go/introspect/stall"
)

// A real session enters its loops thousands of times before the hold that
// stalls: the stall's frame must be the line of the blocking call in that
// hold, not the line where it left, however the session enters and leaves.

// churn makes n short holds of loop and mu on behalf of ctx's session, in
// every style a worker uses: leave called, leave deferred, Unlock called,
// Unlock deferred.
func churn(ctx context.Context, loop *stall.Loop, mu *stall.Mutex, n int) {
	for i := range n {
		switch i % 4 {
		case 0:
			leave := loop.Enter(ctx)
			runtime.Gosched()
			leave()
		case 1:
			func() {
				defer loop.Enter(ctx)()
				runtime.Gosched()
			}()
		case 2:
			mu.LockCtx(ctx)
			runtime.Gosched()
			mu.Unlock()
		case 3:
			func() {
				mu.LockCtx(ctx)
				defer mu.Unlock()
				runtime.Gosched()
			}()
		}
	}
}

// The stalling holds, one per style. Each blocks on release, records the
// line of its blocking call with here, and leaves as its style says.
func stallLoopCalled(ctx context.Context, loop *stall.Loop, _ *stall.Mutex, line *int, release <-chan struct{}) {
	leave := loop.Enter(ctx)
	<-here(line, release)
	leave()
}

func stallLoopDeferred(ctx context.Context, loop *stall.Loop, _ *stall.Mutex, line *int, release <-chan struct{}) {
	defer loop.Enter(ctx)()
	<-here(line, release)
}

func stallMutexCalled(ctx context.Context, _ *stall.Loop, mu *stall.Mutex, line *int, release <-chan struct{}) {
	mu.LockCtx(ctx)
	<-here(line, release)
	mu.Unlock()
}

func stallMutexDeferred(ctx context.Context, _ *stall.Loop, mu *stall.Mutex, line *int, release <-chan struct{}) {
	mu.LockCtx(ctx)
	defer mu.Unlock()
	<-here(line, release)
}

func stallLoopSleeps(ctx context.Context, loop *stall.Loop, _ *stall.Mutex, line *int, release <-chan struct{}) {
	defer loop.Enter(ctx)()
	for {
		select {
		case <-release:
			return
		default:
			time.Sleep(here(line, 5*time.Millisecond))
		}
	}
}

// A stallCase is one way of stalling, and what its report must say.
type stallCase struct {
	name   string
	fn     string // the function the frame must name
	source string
	stall  func(context.Context, *stall.Loop, *stall.Mutex, *int, <-chan struct{})
	file   string // the file of the blocking line; "" for reuse_test.go
}

// platformStallCases are cases that only build on some systems.
var platformStallCases []stallCase

func TestFrameIsTheBlockingLineAfterThousandsOfHolds(t *testing.T) {
	cases := append([]stallCase{
		{"loop, leave called", "stallLoopCalled", "mixer", stallLoopCalled, ""},
		{"loop, leave deferred", "stallLoopDeferred", "mixer", stallLoopDeferred, ""},
		{"mutex, Unlock called", "stallMutexCalled", "rooms", stallMutexCalled, ""},
		{"mutex, Unlock deferred", "stallMutexDeferred", "rooms", stallMutexDeferred, ""},
		{"loop, sleeping in a loop", "stallLoopSleeps", "mixer", stallLoopSleeps, ""},
	}, platformStallCases...)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newReports()
			w := stall.New(stall.Options{Threshold: 30 * time.Millisecond, Report: r.report})
			defer w.Close()
			loop, mu := w.Loop("mixer"), w.Mutex("rooms")

			// Many sessions, thousands of holds each, all at once.
			const sessions, holds = 12, 2000
			var wg sync.WaitGroup
			for i := range sessions {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-inSession(sessionCtx(fmt.Sprintf("job-%02d", i), "voice"), func(ctx context.Context) {
						churn(ctx, loop, mu, holds)
					})
				}()
			}
			wg.Wait()

			// Then one of them stalls, holding on until a report has
			// caught its stack (or long enough that one must have).
			var line int
			release := make(chan struct{})
			done := inSession(sessionCtx("job-07", "voice"), func(ctx context.Context) {
				churn(ctx, loop, mu, 3) // and a few more just before
				tc.stall(ctx, loop, mu, &line, release)
			})
			deadline := time.After(5 * time.Second)
		wait:
			for {
				select {
				case s := <-r.ch:
					if s.Ongoing && s.Session == "job-07" && s.FrameFrom == stall.FrameHolder {
						break wait
					}
				case <-deadline:
					break wait
				}
			}
			close(release)
			<-done
			last := r.next(t, func(s stall.Stall) bool { return !s.Ongoing && s.Session == "job-07" })

			file := cmp.Or(tc.file, "reuse_test.go")
			want := fmt.Sprintf("stall/%s:%d stall_test.%s", file, line, tc.fn)
			if last.Frame != want || last.FrameFrom != stall.FrameHolder {
				t.Errorf("final report frame %q (from %q), want %q from the holder's stack", last.Frame, last.FrameFrom, want)
			}
			if last.Source != tc.source || last.Session != "job-07" {
				t.Errorf("final report %v, want session job-07 on %s", last, tc.source)
			}
			if !strings.Contains(strings.Join(last.Stack, "\n"), want) {
				t.Errorf("stack %q does not hold %q", last.Stack, want)
			}
		})
	}
}
