package introspect_test

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openrtc-go/introspect"
	"github.com/openrtc-go/introspect/events"
	"github.com/openrtc-go/introspect/internal/frames"
)

// leakAt is where leakOne parks, as runtime.Caller saw it.
var (
	leakMu   sync.Mutex
	leakFile string
	leakLine int
)

// leakOne parks on stuck forever (until the test closes it): a leak.
func leakOne(stuck <-chan struct{}) {
	<-parkHere(stuck)
}

// parkHere records the line of its caller's call site and returns ch.
func parkHere(ch <-chan struct{}) <-chan struct{} {
	_, file, line, _ := runtime.Caller(1)
	leakMu.Lock()
	leakFile, leakLine = file, line
	leakMu.Unlock()
	return ch
}

// A session that leaks goroutines has them recorded where they are parked:
// the line of the receive they wait on, taken by runtime.Caller there.
func TestLeakStacksNameTheParkingLine(t *testing.T) {
	in, logs, _ := start(t, introspect.Options{DisableCPU: true, Socket: introspect.SocketOff})
	_, endQuiet := in.Begin(context.Background(), "job-quiet")
	defer endQuiet(nil)
	// Begin labels the calling goroutine too: what it starts is the
	// session's.
	_, end := in.Begin(context.Background(), "job-leaky")
	defer end(nil)

	stuck := make(chan struct{})
	defer close(stuck)
	for range 40 { // a few more every 50ms
		for range 5 {
			go leakOne(stuck)
		}
		time.Sleep(50 * time.Millisecond)
	}
	var got []events.GoroutineGroup
	deadline := time.Now().Add(15 * time.Second)
	for got == nil && time.Now().Before(deadline) {
		for _, d := range logs.records(t) {
			if s, ok := d.Event.(events.Sample); ok && len(s.GoroutineStacks["job-leaky"]) > 0 {
				got = s.GoroutineStacks["job-leaky"]
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(got) == 0 {
		t.Fatal("no goroutine stacks recorded for the leaking session")
	}
	leakMu.Lock()
	want := fmt.Sprintf("%s:%d ", frames.ShortFile(leakFile), leakLine)
	leakMu.Unlock()
	top := got[0]
	if !strings.HasPrefix(top.Frame, want) || top.Wait != "chan receive" || top.Count < 10 {
		t.Errorf("top group %+v, want many goroutines at %s waiting on chan receive (all %+v)", top, want, got)
	}
	for _, d := range logs.records(t) {
		if s, ok := d.Event.(events.Sample); ok && s.GoroutineStacks["job-quiet"] != nil {
			t.Errorf("stacks recorded for a session without goroutines: %+v", s.GoroutineStacks)
		}
	}
}
