//go:build linux

package truth

import (
	"sync"
	"testing"
	"time"
)

// TestFreeMeterAgainstProcessCPU checks the harness's measure of unlocked
// goroutines: two of them burning for a second, with nothing else to run,
// account for the process's CPU (getrusage) less the runtime's own. The
// meter never counts more than the process used; on this shared VM it reads
// 82–91 % of it (the rest is the runtime's scheduling, and slow steps counted
// at a step's cost), so a figure judged by it is an upper bound of any
// over-billing.
func TestFreeMeterAgainstProcessCPU(t *testing.T) {
	if testing.Short() {
		t.Skip("burns two seconds of CPU")
	}
	meters := []*freeMeter{newFreeMeter(), newFreeMeter()}
	p0 := processCPU()
	var wg sync.WaitGroup
	until := time.Now().Add(time.Second)
	for _, m := range meters {
		wg.Go(func() { freeDutyCycle(m, 1, until) })
	}
	wg.Wait()
	proc := processCPU() - p0
	used := meters[0].used + meters[1].used
	t.Logf("meters %v (%d steps read, %d estimated; long steps read %v more), process %v", used, meters[0].read+meters[1].read, meters[0].estimated+meters[1].estimated, meters[0].long+meters[1].long, proc)
	if used > proc*102/100 || used < proc*75/100 {
		t.Errorf("the meters count %v of the process's %v", used, proc)
	}
}
