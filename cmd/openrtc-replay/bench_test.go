package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkTopOnce24h is `top --once --at T` in-process on the day of 1,000
// sessions that scripts/bench-replay.sh generates (skipped until it has):
// everything but process start and exit.
func BenchmarkTopOnce24h(b *testing.B) {
	dir := os.Getenv("OPENRTC_BENCH_DIR")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "openrtc-bench")
	}
	rec := filepath.Join(dir, "synth-1000x24h0m0s-seed1.zst")
	if _, err := os.Stat(rec); err != nil {
		b.Skip("no generated day: run scripts/bench-replay.sh first")
	}
	moments := []string{"05:17:00", "09:42:30", "14:05:10", "18:31:45", "22:58:20", "01:20:05"}
	i := 0
	for b.Loop() {
		io := stdio{in: nil, out: io.Discard, err: io.Discard}
		if code := run(context.Background(), []string{"top", "--once", "--at", moments[i%len(moments)], rec}, io); code != 0 {
			b.Fatalf("exit %d", code)
		}
		i++
	}
}
