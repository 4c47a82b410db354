package sampler

import (
	"context"
	"math"
	"sync"
	"time"

	"github.com/shirou/gopsutil/v4/cpu"
	"github.com/shirou/gopsutil/v4/load"
	"github.com/shirou/gopsutil/v4/mem"
	"github.com/shirou/gopsutil/v4/net"
)

// HostHistoryLen is how many host CPU readings [Host] keeps: OpenRTC's
// cpu_history holds the last 60.
const HostHistoryLen = 60

// HostMinGap is the shortest time between two readings of the host. A
// reading asked for sooner returns the previous one, so that clients polling
// the live socket at 10 Hz neither cost ten readings a second nor squeeze the
// CPU history into six seconds.
const HostMinGap = time.Second

// HostVitals is one reading of the host: OpenRTC's "system" block. A nil
// field is a figure the host did not give; CPUPct and NetRateBps are rates
// over the time since the previous reading.
type HostVitals struct {
	Available      bool
	CPUPct         *float64 // busy share of all cores, 0-100
	VCPUs          *int
	MemUsedBytes   *uint64
	MemTotalBytes  *uint64
	SwapUsedBytes  *uint64
	SwapTotalBytes *uint64
	Load1          *float64
	Load5          *float64
	Load15         *float64
	NetRateBps     *float64 // bytes sent plus received per second, all interfaces
}

// Host reads the host's CPU, memory, swap, load and network rate for the live
// snapshot's header, through github.com/shirou/gopsutil, on demand and at most
// once per [HostMinGap]. Its methods are safe for concurrent use.
type Host struct {
	mu      sync.Mutex
	at      time.Time // of the latest reading
	last    HostVitals
	history []float64

	cpuBusy, cpuTotal float64 // cumulative CPU times at the previous reading
	haveCPU           bool
	netBytes          uint64
	haveNet           bool
	vcpus             int // read once: gopsutil parses /proc/cpuinfo for it
}

// NewHost returns a Host that has taken its baseline reading of the CPU and
// network counters, so that the first [Host.Read] has rates to report.
func NewHost() *Host {
	h := &Host{}
	h.cpuBusy, h.cpuTotal, h.haveCPU = cpuTimes()
	h.netBytes, h.haveNet = netBytes()
	if n, err := cpu.Counts(true); err == nil && n > 0 {
		h.vcpus = n
	}
	h.at = time.Now()
	return h
}

// Read returns the host's vitals now (or as of the previous reading, if it is
// less than HostMinGap old) and a copy of the host CPU history, oldest first.
func (h *Host) Read() (HostVitals, []float64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	now := time.Now()
	if h.last.Available && now.Sub(h.at) < HostMinGap {
		return h.last, append([]float64(nil), h.history...)
	}
	elapsed := now.Sub(h.at).Seconds()
	h.at = now
	v := HostVitals{}
	if busy, total, ok := cpuTimes(); ok {
		if h.haveCPU && total > h.cpuTotal {
			p := clamp((busy-h.cpuBusy)/(total-h.cpuTotal)*100, 0, 100)
			v.CPUPct = &p
			v.Available = true
			h.history = append(h.history, math.Round(p*10)/10)
			if len(h.history) > HostHistoryLen {
				h.history = h.history[len(h.history)-HostHistoryLen:]
			}
		}
		h.cpuBusy, h.cpuTotal, h.haveCPU = busy, total, true
	}
	if h.vcpus > 0 {
		n := h.vcpus
		v.VCPUs, v.Available = &n, true
	}
	if vm, err := mem.VirtualMemory(); err == nil {
		v.MemUsedBytes, v.MemTotalBytes, v.Available = &vm.Used, &vm.Total, true
		// Swap from the same reading of /proc/meminfo: mem.SwapMemory
		// also parses /proc/vmstat and costs twice the rest together.
		if vm.SwapTotal >= vm.SwapFree {
			used := vm.SwapTotal - vm.SwapFree
			v.SwapUsedBytes, v.SwapTotalBytes = &used, &vm.SwapTotal
		}
	}
	if l, err := load.Avg(); err == nil {
		v.Load1, v.Load5, v.Load15 = &l.Load1, &l.Load5, &l.Load15
	}
	if n, ok := netBytes(); ok {
		if h.haveNet && n >= h.netBytes && elapsed > 0 {
			r := float64(n-h.netBytes) / elapsed
			v.NetRateBps = &r
		}
		h.netBytes, h.haveNet = n, true
	}
	h.last = v
	return v, append([]float64(nil), h.history...)
}

// cpuTimes returns the host's cumulative busy and total CPU seconds.
func cpuTimes() (busy, total float64, ok bool) {
	ts, err := cpu.TimesWithContext(context.Background(), false)
	if err != nil || len(ts) == 0 {
		return 0, 0, false
	}
	t := ts[0]
	// Guest time is already counted in user time on Linux.
	total = t.User + t.Nice + t.System + t.Idle + t.Iowait + t.Irq + t.Softirq + t.Steal
	idle := t.Idle + t.Iowait
	return total - idle, total, true
}

// netBytes returns the bytes sent and received on all interfaces so far.
func netBytes() (uint64, bool) {
	cs, err := net.IOCounters(false)
	if err != nil || len(cs) == 0 {
		return 0, false
	}
	return cs[0].BytesSent + cs[0].BytesRecv, true
}

func clamp(f, lo, hi float64) float64 { return min(max(f, lo), hi) }
