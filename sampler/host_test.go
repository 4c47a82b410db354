package sampler

import (
	"testing"
	"time"
)

// A reading has the figures OpenRTC's header shows, and readings closer than
// HostMinGap are one reading: the history grows once a second at most.
func TestHostRead(t *testing.T) {
	h := NewHost()
	time.Sleep(20 * time.Millisecond)
	v, hist := h.Read()
	if !v.Available || v.VCPUs == nil || *v.VCPUs < 1 || v.MemTotalBytes == nil || *v.MemTotalBytes == 0 {
		t.Fatalf("reading %+v", v)
	}
	if v.CPUPct != nil && (*v.CPUPct < 0 || *v.CPUPct > 100) {
		t.Errorf("cpu %v", *v.CPUPct)
	}
	_, hist2 := h.Read()
	if len(hist2) != len(hist) {
		t.Errorf("a second reading within %v grew the history: %d → %d", HostMinGap, len(hist), len(hist2))
	}
}

// BenchmarkHostRead is the cost of one reading of the host (CPU times,
// memory, swap, load, network counters), paid at most once a second while
// a client polls the socket.
func BenchmarkHostRead(b *testing.B) {
	h := NewHost()
	for b.Loop() {
		h.mu.Lock()
		h.last.Available = false // defeat the once-a-second cache
		h.mu.Unlock()
		h.Read()
	}
}
