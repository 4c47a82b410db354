//go:build !linux

package introspect_test

import "time"

func holderThreadCPU() (time.Duration, bool) { return 0, false }
