//go:build linux

package truth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	introspect "github.com/openrtc-go/introspect"
)

// Source names of what the sessions share.
const (
	SourceMixer = "mixer"
	SourceMutex = "rooms"
)

// world is the worker: what its sessions share, and the truth kept beside it.
type world struct {
	logf func(string, ...any)
	cfg  Config
	in   *introspect.Introspector
	base context.Context
	mon  *monitor
	blk  *blocker
	mix  *mixer
	mu   *introspect.Mutex

	stop  chan struct{} // closed at the end of the run
	rooms [64]uint64    // what the mutex guards

	tmu   sync.Mutex
	truth Truth

	leaked atomic.Int64
	never  chan struct{} // where the leaked goroutines park
	https  atomic.Int64
	plans  []plan
}

// plan is a stall to inject.
type plan struct {
	at         time.Time
	session    string
	source     string
	kind       string
	dur        time.Duration
	deferLeave bool
	http       bool
}

// Run runs the scenario cfg describes, with the real introspector recording
// to cfg.Dir, and returns what really happened. It takes cfg.Duration and a
// few seconds more.
func Run(cfg Config) (*Truth, error) {
	logf := cfg.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, err
	}
	in, err := introspect.Start(introspect.Options{
		Worker:         "truth",
		Record:         cfg.recording(),
		Socket:         introspect.SocketOff,
		Logger:         slog.New(slog.DiscardHandler),
		SampleInterval: cfg.SampleInterval,
	})
	if err != nil {
		return nil, err
	}
	blk, err := newBlocker()
	if err != nil {
		in.Close()
		return nil, err
	}
	defer blk.close()
	w := &world{
		logf: logf,
		cfg:  cfg, in: in, base: context.Background(), mon: newMonitor(), blk: blk,
		mix: newMixer(in.Loop(SourceMixer)), mu: in.Mutex(SourceMutex),
		stop: make(chan struct{}), never: make(chan struct{}),
	}
	defer close(w.never)
	w.truth.Recording = cfg.recording()
	w.truth.Threshold = 50 * time.Millisecond
	w.truth.Culprits = map[string]string{}
	go w.mix.run()
	defer close(w.mix.jobs)

	monStop, monDone := make(chan struct{}), make(chan struct{})
	go w.mon.run(50*time.Millisecond, monStop, monDone)
	procStart := processCPU()

	srv, addr, err := w.serveHTTP()
	if err != nil {
		in.Close()
		return nil, err
	}
	defer srv.Close()

	clk := calibrate()
	start := time.Now()
	w.truth.Start = start
	w.plan(start)
	logf("truth: %d sessions for %s, %d stalls planned", cfg.Sessions, cfg.Duration, len(w.plans))

	var wg sync.WaitGroup
	inboxes := map[string]chan plan{}
	for i := range cfg.Sessions {
		id := fmt.Sprintf("call-%03d", i)
		inbox := make(chan plan, 4)
		inboxes[id] = inbox
		wg.Go(func() { w.ordinary(id, inbox) })
	}
	w.truth.Ordinary = w.innocents()
	wg.Go(func() { w.hogs(start) })
	wg.Go(func() { w.load(start) })
	wg.Go(func() { w.pooled(start) })
	wg.Go(func() { w.dispatcher(start) })
	wg.Go(func() { w.leaker(start) })
	wg.Go(func() { w.codec(start, clk) })
	wg.Go(func() { w.httpClient(addr) })
	wg.Go(func() { w.injector(addr, inboxes) })
	wg.Go(func() { w.watchLive() })

	time.Sleep(time.Until(start.Add(cfg.Duration)))
	close(w.stop)
	wg.Wait()
	w.truth.End = time.Now()
	// Let the windows that hold the last work close before stopping.
	time.Sleep(2*w.sampleInterval() + 200*time.Millisecond)
	if err := in.Close(); err != nil {
		return nil, err
	}
	close(monStop)
	<-monDone

	w.tmu.Lock()
	defer w.tmu.Unlock()
	t := w.truth
	t.ProcessCPU = processCPU() - procStart
	t.CPU = w.mon.total()
	t.Series = Series(w.mon.points)
	t.HTTPSessions = int(w.https.Load())
	t.Leak.Count = int(w.leaked.Load())
	sort.Slice(t.Injected, func(i, j int) bool { return t.Injected[i].Start.Before(t.Injected[j].Start) })
	t.Pool.Waiting = t.CPU[t.Pool.Session] - t.Pool.Own - t.Pool.Job
	t.Dispatcher.Own = t.CPU[DispatcherOwner]
	logf("truth: ran %s, process CPU %.1fs, %d stalls injected, %d scheduler stalls, %d leaked",
		t.End.Sub(t.Start).Round(time.Millisecond), t.ProcessCPU.Seconds(), len(t.Injected), len(t.Spins), t.Leak.Count)
	return &t, nil
}

func (w *world) sampleInterval() time.Duration {
	if w.cfg.SampleInterval > 0 {
		return w.cfg.SampleInterval
	}
	return time.Second
}

func (w *world) culprit(id, why string) {
	w.tmu.Lock()
	defer w.tmu.Unlock()
	if w.truth.Culprits[id] == "" {
		w.truth.Culprits[id] = why
	} else {
		w.truth.Culprits[id] += "; " + why
	}
}

// innocents lists the ordinary sessions no stall is planned for.
func (w *world) innocents() []string {
	planned := map[string]bool{}
	for _, p := range w.plans {
		planned[p.session] = true
	}
	var out []string
	for i := range w.cfg.Sessions {
		if id := fmt.Sprintf("call-%03d", i); !planned[id] {
			out = append(out, id)
		}
	}
	return out
}

// plan places the injected stalls: evenly through the middle of the run,
// away from the scheduler stalls, kinds and sources taking turns.
func (w *world) plan(start time.Time) {
	n := w.cfg.Stalls
	spins := w.spinTimes(start)
	for i := range n {
		f := 0.12 + 0.76*float64(i)/float64(max(n-1, 1))
		at := w.cfg.at(start, f)
		for _, s := range spins {
			if d := at.Sub(s); d > -700*time.Millisecond && d < 1200*time.Millisecond {
				at = s.Add(1200 * time.Millisecond)
			}
		}
		dur := w.cfg.StallMin
		if n > 1 {
			dur += time.Duration(float64(w.cfg.StallMax-w.cfg.StallMin) * float64(i) / float64(n-1))
		}
		p := plan{
			at:         at,
			session:    fmt.Sprintf("call-%03d", (i*37+5)%w.cfg.Sessions),
			source:     []string{SourceMixer, SourceMutex}[i%2],
			kind:       kinds[(i/2)%len(kinds)],
			dur:        dur,
			deferLeave: (i/4)%2 == 1,
		}
		if i == n/2 {
			p.http, p.session = true, fmt.Sprintf("http-stall-%d", i)
		}
		w.plans = append(w.plans, p)
	}
}

// spinTimes places the scheduler stalls.
func (w *world) spinTimes(start time.Time) []time.Time {
	var out []time.Time
	for i := range w.cfg.SchedStalls {
		f := 0.25 + 0.55*float64(i)/float64(max(len(w.cfg.SchedStalls)-1, 1))
		out = append(out, w.cfg.at(start, f))
	}
	return out
}

// injector sends each planned stall to its session when its time comes.
func (w *world) injector(addr string, inboxes map[string]chan plan) {
	for k, p := range w.plans {
		select {
		case <-w.stop:
			return
		case <-time.After(time.Until(p.at)):
		}
		why := fmt.Sprintf("holds %s while blocked (%s)", p.source, p.kind)
		w.culprit(p.session, why)
		if p.http {
			go func() {
				resp, err := http.Get(fmt.Sprintf("http://%s/call/%s?inject=%d", addr, p.session, k))
				if err == nil {
					resp.Body.Close()
				}
			}()
			continue
		}
		inboxes[p.session] <- p
	}
}

// inject performs a planned stall on behalf of the session of ctx.
func (w *world) inject(ctx context.Context, p plan) {
	block, err := w.blk.prepare(p.kind, p.dur)
	if err != nil {
		return
	}
	held := func() {
		site, s, e := block()
		w.tmu.Lock()
		w.truth.Injected = append(w.truth.Injected, Injected{
			Session: p.session, Source: p.source, Kind: p.kind, Site: site,
			DeferLeave: p.deferLeave, HTTP: p.http, Start: s, End: e,
		})
		w.tmu.Unlock()
	}
	if p.source == SourceMixer {
		w.mix.do(ctx, p.deferLeave, held)
	} else {
		w.locked(ctx, p.deferLeave, held)
	}
}

// ordinary is a well-behaved session: it works on the mixer and the mutex
// every cfg.Every, holding each for microseconds, until the end.
func (w *world) ordinary(id string, inbox chan plan) {
	ctx, end := w.in.Begin(w.base, id, introspect.Agent("voice"), introspect.Tenant(fmt.Sprintf("t%d", len(id)%3)))
	defer end(nil)
	w.sessionLoop(ctx, inbox, w.stop)
}

func (w *world) sessionLoop(ctx context.Context, inbox chan plan, until <-chan struct{}) {
	tk := time.NewTicker(w.cfg.Every)
	defer tk.Stop()
	for i := 0; ; i++ {
		select {
		case <-until:
			return
		case p := <-inbox:
			w.inject(ctx, p)
		case <-tk.C:
			w.work(ctx, i)
		}
	}
}

// work is one frame of a session: mix it on the shared mixer, then update
// the shared rooms under the mutex. leave and Unlock are called directly on
// one frame and deferred on the next.
func (w *world) work(ctx context.Context, i int) {
	w.mix.do(ctx, i%2 == 0, mixFrame)
	w.locked(ctx, i%2 == 1, func() { w.rooms[i%len(w.rooms)]++ })
}

func (w *world) locked(ctx context.Context, deferUnlock bool, fn func()) {
	if deferUnlock {
		w.mu.LockCtx(ctx)
		defer w.mu.Unlock()
		fn()
		return
	}
	w.mu.LockCtx(ctx)
	fn()
	w.mu.Unlock()
}

var mixSink atomic.Uint64

// mixFrame mixes 10 ms of 48 kHz audio: a few microseconds of work.
func mixFrame() {
	var acc uint64
	for i := range 480 {
		acc = acc*31 + uint64(i)
	}
	mixSink.Add(acc)
}

// The mixer is one goroutine that runs each session's job in turn, inside
// the watched loop: the realistic shape of a shared loop, where one slow job
// makes every session behind it wait.
type mixer struct {
	loop *introspect.Loop
	jobs chan mixJob
}

type mixJob struct {
	ctx        context.Context
	deferLeave bool
	fn         func()
	done       chan struct{}
}

func newMixer(l *introspect.Loop) *mixer { return &mixer{loop: l, jobs: make(chan mixJob, 64)} }

func (m *mixer) run() {
	for j := range m.jobs {
		if j.deferLeave {
			m.deferred(j)
		} else {
			leave := m.loop.Enter(j.ctx)
			j.fn()
			leave()
		}
		close(j.done)
	}
}

func (m *mixer) deferred(j mixJob) {
	defer m.loop.Enter(j.ctx)()
	j.fn()
}

func (m *mixer) do(ctx context.Context, deferLeave bool, fn func()) {
	done := make(chan struct{})
	m.jobs <- mixJob{ctx: ctx, deferLeave: deferLeave, fn: fn, done: done}
	<-done
}

// serveHTTP serves /call/{id} behind Middleware: each request is a session
// that works a few frames, or performs the stall ?inject= names.
func (w *world) serveHTTP() (*http.Server, string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", err
	}
	mux := http.NewServeMux()
	h := http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		w.https.Add(1)
		ctx := r.Context()
		if k := r.URL.Query().Get("inject"); k != "" {
			var i int
			fmt.Sscan(k, &i)
			if i >= 0 && i < len(w.plans) {
				w.inject(ctx, w.plans[i])
			}
			return
		}
		for i := range 4 {
			w.work(ctx, i)
		}
	})
	mux.Handle("/call/{id}", w.in.Middleware(func(r *http.Request) string { return r.PathValue("id") }, introspect.Agent("http"))(h))
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	return srv, ln.Addr().String(), nil
}

func (w *world) httpClient(addr string) {
	tk := time.NewTicker(w.cfg.HTTPEvery)
	defer tk.Stop()
	for i := 0; ; i++ {
		select {
		case <-w.stop:
			return
		case <-tk.C:
		}
		resp, err := http.Get(fmt.Sprintf("http://%s/call/http-%d", addr, i))
		if err == nil {
			resp.Body.Close()
		}
	}
}

// watchLive reads the live view every sample interval, as the live socket
// would serve it, beside RSS from /proc.
func (w *world) watchLive() {
	tk := time.NewTicker(w.sampleInterval())
	defer tk.Stop()
	for {
		select {
		case <-w.stop:
			return
		case <-tk.C:
		}
		v := w.in.View()
		proc := rssBytes()
		c := LiveCheck{At: v.Time, HeaderBytes: v.Worker.RSSBytes, ProcBytes: proc}
		for _, r := range v.Sessions {
			if r.Status == "ended" || r.Status == "errored" {
				continue
			}
			c.Rows++
			c.SumBytes += float64(r.MemBytes)
		}
		w.tmu.Lock()
		w.truth.Live = append(w.truth.Live, c)
		w.tmu.Unlock()
	}
}

var errStopped = errors.New("stopped")

// sleepUntil waits until t or the end of the run.
func (w *world) sleepUntil(t time.Time) error {
	select {
	case <-w.stop:
		return errStopped
	case <-time.After(time.Until(t)):
		return nil
	}
}

func procs() int { return runtime.GOMAXPROCS(0) }
