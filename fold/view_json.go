package fold

import "encoding/json"

// KindOpenRTC is [Header.Kind] for a view read from OpenRTC's Python worker.
const KindOpenRTC = "openrtc"

// System is the host's vitals in a live snapshot: OpenRTC's "system" block,
// field for field. A nil pointer is a figure the host did not give (the
// network rate needs two samples; the load average is not on every system).
type System struct {
	Available      bool     `json:"available"`
	CPUPct         *float64 `json:"cpu_pct"` // all cores, 0-100
	VCPUs          *int     `json:"vcpus"`
	MemUsedBytes   *uint64  `json:"mem_used_bytes"`
	MemTotalBytes  *uint64  `json:"mem_total_bytes"`
	SwapUsedBytes  *uint64  `json:"swap_used_bytes"`
	SwapTotalBytes *uint64  `json:"swap_total_bytes"`
	Load1          *float64 `json:"load1"`
	Load5          *float64 `json:"load5"`
	Load15         *float64 `json:"load15"`
	NetRateBps     *float64 `json:"net_rate_bps"` // bytes per second, sent plus received
}

// viewJSON is View without its methods, so that MarshalJSON and UnmarshalJSON
// can use the default encoding of every other field, present and future.
type viewJSON View

// MarshalJSON writes the view as OpenRTC's snapshot with ours added: live
// rows (active, slow) in "sessions", rows of sessions that ended within the
// slow window in "ended_sessions". OpenRTC's client titles its table with the
// number of rows in "sessions", so an ended row there would count as live.
func (v View) MarshalJSON() ([]byte, error) {
	live := make([]Row, 0, len(v.Sessions))
	ended := make([]Row, 0)
	for _, r := range v.Sessions {
		if r.Status == StatusEnded || r.Status == StatusErrored {
			ended = append(ended, r)
		} else {
			live = append(live, r)
		}
	}
	if v.Worker.HostCPUHistory == nil {
		v.Worker.HostCPUHistory = []float64{}
	}
	return json.Marshal(struct {
		viewJSON
		Sessions []Row `json:"sessions"`
		Ended    []Row `json:"ended_sessions"`
	}{viewJSON(v), live, ended})
}

// UnmarshalJSON reads what MarshalJSON writes, the ended rows appended to
// Sessions. It is strict about types: package live decodes other workers'
// snapshots tolerantly.
func (v *View) UnmarshalJSON(b []byte) error {
	var w struct {
		viewJSON
		Sessions []Row `json:"sessions"`
		Ended    []Row `json:"ended_sessions"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*v = View(w.viewJSON)
	v.Sessions = append(w.Sessions, w.Ended...)
	if v.Sessions == nil {
		v.Sessions = []Row{}
	}
	return nil
}
