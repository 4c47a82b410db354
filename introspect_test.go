package introspect_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/openrtc-go/introspect"
	"github.com/openrtc-go/introspect/events"
	"github.com/openrtc-go/introspect/fold"
	"github.com/openrtc-go/introspect/live"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// syncBuffer is a log sink safe for the introspector's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// records returns the decoded events logged so far.
func (b *syncBuffer) records(t *testing.T) []events.Decoded {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []events.Decoded
	for _, line := range bytes.Split(b.buf.Bytes(), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		d, err := events.Decode(line)
		if err != nil {
			t.Fatalf("console line %q: %v", line, err)
		}
		out = append(out, d)
	}
	return out
}

// start starts an introspector that logs everything as JSON to the returned
// buffer, samples fast, and serves its socket in a temporary directory.
func start(t *testing.T, o introspect.Options) (*introspect.Introspector, *syncBuffer, string) {
	t.Helper()
	logs := &syncBuffer{}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if o.SampleInterval == 0 {
		o.SampleInterval = 100 * time.Millisecond
	}
	if o.Worker == "" {
		o.Worker = "test"
	}
	// Unix socket paths are short; t.TempDir() may be too long.
	dir, err := os.MkdirTemp("", "oi")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "run", "w.sock")
	if o.Socket == "" {
		o.Socket = sock
	}
	in, err := introspect.Start(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close() })
	return in, logs, o.Socket
}

func TestSessionLifecycle(t *testing.T) {
	in, logs, _ := start(t, introspect.Options{DisableCPU: true})
	ctx := context.Background()

	sctx, end := in.Begin(ctx, "job-1", introspect.Agent("voice"), introspect.Tenant("acme"), introspect.Label("room", "r1"))
	if id, _ := pprof.Label(sctx, introspect.LabelSession); id != "job-1" {
		t.Fatalf("session label = %q", id)
	}
	_, endDup := in.Begin(ctx, "job-1") // a live id gets a suffix
	_, endAnon := in.Begin(ctx, "")     // an empty id gets a generated one
	end(nil)
	end(errors.New("second end is ignored"))
	endDup(context.Canceled)
	endAnon(errors.New("boom"))

	var starts, ends []string
	outcomes := map[string]string{}
	for _, d := range logs.records(t) {
		switch e := d.Event.(type) {
		case events.SessionStart:
			starts = append(starts, e.SessionID)
		case events.SessionEnd:
			ends = append(ends, e.SessionID)
			outcomes[e.SessionID] = e.Outcome
		}
	}
	if strings.Join(starts, ",") != "job-1,job-1~2,session-1" {
		t.Errorf("starts = %v", starts)
	}
	if len(ends) != 3 {
		t.Errorf("ends = %v, want one per session", ends)
	}
	want := map[string]string{"job-1": "ok", "job-1~2": "cancelled", "session-1": "error"}
	for id, o := range want {
		if outcomes[id] != o {
			t.Errorf("outcome of %s = %q, want %q", id, outcomes[id], o)
		}
	}
}

func TestDisabled(t *testing.T) {
	t.Setenv("OPENRTC_INTROSPECT", "off")
	logs := &syncBuffer{}
	in, err := introspect.Start(introspect.Options{Logger: slog.New(slog.NewJSONHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	sctx, end := in.Begin(ctx, "job-1")
	if sctx != ctx {
		t.Error("disabled Begin changed the context")
	}
	leave := in.Loop("mixer").Enter(sctx)
	leave()
	m := in.Mutex("state")
	m.LockCtx(sctx)
	m.Unlock()
	end(nil)
	if err := in.Close(); err != nil {
		t.Fatal(err)
	}
	if logs.buf.Len() != 0 {
		t.Errorf("disabled introspector logged: %s", logs.buf.String())
	}
	var nilIn *introspect.Introspector
	_, end = nilIn.Begin(ctx, "x")
	end(nil)
	nilIn.Loop("l").Enter(ctx)()
	if err := nilIn.Close(); err != nil {
		t.Fatal(err)
	}
}

// A hold of a named loop is reported while it goes on and when it ends,
// attributed to the session with the holding function's source line; the
// recording and the live socket say the same.
func TestStallEndToEnd(t *testing.T) {
	rec := filepath.Join(t.TempDir(), "rec.zst")
	in, logs, sock := start(t, introspect.Options{Record: rec, DisableCPU: true})
	ctx, end := in.Begin(context.Background(), "job-slow", introspect.Agent("voice"))
	defer end(nil)
	mixer := in.Loop("mixer")

	done := make(chan struct{})
	go func() {
		defer close(done)
		holdTheMixer(ctx, mixer, 300*time.Millisecond)
	}()
	// The ongoing report arrives before the hold ends.
	ongoing := waitFor(t, logs, func(e events.SlowSession) bool { return e.Ongoing })
	select {
	case <-done:
		t.Error("the ongoing report arrived only after the hold ended")
	default:
	}
	<-done
	final := waitFor(t, logs, func(e events.SlowSession) bool { return !e.Ongoing })
	if final.StallID != ongoing.StallID || final.SessionID != "job-slow" || final.Source != "mixer" || final.Agent != "voice" {
		t.Errorf("final report = %+v (ongoing %+v)", final, ongoing)
	}
	if final.Blocked < 300*time.Millisecond || final.Blocked > 3*time.Second {
		t.Errorf("blocked = %v, want about 300ms", final.Blocked)
	}
	if !strings.Contains(ongoing.Frame, "introspect_test.go") || !strings.Contains(ongoing.Frame, "holdTheMixer") {
		t.Errorf("frame = %q, want the holding function", ongoing.Frame)
	}

	raw, err := live.Fetch(context.Background(), sock)
	if err != nil {
		t.Fatal(err)
	}
	var v fold.View
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Sessions) != 1 || v.Sessions[0].Status != fold.StatusSlow || v.Sessions[0].Stalls != 1 {
		t.Errorf("live view = %+v", v.Sessions)
	}
}

func holdTheMixer(ctx context.Context, l *introspect.Loop, d time.Duration) {
	leave := l.Enter(ctx)
	defer leave()
	time.Sleep(d)
}

func waitFor(t *testing.T, logs *syncBuffer, match func(events.SlowSession) bool) events.SlowSession {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, d := range logs.records(t) {
			if e, ok := d.Event.(events.SlowSession); ok && e.Source != events.SourceScheduler && match(e) {
				return e
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("no matching slow-session event")
	return events.SlowSession{}
}

// Samples carry RSS and the live count, and shares in the live view sum
// back to the RSS of the latest sample.
func TestMemoryShares(t *testing.T) {
	in, logs, _ := start(t, introspect.Options{DisableCPU: true})
	var ends []introspect.EndFunc
	for _, id := range []string{"a", "b", "c"} {
		_, end := in.Begin(context.Background(), id)
		ends = append(ends, end)
	}
	defer func() {
		for _, end := range ends {
			end(nil)
		}
	}()
	var last events.Sample
	deadline := time.Now().Add(10 * time.Second)
	for last.Sessions != 3 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		for _, d := range logs.records(t) {
			if s, ok := d.Event.(events.Sample); ok {
				last = s
			}
		}
	}
	if last.Sessions != 3 || last.RSSBytes == 0 {
		t.Fatalf("latest sample = %+v", last)
	}
	v := in.View()
	var sum float64
	for _, r := range v.Sessions {
		sum += r.MemMB
	}
	rssMB := float64(v.Worker.RSSBytes) / (1 << 20)
	if d := sum - rssMB; d > 0.05 || d < -0.05 {
		t.Errorf("shares sum to %.2f MiB, RSS is %.2f MiB", sum, rssMB)
	}
}

func TestMiddleware(t *testing.T) {
	in, logs, _ := start(t, introspect.Options{DisableCPU: true})
	h := in.Middleware(func(r *http.Request) string { return r.URL.Query().Get("call") }, introspect.Agent("http"))(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if id, _ := pprof.Label(r.Context(), introspect.LabelSession); id != r.URL.Query().Get("call") {
				t.Errorf("handler runs under session %q", id)
			}
			if r.URL.Query().Get("fail") != "" {
				http.Error(w, "no", http.StatusBadGateway)
			}
		}))
	srv := httptest.NewServer(h)
	defer srv.Close()
	for _, q := range []string{"?call=c1", "?call=c2&fail=1"} {
		resp, err := http.Get(srv.URL + q)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	got := map[string]string{}
	for _, d := range logs.records(t) {
		if e, ok := d.Event.(events.SessionEnd); ok {
			got[e.SessionID] = e.Outcome
		}
	}
	if got["c1"] != "ok" || got["c2"] != "error" {
		t.Errorf("outcomes = %v", got)
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
