package prom

import (
	"fmt"
	"io"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/openrtc-go/introspect/events"
)

// benchCollector is a collector of a worker with n live sessions over four
// agents, with stalls in its histogram.
func benchCollector(n int) (*Collector, events.Sample) {
	c := New(Options{})
	feed(c, worker())
	agents := []string{"voice", "chat", "recorder", "transcriber"}
	cpu := map[string]int64{}
	gor := map[string]int{}
	for i := range n {
		id := fmt.Sprintf("call-%05d", i)
		c.Observe(events.Decoded{Time: t0, Event: events.SessionStart{SessionID: id, Agent: agents[i%4]}})
		if i%10 == 0 { // a tenth of the sessions on CPU in a window
			cpu[id] = 3
		}
		if i%50 == 0 {
			gor[id] = 4
		}
	}
	for i := range 20 {
		c.Observe(events.Decoded{Time: t0, Event: events.SlowSession{StallID: uint64(i), SessionID: "call-00001", Source: "mixer", Blocked: time.Duration(i+1) * 60 * time.Millisecond}})
	}
	s := events.Sample{Goroutines: 3 * n, CPU: events.CPUWindow{Duration: time.Second, Period: 10 * time.Millisecond, Total: 400, Sessions: cpu}, GoroutinesBySession: gor}
	return c, s
}

// BenchmarkObserveSample is the collector's cost of one sample of a
// 1,000-session worker (one a second by default).
func BenchmarkObserveSample(b *testing.B) {
	c, s := benchCollector(1000)
	d := events.Decoded{Time: t0, Event: s}
	b.ReportAllocs()
	for b.Loop() {
		c.Observe(d)
	}
}

// BenchmarkObserveLifecycle is a session's start and end.
func BenchmarkObserveLifecycle(b *testing.B) {
	c, _ := benchCollector(1000)
	start := events.Decoded{Time: t0, Event: events.SessionStart{SessionID: "x", Agent: "voice"}}
	end := events.Decoded{Time: t0, Event: events.SessionEnd{SessionID: "x", Outcome: events.OutcomeOK}}
	b.ReportAllocs()
	for b.Loop() {
		c.Observe(start)
		c.Observe(end)
	}
}

// BenchmarkScrape is one OpenMetrics scrape of a 1,000-session worker.
func BenchmarkScrape(b *testing.B) {
	c, s := benchCollector(1000)
	c.Observe(events.Decoded{Time: t0, Event: s})
	h := c.Handler()
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest("GET", "/metrics", nil)
		req.Header.Set("Accept", "application/openmetrics-text;version=1.0.0")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		_, _ = io.Copy(io.Discard, w.Body)
	}
}
