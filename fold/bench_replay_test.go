package fold_test

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/openrtc-go/introspect/fixtures/synth"
	"github.com/openrtc-go/introspect/fold"
	"github.com/openrtc-go/introspect/recorder"
)

// benchRecording returns a synthetic recording of sessions over duration,
// generated once into the temporary directory and kept there between runs
// (it is big and takes a while to make; it is never committed). The
// environment variable OPENRTC_BENCH_DIR moves it.
func benchRecording(b *testing.B, sessions int, duration time.Duration) string {
	b.Helper()
	dir := os.Getenv("OPENRTC_BENCH_DIR")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "openrtc-bench")
	}
	path := filepath.Join(dir, "synth-"+itoa(sessions)+"x"+duration.String()+"-seed1.zst")
	benchGen.Lock()
	defer benchGen.Unlock()
	if _, err := os.Stat(path); err == nil {
		return path
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	tmp := path + ".tmp"
	if _, err := synth.Write(tmp, synth.Options{Sessions: sessions, Duration: duration, Seed: 1}); err != nil {
		b.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		b.Fatal(err)
	}
	return path
}

var benchGen sync.Mutex

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

// decompressedBytes is the size of the JSON lines of set.
func decompressedBytes(b *testing.B, set *recorder.Set) int64 {
	var n int64
	sc := set.Scan()
	for sc.Next() {
		n += int64(len(sc.Record().Line)) + 1
	}
	if err := sc.Err(); err != nil {
		b.Fatal(err)
	}
	return n
}

// BenchmarkReport24h is `summary` and `sessions` over a day of 1,000
// sessions: MB/s of decompressed JSON through the whole pipeline (read,
// decompress, fold, report). ScanOnly is the reader alone in the same run,
// the floor.
func BenchmarkReport24h(b *testing.B) {
	path := benchRecording(b, 1000, 24*time.Hour)
	set := openSet(b, path)
	size := decompressedBytes(b, set)
	b.Run("ScanOnly", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			sc := set.Scan()
			for sc.Next() {
			}
		}
	})
	b.Run("Report", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			r, err := fold.ReadReport(set.Scan(), nil)
			if err != nil {
				b.Fatal(err)
			}
			_ = r.Summary()
		}
	})
}
