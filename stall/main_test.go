package stall_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run if any test leaves a goroutine behind: a watchdog
// not closed, a probe not stopped, a holder not released.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
