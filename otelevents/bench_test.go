package otelevents_test

import (
	"context"
	"testing"
	"time"

	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/openrtc-go/introspect/events"
	"github.com/openrtc-go/introspect/otelevents"
)

// discard is an exporter that drops what it is given: the benchmark
// measures the worker's side (bridge, record conversion, batching), not
// the network.
type discard struct{}

func (discard) Export(context.Context, []sdklog.Record) error { return nil }
func (discard) Shutdown(context.Context) error                { return nil }
func (discard) ForceFlush(context.Context) error              { return nil }

// BenchmarkHandleStall is one slow-session record through the bridge into
// the SDK's batch processor.
func BenchmarkHandleStall(b *testing.B) {
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(sdklog.NewBatchProcessor(discard{})))
	defer lp.Shutdown(context.Background())
	h := otelevents.Handler(lp, nil)
	r := events.Record(time.Now(), events.SlowSession{StallID: 7, SessionID: "call-blocker", Agent: "voice", Source: "mixer",
		Blocked: 400 * time.Millisecond, Confidence: 1, Frame: "workload/culprits.go:32 workload.fetchVoiceProfileSync",
		Stack: []string{"a.go:1 f", "b.go:2 g", "c.go:3 h"}})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		_ = h.Handle(ctx, r)
	}
}

// BenchmarkDropSample is a DEBUG sample refused before the bridge.
func BenchmarkDropSample(b *testing.B) {
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(sdklog.NewBatchProcessor(discard{})))
	defer lp.Shutdown(context.Background())
	h := otelevents.Handler(lp, nil)
	ctx := context.Background()
	for b.Loop() {
		if h.Enabled(ctx, events.Sample{}.Level()) {
			b.Fatal("a DEBUG sample would cross the bridge")
		}
	}
}
