//go:build !unix

package sampler

import (
	"testing"
	"time"
)

// processCPU is not available here; benchmarks that need it skip.
func processCPU(tb testing.TB) time.Duration {
	tb.Skip("process CPU time needs getrusage")
	return 0
}
