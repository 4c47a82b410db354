package workload

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/openrtc-go/introspect"
)

func TestConfigDefaults(t *testing.T) {
	got := Config{}.withDefaults()
	want := Config{Frame: 20 * time.Millisecond, FrameWork: 200 * time.Microsecond, Seed: 1,
		BlockFor: 300 * time.Millisecond, BlockEvery: 5 * time.Second, HogShare: 0.8,
		LeakEvery: 200 * time.Millisecond, LeakBytes: 256 << 10}
	if got != want {
		t.Errorf("Config{}.withDefaults() = %+v, want %+v", got, want)
	}
	set := Config{Frame: time.Second, FrameWork: time.Millisecond, Seed: 7, BlockFor: time.Second,
		BlockEvery: time.Minute, HogShare: 0.5, LeakEvery: time.Second, LeakBytes: 1}
	if got := set.withDefaults(); got != set {
		t.Errorf("withDefaults changed set fields: %+v, want %+v", got, set)
	}
}

// run runs the workload for d and returns its stats.
func run(t *testing.T, in *introspect.Introspector, cfg Config, d time.Duration) Stats {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	return Run(ctx, in, cfg)
}

// Without introspection the workload runs every kind of session, and leaves
// no goroutine behind, the leaked ones included.
func TestRunDisabled(t *testing.T) {
	defer goleak.VerifyNone(t)
	for _, loop := range []bool{false, true} {
		st := run(t, nil, Config{Sessions: 8, Churn: 0.5, MixerLoop: loop, Blocker: true, BlockFor: 30 * time.Millisecond,
			BlockEvery: 100 * time.Millisecond, CPUHog: true, Leaker: true, LeakEvery: 20 * time.Millisecond, LeakBytes: 4096},
			2500*time.Millisecond)
		if st.Frames == 0 {
			t.Errorf("mixer loop %v: no frames", loop)
		}
		// 8 sessions, 3 culprits, and churn replaced at least one a second.
		if st.Sessions < 8+3+2 {
			t.Errorf("mixer loop %v: %d sessions started, want at least 13", loop, st.Sessions)
		}
		if st.Leaked == 0 {
			t.Errorf("mixer loop %v: the leaker leaked nothing", loop)
		}
	}
}

func TestCulpritsAfter(t *testing.T) {
	st := run(t, nil, Config{Sessions: 3, CulpritsAfter: time.Hour, Blocker: true, CPUHog: true, Leaker: true},
		300*time.Millisecond)
	if st.Sessions != 3 || st.Leaked != 0 {
		t.Errorf("culprits started before CulpritsAfter: %+v", st)
	}
}

// recordSink keeps the slow-session records logged to it.
type recordSink struct {
	mu    sync.Mutex
	slows []map[string]string
}

func (s *recordSink) Enabled(context.Context, slog.Level) bool { return true }
func (s *recordSink) WithAttrs([]slog.Attr) slog.Handler       { return s }
func (s *recordSink) WithGroup(string) slog.Handler            { return s }
func (s *recordSink) Handle(_ context.Context, r slog.Record) error {
	if r.Message != "slow-session" {
		return nil
	}
	m := map[string]string{}
	r.Attrs(func(a slog.Attr) bool {
		m[a.Key] = a.Value.String()
		return true
	})
	s.mu.Lock()
	s.slows = append(s.slows, m)
	s.mu.Unlock()
	return nil
}

// The blocker's holds of the mixer loop are stalls that name it, the mixer
// and the line of the synchronous call; the leaker's goroutines are counted
// as its own; and everything stops with the workload and the introspector.
func TestCulpritsIntrospected(t *testing.T) {
	defer goleak.VerifyNone(t)
	sink := &recordSink{}
	in, err := introspect.Start(introspect.Options{Worker: "workload-test", Socket: introspect.SocketOff,
		Logger: slog.New(sink), SampleInterval: 250 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	var leaker *int
	done := make(chan Stats)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		done <- Run(ctx, in, Config{Sessions: 10, MixerLoop: true, Blocker: true, BlockFor: 250 * time.Millisecond,
			BlockEvery: 400 * time.Millisecond, Leaker: true, LeakEvery: 25 * time.Millisecond, LeakBytes: 4096})
	}()
	// Enough holds for several stalls, and for goroutine profiles to count
	// the leaked goroutines.
	time.Sleep(4 * time.Second)
	for _, row := range in.View().Sessions {
		if row.SessionID == LeakerID {
			leaker = row.Goroutines
		}
	}
	cancel()
	st := <-done
	if err := in.Close(); err != nil {
		t.Error(err)
	}

	sink.mu.Lock()
	defer sink.mu.Unlock()
	var blocker, framed int
	for _, s := range sink.slows {
		if s["session_id"] != BlockerID || s["source"] != "mixer" {
			continue
		}
		blocker++
		if strings.Contains(s["frame"], "fetchVoiceProfileSync") && strings.Contains(s["frame"], "culprits.go") {
			framed++
		}
	}
	if blocker == 0 {
		t.Fatalf("no slow-session record names %s on the mixer; got %v", BlockerID, sink.slows)
	}
	if framed == 0 {
		t.Errorf("no stall of %s points at culprits.go fetchVoiceProfileSync; got %v", BlockerID, sink.slows)
	}
	if leaker == nil || *leaker < 5 {
		t.Errorf("%s goroutines in the live view: %v, want at least 5 (%d leaked)", LeakerID, leaker, st.Leaked)
	}
}
