package introspect_test

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/openrtc-go/introspect"
	"github.com/openrtc-go/introspect/events"
)

// kinds records what an observer is told, as a metrics exporter would.
type kinds struct {
	mu    sync.Mutex
	seen  []string
	times []time.Time
}

func (k *kinds) Observe(d events.Decoded) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.seen = append(k.seen, d.Kind)
	k.times = append(k.times, d.Time)
}

// Observers are told every event, typed, in the recording's order: the
// worker's start, sessions, a stall while it lasts and when it ends,
// samples, the clean stop.
func TestObserversSeeEveryEventInOrder(t *testing.T) {
	k := &kinds{}
	in, err := introspect.Start(introspect.Options{
		Worker: "obs", Socket: introspect.SocketOff, SampleInterval: 20 * time.Millisecond,
		Record: t.TempDir(), Observers: []introspect.Observer{k}, Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	mixer := in.Loop("mixer")
	ctx, end := in.Begin(context.Background(), "call-1")
	leave := mixer.Enter(ctx)
	time.Sleep(200 * time.Millisecond)
	leave()
	end(nil)
	if err := in.Close(); err != nil {
		t.Fatal(err)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	count := map[string]int{}
	for i, kind := range k.seen {
		count[kind]++
		if i > 0 && k.times[i].Before(k.times[i-1]) {
			t.Errorf("event %d (%s) is earlier than the one before", i, kind)
		}
	}
	if k.seen[0] != events.KindWorkerStart || k.seen[len(k.seen)-1] != events.KindWorkerStop {
		t.Errorf("first %s, last %s; want worker.start … worker.stop", k.seen[0], k.seen[len(k.seen)-1])
	}
	for _, kind := range []string{events.KindSessionStart, events.KindSessionEnd, events.KindSlowSession, events.KindSample} {
		if count[kind] == 0 {
			t.Errorf("no %s told to the observer: %v", kind, count)
		}
	}
}
