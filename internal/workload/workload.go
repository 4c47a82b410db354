// Package workload is a synthetic dense worker: many sessions, each running a
// 20ms frame loop with a little CPU per frame and a short turn on a shared
// mixer, plus culprits of each kind the density-debugging runbook covers (a
// session that blocks the mixer with a synchronous call, a CPU-hot session, a
// session that leaks goroutines and memory). The demo worker
// (cmd/densitydemo) and the overhead benchmarks run it, so both exercise the
// public introspect API exactly as a user would.
//
// The mixer is a named [introspect.Loop]. By default each session mixes on
// its own goroutine, which keeps the overhead benchmark free of a serial
// bottleneck; with [Config.MixerLoop] the mixer is one goroutine that runs
// every session's mix in turn, a real event loop, so a session that holds it
// stalls every other session's frames, as in the incident the demo records.
package workload

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"time"

	"github.com/openrtc-go/introspect"
)

// Config describes the workload. The zero value runs nothing.
type Config struct {
	Sessions  int           // well-behaved sessions kept live at once
	Frame     time.Duration // frame period of each session; zero means 20ms
	FrameWork time.Duration // CPU each frame burns; zero means 200µs (a tenth of it on the mixer)
	// FrameHashes, when positive, replaces FrameWork by a fixed amount of
	// work: each frame hashes a 64-byte block FrameHashes times (SHA-256),
	// a tenth of them (at least one) on the mixer. The overhead
	// measurement uses it, because work measured in wall time (FrameWork)
	// costs more CPU when the machine is busy and the process's CPU per run
	// then swings by 30–50 % on a shared machine.
	FrameHashes int
	// Frames, when set, is incremented with every frame done, so a caller
	// can measure a stretch of the run (after a warm-up) rather than all of
	// it.
	Frames *atomic.Int64
	// LabelsOnly, when the introspector is nil, tags each session's
	// goroutine with the same pprof labels Begin would set
	// (pprof.WithLabels and SetGoroutineLabels), and nothing else: the
	// overhead measurement's "labels only" variant.
	LabelsOnly bool
	// Bunched starts every session's frame clock as soon as the session
	// starts, without the spread phase: the overhead measurement's
	// diagnostic of how much bunched timers change the scheduler's work.
	Bunched bool
	// Churn ends and replaces this fraction of sessions per second
	// (0.02 = 2%/s, at least one a second), so sessions start and end over
	// time.
	Churn float64
	Seed  uint64 // seeds ids, agents, tenants and churn; 0 means 1

	// MixerLoop runs the mixer as one shared goroutine that mixes each
	// session's frame in turn, while the session waits for the result.
	MixerLoop bool

	// Unwatched leaves the mixer unnamed to the introspector: sessions mix
	// inline and no hold is watched. The overhead benchmark compares it with
	// a watched mixer to tell what a watched hold costs from what the rest
	// of introspection costs.
	Unwatched bool

	// CulpritsAfter delays the culprits' start, so that a recording begins
	// with a healthy stretch to compare the incident with.
	CulpritsAfter time.Duration

	// Blocker adds the session BlockerID that, every BlockEvery, makes a
	// synchronous call of BlockFor on the mixer.
	Blocker    bool
	BlockFor   time.Duration // zero means 300ms
	BlockEvery time.Duration // zero means 5s
	// CPUHog adds the session HogID, which burns about HogShare of one
	// core.
	CPUHog   bool
	HogShare float64 // zero means 0.8
	// Leaker adds the session LeakerID, which every LeakEvery starts a
	// goroutine that never returns and keeps LeakBytes alive.
	Leaker    bool
	LeakEvery time.Duration // zero means 200ms
	LeakBytes int           // zero means 256 KiB
}

func (c Config) withDefaults() Config {
	if c.Frame <= 0 {
		c.Frame = 20 * time.Millisecond
	}
	if c.FrameWork <= 0 {
		c.FrameWork = 200 * time.Microsecond
	}
	if c.Seed == 0 {
		c.Seed = 1
	}
	if c.BlockFor <= 0 {
		c.BlockFor = 300 * time.Millisecond
	}
	if c.BlockEvery <= 0 {
		c.BlockEvery = 5 * time.Second
	}
	if c.HogShare <= 0 {
		c.HogShare = 0.8
	}
	if c.LeakEvery <= 0 {
		c.LeakEvery = 200 * time.Millisecond
	}
	if c.LeakBytes <= 0 {
		c.LeakBytes = 256 << 10
	}
	return c
}

// Culprit session ids, so tests and the runbook can name them.
const (
	BlockerID = "call-blocker"
	HogID     = "call-cpuhog"
	LeakerID  = "call-leaker"
)

// Stats counts what the workload did.
type Stats struct {
	Frames   int64 // frames processed by all sessions
	Sessions int64 // sessions started
	Leaked   int64 // goroutines the leaker started (and Run released at the end)
}

// Run runs the workload under in until ctx is done, and returns what it did.
// Every goroutine it started has returned when it returns, the leaked ones
// included. in may be nil or disabled: the workload then runs without
// introspection, the baseline of the overhead benchmark.
func Run(ctx context.Context, in *introspect.Introspector, cfg Config) Stats {
	cfg = cfg.withDefaults()
	w := &worker{
		in: in, cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, 2)),
		release: make(chan struct{}),
	}
	loop := in.Loop("mixer")
	if cfg.Unwatched {
		loop = nil // a nil Loop watches nothing
	}
	w.mixer = newMixer(loop, cfg.MixerLoop)
	var wg sync.WaitGroup
	if cfg.MixerLoop {
		wg.Add(1)
		go func() { defer wg.Done(); w.mixer.run(ctx) }()
	}
	startOne := func(id, agent, tenant string, body func(context.Context)) context.CancelFunc {
		sctx, cancel := context.WithCancel(ctx)
		wg.Add(1)
		w.started.Add(1)
		go func() {
			defer wg.Done()
			var end introspect.EndFunc
			if cfg.LabelsOnly && in == nil {
				sctx = pprof.WithLabels(sctx, pprof.Labels(introspect.LabelSession, id,
					introspect.LabelAgent, agent, introspect.LabelTenant, tenant))
				pprof.SetGoroutineLabels(sctx)
				end = func(error) {}
			} else {
				sctx, end = in.Begin(sctx, id, introspect.Agent(agent), introspect.Tenant(tenant))
			}
			body(sctx)
			err := context.Cause(sctx) // cancelled by churn
			if ctx.Err() != nil {
				err = nil // the worker is shutting down: a clean end
			}
			end(err)
		}()
		return cancel
	}
	cancels := make([]context.CancelFunc, 0, cfg.Sessions)
	for range cfg.Sessions {
		cancels = append(cancels, startOne(w.nextID(), w.agent(), w.tenant(), w.frameLoop))
	}
	culprits := func() {
		if cfg.Blocker {
			startOne(BlockerID, "voice", "acme", w.blocker)
		}
		if cfg.CPUHog {
			startOne(HogID, "transcriber", "globex", w.hog)
		}
		if cfg.Leaker {
			startOne(LeakerID, "recorder", "initech", w.leaker)
		}
	}
	if cfg.CulpritsAfter <= 0 {
		culprits()
	} else {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.NewTimer(cfg.CulpritsAfter)
			defer t.Stop()
			select {
			case <-ctx.Done():
			case <-t.C:
				culprits()
			}
		}()
	}
	if cfg.Churn > 0 && cfg.Sessions > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.NewTicker(time.Second)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
				n := max(1, int(float64(cfg.Sessions)*cfg.Churn))
				for range n {
					k := w.rng.IntN(len(cancels))
					cancels[k]()
					cancels[k] = startOne(w.nextID(), w.agent(), w.tenant(), w.frameLoop)
				}
			}
		}()
	}
	<-ctx.Done()
	wg.Wait()
	// The leaked goroutines only return so that a test, or the demo's
	// clean exit, sees no goroutine left behind.
	close(w.release)
	w.leaks.Wait()
	return Stats{Frames: w.frames.Load(), Sessions: w.started.Load(), Leaked: w.leaked.Load()}
}

type worker struct {
	in      *introspect.Introspector
	cfg     Config
	mixer   *mixer
	rng     *rand.Rand // used by Run's goroutine, then by the churn goroutine only
	seq     atomic.Int64
	frames  atomic.Int64
	started atomic.Int64
	phases  atomic.Int64 // sessions whose frame clock was phased, for the next phase

	release chan struct{}  // closed by Run at the end: the leaked goroutines return
	leaks   sync.WaitGroup // the leaked goroutines
	leaked  atomic.Int64
}

var (
	agents  = []string{"voice", "voice", "voice", "chat", "transcriber"}
	tenants = []string{"acme", "globex", "initech", "umbrella"}
)

func (w *worker) nextID() string { return fmt.Sprintf("call-%05d", w.seq.Add(1)) }
func (w *worker) agent() string  { return agents[w.rng.IntN(len(agents))] }
func (w *worker) tenant() string { return tenants[w.rng.IntN(len(tenants))] }

// frameLoop is a well-behaved session: every frame it burns a little CPU on
// its own goroutine, then mixes briefly on the shared mixer.
func (w *worker) frameLoop(ctx context.Context) {
	work := func() { burn(w.cfg.FrameWork) }
	mix := mixFrame(w.cfg.FrameWork / 10)
	if n := w.cfg.FrameHashes; n > 0 {
		m := max(1, n/10)
		work = func() { hash(n - m) }
		mix = func() { hash(m) }
	}
	// Sessions of a real worker arrive at any moment, so their frame
	// clocks are spread over the frame period. Started together without a
	// phase, the sessions' tickers would fire in a few bunches, and how
	// bunched they are would depend on how fast sessions were started (by
	// Begin or not): the scheduler parks and wakes its threads far more
	// often for spread timers, which made the overhead measurement compare
	// bunched timers with spread ones. The golden ratio spreads the phases
	// evenly whatever the session count.
	if !w.cfg.Bunched {
		phase := time.Duration(math.Mod(float64(w.phases.Add(1))*0.6180339887498949, 1) * float64(w.cfg.Frame))
		select {
		case <-ctx.Done():
			return
		case <-time.After(phase):
		}
	}
	t := time.NewTicker(w.cfg.Frame)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		work()
		if !w.mixer.do(ctx, mix) {
			return
		}
		w.frames.Add(1)
		if w.cfg.Frames != nil {
			w.cfg.Frames.Add(1)
		}
	}
}

// mixFrame returns a frame's work on the mixer.
func mixFrame(d time.Duration) func() { return func() { burn(d) } }
