package introspect

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/pprof/profile"

	"github.com/openrtc-go/introspect/sampler"
	"github.com/openrtc-go/introspect/stall"
)

// The process has one CPU profiler, and while introspection samples CPU it
// holds it: runtime/pprof.StartCPUProfile fails for anyone else. So
// introspection shares what it collects. CPUProfile and CPUProfileHandler
// stand in for StartCPUProfile and net/http/pprof's /debug/pprof/profile:
// they gather introspection's own CPU windows, merge them and write one
// profile in the format runtime/pprof writes, with the goroutines' labels
// (session, agent, tenant) on its samples, without a second profile.

// DefaultProfileSeconds is the length of a profile served by
// [Introspector.CPUProfileHandler] without a valid seconds parameter, as
// net/http/pprof does.
const DefaultProfileSeconds = 30

// CPUProfile writes to w a CPU profile of the next d (gzipped protocol
// buffer, as runtime/pprof writes it), in place of the application's own
// pprof.StartCPUProfile, which fails while introspection samples CPU. It
// returns when the profile is written, or with ctx's error if ctx ends
// first.
//
// While introspection runs the CPU profiler, the profile is introspection's
// windows that end in the next d, merged: whole windows (Options.CPUWindow,
// 5s by default, 1s while the live view is watched), so it may begin up to
// a window before the call, and with Options.CPUEvery it holds only the
// sampled windows. Its samples carry the
// goroutines' labels, session among them unless Options.HideSessionLabel;
// introspection's own hold label is removed. When introspection does not
// run the CPU profiler (Options.DisableCPU, Options.CPUOwner, or a nil or
// disabled Introspector), CPUProfile takes the profile itself with
// runtime/pprof, which fails if another profile runs. It fails at once,
// naming the owner, when another profiler holds the CPU profiler.
func (in *Introspector) CPUProfile(ctx context.Context, d time.Duration, w io.Writer) error {
	if d <= 0 {
		return errors.New("introspect: CPUProfile: the duration must be positive")
	}
	if in == nil || in.off || in.sampler == nil || in.sampler.cpu == nil {
		return runtimeProfile(ctx, d, w)
	}
	p, err := collectProfile(ctx, in.sampler.cpu, d)
	if err != nil {
		return err
	}
	dropLabels(p, stall.HoldLabel)
	if in.opts.HideSessionLabel {
		dropLabels(p, LabelSession)
	}
	return p.Write(w)
}

// runtimeProfile is CPUProfile without introspection's windows: the plain
// runtime/pprof profile net/http/pprof would take.
func runtimeProfile(ctx context.Context, d time.Duration, w io.Writer) error {
	if err := pprof.StartCPUProfile(w); err != nil {
		return fmt.Errorf("introspect: CPUProfile: %w", err)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
	pprof.StopCPUProfile()
	return ctx.Err()
}

// collectProfile merges the windows of cpu that end within d from now.
func collectProfile(ctx context.Context, cpu *sampler.CPUSampler, d time.Duration) (*profile.Profile, error) {
	start := time.Now()
	var (
		mu          sync.Mutex
		profs       []*profile.Profile
		first, last time.Time
		closed      bool
		why         string
	)
	done := make(chan struct{})
	untap := cpu.Tap(func(p *profile.Profile, w sampler.CPUWindow) {
		mu.Lock()
		defer mu.Unlock()
		end := w.Start.Add(w.Duration)
		if closed || !end.After(start) {
			return
		}
		switch {
		case p != nil:
			profs = append(profs, p)
			if first.IsZero() {
				first = w.Start
			}
			last = end
		case w.Owner != "" && len(profs) == 0:
			// Another profiler has the CPU profiler: say so now, as
			// net/http/pprof would, rather than after d of nothing.
			why = "the CPU profiler is owned by " + w.Owner
			closed = true
			close(done)
			return
		case w.Unavailable != "":
			why = w.Unavailable
		}
		if !end.Before(start.Add(d)) {
			closed = true
			close(done)
		}
	})
	defer untap()
	select {
	case <-done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	mu.Lock()
	defer mu.Unlock()
	if len(profs) == 0 {
		if why == "" {
			why = "no CPU window completed"
		}
		return nil, fmt.Errorf("introspect: CPUProfile: %s", why)
	}
	p, err := profile.Merge(profs)
	if err != nil {
		return nil, fmt.Errorf("introspect: CPUProfile: merge windows: %w", err)
	}
	p.TimeNanos, p.DurationNanos = first.UnixNano(), int64(last.Sub(first))
	return p, nil
}

// dropLabels removes the string label key from every sample of p.
func dropLabels(p *profile.Profile, key string) {
	for _, s := range p.Sample {
		delete(s.Label, key)
	}
}

// CPUProfileHandler returns an http.Handler that serves CPU profiles as
// net/http/pprof's /debug/pprof/profile does (the seconds parameter, 30 by
// default; a gzipped profile for go tool pprof, Parca, Grafana Alloy or
// Pyroscope in pull mode), from introspection's own CPU windows, through
// [Introspector.CPUProfile]: mount it in place of net/http/pprof's profile
// handler, which fails while introspection holds the CPU profiler.
//
//	mux.HandleFunc("/debug/pprof/", pprof.Index)
//	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
//	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
//	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
//	mux.Handle("/debug/pprof/profile", in.CPUProfileHandler())
//
// (Importing net/http/pprof for its side effect registers its own handler on
// http.DefaultServeMux, where this one cannot replace it: use a mux of your
// own.) On a nil or disabled Introspector it profiles with runtime/pprof.
func (in *Introspector) CPUProfileHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		sec, err := strconv.ParseInt(r.FormValue("seconds"), 10, 64)
		if sec <= 0 || err != nil {
			sec = DefaultProfileSeconds
		}
		d := time.Duration(sec) * time.Second
		if srv, ok := r.Context().Value(http.ServerContextKey).(*http.Server); ok && srv.WriteTimeout > 0 && d > srv.WriteTimeout {
			profileError(w, http.StatusBadRequest, "profile duration exceeds server's WriteTimeout")
			return
		}
		var buf bytes.Buffer
		if err := in.CPUProfile(r.Context(), d, &buf); err != nil {
			profileError(w, http.StatusInternalServerError, "Could not enable CPU profiling: "+err.Error())
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Disposition", `attachment; filename="profile"`)
		_, _ = w.Write(buf.Bytes())
	})
}

// profileError answers as net/http/pprof does, with the reason in a header
// and the body.
func profileError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("X-Go-Pprof", "1")
	w.Header().Del("Content-Disposition")
	http.Error(w, msg, status)
}

// warnPprofHandler warns on the console, once at Start, when net/http/pprof
// is linked in and its /debug/pprof/profile is on http.DefaultServeMux
// while introspection is to hold the CPU profiler: a scraper or go tool
// pprof hitting it would get "cpu profiling already in use", and
// introspection cannot see that failed start to make room for it.
func (in *Introspector) warnPprofHandler() {
	if in.opts.DisableCPU || in.opts.CPUOwner != "" || !pprofOnDefaultMux() {
		return
	}
	// Importing net/http/pprof registers it whether or not the mux is
	// ever served (the demo serves a mux of its own), so the warning says
	// when it applies rather than that something is wrong.
	slog.New(in.console).Warn("introspect: net/http/pprof is linked in: if this process serves http.DefaultServeMux, its /debug/pprof/profile fails with \"cpu profiling already in use\" while introspection samples CPU; serve in.CPUProfileHandler() at that path on a mux of your own (README: Beside other profilers)")
}

// pprofOnDefaultMux reports whether http.DefaultServeMux routes net/http/pprof's
// CPU profile path to a handler of its own: importing net/http/pprof
// registers one there.
func pprofOnDefaultMux() bool {
	_, pattern := http.DefaultServeMux.Handler(&http.Request{Method: http.MethodGet, URL: &url.URL{Path: "/debug/pprof/profile"}})
	return strings.HasSuffix(pattern, "/debug/pprof/profile")
}
