package tui

import (
	"fmt"

	"github.com/openrtc-go/introspect/fold"
)

// HostLine is the host's vitals, as OpenRTC's header shows them; "n/a" for
// what the host did not give.
func HostLine(h fold.Header) string {
	s := h.System
	if s == nil {
		// A recording keeps no host vitals (openrtc-replay record of
		// OpenRTC's worker).
		return "host vitals: not recorded"
	}
	na := func(p *float64, format string) string {
		if p == nil {
			return "n/a"
		}
		return fmt.Sprintf(format, *p)
	}
	gb := func(p *uint64) string {
		if p == nil {
			return "n/a"
		}
		return fmt.Sprintf("%.1fG", float64(*p)/1e9)
	}
	vcpus := "n/a"
	if s.VCPUs != nil {
		vcpus = fmt.Sprint(*s.VCPUs)
	}
	line := fmt.Sprintf("host cpu %s of %s vCPUs · mem %s / %s · swap %s / %s · load %s %s %s · net %s",
		na(s.CPUPct, "%.1f%%"), vcpus, gb(s.MemUsedBytes), gb(s.MemTotalBytes), gb(s.SwapUsedBytes), gb(s.SwapTotalBytes),
		na(s.Load1, "%.2f"), na(s.Load5, "%.2f"), na(s.Load15, "%.2f"), na(s.NetRateBps, "%.0f B/s"))
	if h.SavedBytes != nil {
		line += fmt.Sprintf(" · saved %.1fG", float64(*h.SavedBytes)/1e9)
	}
	return line
}

// CPUText is the header's CPU: the process's CPU in cores (1.15 cores is
// 115 % of one core), and the share of it the sessions used, which is what
// the cpu% column splits between them. Cores, not a percent, so the two
// never read alike.
//
// When some of the worker's CPU went unsampled (another caller held the CPU
// profiler) or the samples missed a notable part of it, it says how much,
// since the cpu_s column leaves it out.
func CPUText(h fold.Header) string {
	unsampled := ""
	if h.UnsampledCPUS >= 0.05 {
		unsampled = fmt.Sprintf(" · %.1f s of %.1f s CPU unsampled, in no cpu_s", h.UnsampledCPUS, h.ProcessCPUS)
	}
	if h.MissedCPUS >= 0.05 {
		unsampled += fmt.Sprintf(" · %.1f s of %.1f s CPU missed by the samples, in no cpu_s", h.MissedCPUS, h.ProcessCPUS)
	}
	if h.CPUUnavailable != "" {
		return clean(h.CPUStatus()) + unsampled
	}
	t := fmt.Sprintf("cpu %.2f cores, %.1f%% of it in sessions", h.ProcessCPUPct/100, h.CPUPct)
	if h.CPUOwner != "" {
		t += " (from " + clean(h.CPUOwner) + "'s profiles)"
	}
	return t + unsampled
}
