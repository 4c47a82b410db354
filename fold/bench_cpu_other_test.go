//go:build !unix

package fold_test

import (
	"testing"
	"time"
)

// processCPU is not measured here: cpu-s/op reads 0.
func processCPU(*testing.B) time.Duration { return 0 }
