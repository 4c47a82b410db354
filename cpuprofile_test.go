package introspect_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	httppprof "net/http/pprof"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/pprof/profile"

	"github.com/openrtc-go/introspect"
	"github.com/openrtc-go/introspect/events"
	"github.com/openrtc-go/introspect/fold"
	"github.com/openrtc-go/introspect/live"
	"github.com/openrtc-go/introspect/recorder"
)

// burnSession runs a session that burns CPU (entering a watched loop now and
// then, so its hold label is on some samples) until stop is closed.
func burnSession(t *testing.T, in *introspect.Introspector, id string, stop <-chan struct{}, wg *sync.WaitGroup) {
	t.Helper()
	loop := in.Loop("mixer")
	wg.Add(1)
	go func() {
		defer wg.Done()
		ctx, end := in.Begin(context.Background(), id, introspect.Agent("voice"), introspect.Tenant("acme"))
		defer end(nil)
		x := uint64(1)
		for {
			select {
			case <-stop:
				sinkU64(x)
				return
			default:
			}
			leave := loop.Enter(ctx)
			for i := 0; i < 200000; i++ {
				x = x*6364136223846793005 + 1442695040888963407
			}
			leave()
		}
	}()
}

var sinkMu sync.Mutex
var sinkV uint64

func sinkU64(x uint64) { sinkMu.Lock(); sinkV += x; sinkMu.Unlock() }

func startQuiet(t *testing.T, o introspect.Options) *introspect.Introspector {
	t.Helper()
	o.Socket = introspect.SocketOff
	o.Logger = slog.New(slog.DiscardHandler)
	if o.CPUWindow == 0 {
		o.CPUWindow = 200 * time.Millisecond
	}
	if o.SampleInterval == 0 {
		o.SampleInterval = 200 * time.Millisecond
	}
	in, err := introspect.Start(o)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

// labelValues lists the values of key over a profile's samples.
func labelValues(p *profile.Profile, key string) map[string]int64 {
	m := map[string]int64{}
	for _, s := range p.Sample {
		for _, v := range s.Label[key] {
			m[v] += s.Value[0]
		}
	}
	return m
}

// CPUProfile gives the application the profile of the next d from
// introspection's windows, while introspection holds the CPU profiler (a
// plain StartCPUProfile fails meanwhile): a valid CPU profile, labelled by
// session, without introspection's own hold label.
func TestCPUProfileWhileIntrospecting(t *testing.T) {
	in := startQuiet(t, introspect.Options{})
	defer in.Close()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	burnSession(t, in, "job-hot", stop, &wg)
	defer func() { close(stop); wg.Wait() }()

	var buf bytes.Buffer
	began := time.Now()
	if err := in.CPUProfile(context.Background(), 800*time.Millisecond, &buf); err != nil {
		t.Fatal(err)
	}
	took := time.Since(began)
	p, err := profile.ParseData(buf.Bytes())
	if err != nil {
		t.Fatalf("the profile does not parse: %v", err)
	}
	if p.PeriodType == nil || p.PeriodType.Type != "cpu" {
		t.Fatalf("period type %v, want cpu", p.PeriodType)
	}
	if d := time.Duration(p.DurationNanos); d < 600*time.Millisecond {
		t.Errorf("profile covers %v, want about 800ms", d)
	}
	if took < 600*time.Millisecond {
		t.Errorf("CPUProfile returned after %v, before the 800ms asked for", took)
	}
	if got := labelValues(p, introspect.LabelSession); got["job-hot"] == 0 {
		t.Errorf("no samples labelled session=job-hot; sessions %v", got)
	}
	if got := labelValues(p, introspect.LabelAgent); got["voice"] == 0 {
		t.Errorf("no samples labelled agent=voice; agents %v", got)
	}
	if got := labelValues(p, "openrtc_hold"); len(got) > 0 {
		t.Errorf("introspection's own hold label leaked into the profile: %v", got)
	}
}

// HideSessionLabel drops the session id from the profiles served, keeping
// agent and tenant.
func TestCPUProfileHidesSession(t *testing.T) {
	in := startQuiet(t, introspect.Options{HideSessionLabel: true})
	defer in.Close()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	burnSession(t, in, "job-hidden", stop, &wg)
	defer func() { close(stop); wg.Wait() }()

	var buf bytes.Buffer
	if err := in.CPUProfile(context.Background(), 500*time.Millisecond, &buf); err != nil {
		t.Fatal(err)
	}
	p, err := profile.ParseData(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if got := labelValues(p, introspect.LabelSession); len(got) > 0 {
		t.Errorf("session label served with HideSessionLabel: %v", got)
	}
	if got := labelValues(p, introspect.LabelTenant); got["acme"] == 0 {
		t.Errorf("tenant label lost: %v", labelValues(p, introspect.LabelTenant))
	}
}

// go tool pprof, as a user or a pull-mode scraper would run it, against the
// handler mounted in place of net/http/pprof's: a valid profile with the
// session's label, while introspection keeps sampling.
func TestGoToolPprofAgainstHandler(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go tool pprof")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go binary: %v", err)
	}
	in := startQuiet(t, introspect.Options{})
	defer in.Close()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	burnSession(t, in, "job-pprof", stop, &wg)
	defer func() { close(stop); wg.Wait() }()

	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", httppprof.Index)
	mux.Handle("/debug/pprof/profile", in.CPUProfileHandler())
	srv := httptest.NewServer(mux)
	defer srv.Close()

	out, err := exec.Command(goBin, "tool", "pprof", "-tags", "-seconds", "1", srv.URL+"/debug/pprof/profile").CombinedOutput()
	if err != nil {
		t.Fatalf("go tool pprof: %v\n%s", err, out)
	}
	text := string(out)
	for _, want := range []string{"session", "job-pprof", "agent", "voice"} {
		if !strings.Contains(text, want) {
			t.Errorf("go tool pprof -tags output lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "openrtc_hold") {
		t.Errorf("hold label in the served profile:\n%s", text)
	}

	// Bad seconds fall back to 30, as net/http/pprof's do; a server's
	// WriteTimeout below the duration is refused with 400.
	short := httptest.NewUnstartedServer(mux)
	short.Config.WriteTimeout = 500 * time.Millisecond
	short.Start()
	defer short.Close()
	resp, err := http.Get(short.URL + "/debug/pprof/profile?seconds=2")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("seconds over the WriteTimeout: status %d, want 400", resp.StatusCode)
	}
}

// A profiler declared as the owner: introspection never takes the CPU
// profiler, and the CPU column says who has it rather than going blank.
func TestDeclaredCPUOwner(t *testing.T) {
	in := startQuiet(t, introspect.Options{CPUOwner: "pyroscope-go"})
	defer in.Close()
	// The profiler is free for the owner: introspection does not hold it.
	var own bytes.Buffer
	if err := startStop(&own, 300*time.Millisecond); err != nil {
		t.Fatalf("the declared owner could not start its profile: %v", err)
	}
	h := waitHeader(t, in, func(h headerLike) bool { return h.CPUOwner != "" })
	if h.CPUOwner != "pyroscope-go" || h.CPUUnavailable == "" {
		t.Errorf("header cpu_owner %q, cpu_unavailable %q; want pyroscope-go and a reason", h.CPUOwner, h.CPUUnavailable)
	}
	if got := in.View().Worker.CPUStatus(); got != "cpu: owned by pyroscope-go" {
		t.Errorf("CPU status %q, want %q", got, "cpu: owned by pyroscope-go")
	}
}

// The owner is in the live snapshot and in the recording too, so that
// openrtc-replay says it live and after the fact.
func TestCPUOwnerInSnapshotAndRecording(t *testing.T) {
	rec := filepath.Join(t.TempDir(), "rec.zst")
	in, _, sock := start(t, introspect.Options{CPUOwner: "pyroscope-go", Record: rec, CPUWindow: 100 * time.Millisecond})
	waitHeader(t, in, func(h headerLike) bool { return h.CPUOwner != "" })
	raw, err := live.Fetch(context.Background(), sock)
	if err != nil {
		t.Fatal(err)
	}
	v, _, err := live.Decode(raw, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if v.Worker.CPUOwner != "pyroscope-go" {
		t.Errorf("snapshot cpu_owner %q, want pyroscope-go (%s)", v.Worker.CPUOwner, raw)
	}
	if err := in.Close(); err != nil {
		t.Fatal(err)
	}
	set, err := recorder.Open(rec)
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	st, err := fold.StateAt(set, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if rv := st.View(st.Now()); rv.Worker.CPUStatus() != "cpu: owned by pyroscope-go" {
		t.Errorf("replayed CPU status %q, want cpu: owned by pyroscope-go", rv.Worker.CPUStatus())
	}
}

// A profile someone else runs (here net/http/pprof's handler, as go tool
// pprof or a pull-mode scraper would hit it without our handler): the
// sampler finds who and the header names it.
func TestDetectedCPUOwner(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/profile", httppprof.Profile)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	got := make(chan error, 1)
	go func() {
		resp, err := http.Get(srv.URL + "/debug/pprof/profile?seconds=3")
		if err == nil {
			resp.Body.Close()
		}
		got <- err
	}()
	defer func() { <-got }()
	time.Sleep(300 * time.Millisecond) // net/http/pprof holds the profiler

	in := startQuiet(t, introspect.Options{})
	defer in.Close()
	h := waitHeader(t, in, func(h headerLike) bool { return h.CPUOwner != "" })
	if h.CPUOwner != "net/http/pprof" {
		t.Errorf("cpu_owner %q, want net/http/pprof (unavailable: %q)", h.CPUOwner, h.CPUUnavailable)
	}
}

type headerLike struct{ CPUOwner, CPUUnavailable string }

func waitHeader(t *testing.T, in *introspect.Introspector, ok func(headerLike) bool) headerLike {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		w := in.View().Worker
		h := headerLike{w.CPUOwner, w.CPUUnavailable}
		if ok(h) || time.Now().After(deadline) {
			return h
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// startStop takes a CPU profile of d with runtime/pprof, as another
// profiler would.
func startStop(w *bytes.Buffer, d time.Duration) error {
	if err := pprof.StartCPUProfile(w); err != nil {
		return err
	}
	time.Sleep(d)
	pprof.StopCPUProfile()
	return nil
}

// With another profiler declared the owner, HideSessionLabel keeps the
// session id off the session's goroutines (the owner's profiles never see
// it), keeps agent and tenant, and a stall on a watched loop still names its
// session.
func TestHideSessionLabelBesideOwner(t *testing.T) {
	in, logs, _ := start(t, introspect.Options{CPUOwner: "pyroscope-go", HideSessionLabel: true})
	ctx, end := in.Begin(context.Background(), "job-private", introspect.Agent("voice"), introspect.Tenant("acme"))
	defer end(nil)

	ready, release := make(chan struct{}), make(chan struct{})
	go func() { close(ready); <-release }() // a goroutine of the session
	<-ready
	var dump bytes.Buffer
	if err := pprof.Lookup("goroutine").WriteTo(&dump, 1); err != nil {
		t.Fatal(err)
	}
	close(release)
	if strings.Contains(dump.String(), `"session":"job-private"`) {
		t.Errorf("the session id is on its goroutines' labels:\n%s", dump.String())
	}
	if !strings.Contains(dump.String(), `"tenant":"acme"`) {
		t.Errorf("the tenant label is lost")
	}

	mixer := in.Loop("mixer")
	holdTheMixer(ctx, mixer, 200*time.Millisecond)
	final := waitFor(t, logs, func(e events.SlowSession) bool { return !e.Ongoing })
	if final.SessionID != "job-private" {
		t.Errorf("stall attributed to %q, want job-private", final.SessionID)
	}
}

// This test binary imports net/http/pprof, which registers its CPU profile
// handler on http.DefaultServeMux: Start says so on the console, with the
// handler to serve instead, unless another profiler is declared the owner.
func TestStartWarnsOfNetHTTPPprof(t *testing.T) {
	for _, o := range []introspect.Options{{}, {CPUOwner: "pyroscope-go"}} {
		var buf syncBuffer
		o.Socket = introspect.SocketOff
		o.Logger = slog.New(slog.NewTextHandler(&buf, nil))
		in, err := introspect.Start(o)
		if err != nil {
			t.Fatal(err)
		}
		in.Close()
		buf.mu.Lock()
		out := buf.buf.String()
		buf.mu.Unlock()
		warned := strings.Contains(out, "in.CPUProfileHandler()")
		if want := o.CPUOwner == ""; warned != want {
			t.Errorf("CPUOwner %q: warned %v, want %v:\n%s", o.CPUOwner, warned, want, out)
		}
	}
}
