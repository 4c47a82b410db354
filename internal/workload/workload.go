// Package workload is a synthetic dense worker: many sessions, each running a
// 20ms frame loop with a little CPU per frame on a shared mixer, plus
// culprits of each kind the density-debugging runbook covers. The demo
// worker (cmd/densitydemo) and the overhead benchmarks run it, so both
// exercise the public introspect API exactly as a user would.
package workload

import (
	"context"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/openrtc-go/introspect"
)

// Config describes the workload. The zero value runs nothing.
type Config struct {
	Sessions  int           // sessions kept live at once
	Frame     time.Duration // frame period of each session; zero means 20ms
	FrameWork time.Duration // CPU each frame burns; zero means 200µs
	// Churn ends and replaces this fraction of sessions per second
	// (0.02 = 2%/s), so sessions start and end over time.
	Churn float64
	Seed  uint64 // seeds ids and churn; 0 means 1

	// Blocker adds a session that, every BlockEvery, makes a synchronous
	// BlockFor call while holding the shared mixer loop.
	Blocker    bool
	BlockFor   time.Duration // zero means 300ms
	BlockEvery time.Duration // zero means 5s
	// CPUHog adds a session that burns about HogShare of one core.
	CPUHog   bool
	HogShare float64 // zero means 0.8
	// Leaker adds a session that leaks a goroutine and 256 KiB each
	// LeakEvery.
	Leaker    bool
	LeakEvery time.Duration // zero means 200ms
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
}

// Run runs the workload under in until ctx is done, and returns what it did.
// in may be nil or disabled: the workload then runs without introspection,
// the baseline of the overhead benchmark.
func Run(ctx context.Context, in *introspect.Introspector, cfg Config) Stats {
	cfg = cfg.withDefaults()
	w := &worker{in: in, cfg: cfg, mixer: in.Loop("mixer"), rng: rand.New(rand.NewPCG(cfg.Seed, 2))}
	var wg sync.WaitGroup
	cancels := make([]context.CancelFunc, 0, cfg.Sessions)
	startOne := func(id, agent, tenant string, body func(context.Context)) context.CancelFunc {
		sctx, cancel := context.WithCancel(ctx)
		wg.Add(1)
		w.started.Add(1)
		go func() {
			defer wg.Done()
			sctx, end := in.Begin(sctx, id, introspect.Agent(agent), introspect.Tenant(tenant))
			body(sctx)
			err := context.Cause(sctx) // cancelled by churn
			if ctx.Err() != nil {
				err = nil // the worker is shutting down: a clean end
			}
			end(err)
		}()
		return cancel
	}
	for i := 0; i < cfg.Sessions; i++ {
		cancels = append(cancels, startOne(w.nextID(), w.agent(), w.tenant(), w.frameLoop))
	}
	if cfg.Blocker {
		startOne(BlockerID, "voice", "acme", w.blocker)
	}
	if cfg.CPUHog {
		startOne(HogID, "transcriber", "globex", w.hog)
	}
	if cfg.Leaker {
		startOne(LeakerID, "recorder", "initech", w.leaker)
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
				for j := 0; j < n; j++ {
					k := w.rng.IntN(len(cancels))
					cancels[k]()
					cancels[k] = startOne(w.nextID(), w.agent(), w.tenant(), w.frameLoop)
				}
			}
		}()
	}
	<-ctx.Done()
	wg.Wait()
	w.leakMu.Lock()
	w.leaked = nil
	w.leakMu.Unlock()
	close(w.leakStop())
	return Stats{Frames: w.frames.Load(), Sessions: w.started.Load()}
}

type worker struct {
	in      *introspect.Introspector
	cfg     Config
	mixer   *introspect.Loop
	rng     *rand.Rand // only used by Run's goroutine and the churn goroutine, never at once
	seq     atomic.Int64
	frames  atomic.Int64
	started atomic.Int64

	leakMu   sync.Mutex
	leaked   [][]byte
	stopOnce sync.Once
	stop     chan struct{}
}

func (w *worker) leakStop() chan struct{} {
	w.stopOnce.Do(func() { w.stop = make(chan struct{}) })
	return w.stop
}

var agents = []string{"voice", "voice", "voice", "chat", "transcriber"}
var tenants = []string{"acme", "globex", "initech", "umbrella"}

func (w *worker) nextID() string { return fmt.Sprintf("call-%05d", w.seq.Add(1)) }
func (w *worker) agent() string  { return agents[w.rng.IntN(len(agents))] }
func (w *worker) tenant() string { return tenants[w.rng.IntN(len(tenants))] }

// frameLoop is a well-behaved session: every frame it burns a little CPU on
// its own goroutine, then mixes briefly on the shared loop.
func (w *worker) frameLoop(ctx context.Context) {
	t := time.NewTicker(w.cfg.Frame)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		burn(w.cfg.FrameWork)
		leave := w.mixer.Enter(ctx)
		burn(w.cfg.FrameWork / 10)
		leave()
		w.frames.Add(1)
	}
}

// blocker holds the shared mixer loop through a synchronous call: the Go
// version of a sync requests.get() on an asyncio loop.
func (w *worker) blocker(ctx context.Context) {
	t := time.NewTicker(w.cfg.BlockEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		leave := w.mixer.Enter(ctx)
		fetchVoiceProfileSync(w.cfg.BlockFor)
		leave()
	}
}

// fetchVoiceProfileSync stands for a blocking call made inside the loop.
func fetchVoiceProfileSync(d time.Duration) { time.Sleep(d) }

// hog burns HogShare of a core in 10ms slices.
func (w *worker) hog(ctx context.Context) {
	busy := time.Duration(float64(10*time.Millisecond) * w.cfg.HogShare)
	for ctx.Err() == nil {
		transcribeChunk(busy)
		time.Sleep(10*time.Millisecond - busy)
	}
}

// transcribeChunk stands for CPU-heavy work done by one session.
func transcribeChunk(d time.Duration) { burn(d) }

// leaker starts a goroutine that never returns and keeps 256 KiB, every
// LeakEvery.
func (w *worker) leaker(ctx context.Context) {
	stop := w.leakStop()
	t := time.NewTicker(w.cfg.LeakEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		w.leakMu.Lock()
		w.leaked = append(w.leaked, make([]byte, 256<<10))
		w.leakMu.Unlock()
		go waitForAckForever(stop)
	}
}

// waitForAckForever stands for a goroutine blocked on a channel nobody
// will ever send on; stop only exists so the demo can exit cleanly.
func waitForAckForever(stop chan struct{}) { <-stop }

var sink atomic.Uint64

// burn spins on the CPU for about d.
func burn(d time.Duration) {
	end := time.Now().Add(d)
	var buf [64]byte
	for time.Now().Before(end) {
		sum := sha256.Sum256(buf[:])
		copy(buf[:], sum[:])
	}
	sink.Add(uint64(buf[0]))
}
