package workload

import (
	"context"
	"crypto/sha256"
	"sync/atomic"
	"time"
)

// blocker is the session that stalls everyone: every BlockEvery it makes a
// synchronous call while holding the shared mixer, the Go version of a
// sync requests.get() on an asyncio loop.
func (w *worker) blocker(ctx context.Context) {
	t := time.NewTicker(w.cfg.BlockEvery)
	defer t.Stop()
	fetch := func() { fetchVoiceProfileSync(w.cfg.BlockFor) }
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if !w.mixer.do(ctx, fetch) {
			return
		}
	}
}

// fetchVoiceProfileSync stands for a blocking call (a database query, an
// HTTP request) made inside the mixer: the line a stall report points at.
func fetchVoiceProfileSync(d time.Duration) {
	time.Sleep(d)
}

// hog is the CPU-hot session: it burns about HogShare of a core, in 10ms
// slices, on its own goroutine.
func (w *worker) hog(ctx context.Context) {
	busy := time.Duration(float64(10*time.Millisecond) * min(w.cfg.HogShare, 1))
	for ctx.Err() == nil {
		transcribeChunk(busy)
		time.Sleep(10*time.Millisecond - busy)
	}
}

// transcribeChunk stands for CPU-heavy work done by one session.
func transcribeChunk(d time.Duration) { burn(d) }

// leaker is the session that leaks: every LeakEvery it starts a goroutine
// that waits for an acknowledgement nobody will send, holding its buffer.
// The goroutines inherit the session's labels, so the goroutine count of
// this session climbs, while its memory share is only ever RSS / sessions.
func (w *worker) leaker(ctx context.Context) {
	t := time.NewTicker(w.cfg.LeakEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		buf := make([]byte, w.cfg.LeakBytes)
		for i := 0; i < len(buf); i += 4096 {
			buf[i] = 1 // touch every page, so the leak shows in RSS
		}
		w.leaked.Add(1)
		w.leaks.Add(1)
		go func() {
			defer w.leaks.Done()
			waitForAckForever(w.release, buf)
		}()
	}
}

// waitForAckForever stands for a goroutine blocked on a channel nobody will
// ever send on. release only exists so the demo can exit cleanly.
func waitForAckForever(release <-chan struct{}, buf []byte) {
	<-release
	sink.Add(uint64(buf[0]))
}

var sink atomic.Uint64

// hash does a fixed amount of CPU work: n SHA-256 blocks.
func hash(n int) {
	var buf [64]byte
	for range n {
		sum := sha256.Sum256(buf[:])
		copy(buf[:], sum[:])
	}
	sink.Add(uint64(buf[0]))
}

// burn spins on the CPU for about d of wall time.
func burn(d time.Duration) {
	end := time.Now().Add(d)
	var buf [64]byte
	for time.Now().Before(end) {
		sum := sha256.Sum256(buf[:])
		copy(buf[:], sum[:])
	}
	sink.Add(uint64(buf[0]))
}
