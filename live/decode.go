package live

// Decoding a snapshot of either kind of worker. Ours is fold.View's JSON
// and is decoded exactly (older field types tolerated). OpenRTC's Python
// worker serves the same outline with other meanings, and it is decoded field
// by field, tolerantly: a missing field is a default, a number may come as a
// string, a field of the wrong type is ignored rather than fatal, so that a
// newer or older OpenRTC still shows its table.

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/tidwall/gjson"

	"github.com/openrtc-go/introspect/fold"
)

// Kinds of worker, as [Decode] tells them apart.
const (
	// KindIntrospect is a Go worker running this module's introspector.
	KindIntrospect = "introspect"
	// KindOpenRTC is OpenRTC's Python worker (`openrtc top`'s socket).
	KindOpenRTC = fold.KindOpenRTC
)

// KindName is how a kind is named to a person.
func KindName(kind string) string {
	if kind == KindOpenRTC {
		return "OpenRTC (Python) worker"
	}
	return "Go worker (introspect)"
}

const mib = 1 << 20

// Decode reads one snapshot line and says which kind of worker served it.
// fetched is when the line was fetched: the snapshot's time when it carries
// none, as OpenRTC's does not.
//
// The view of an OpenRTC snapshot holds what it serves: its rows' cpu_pct
// are shares since the worker started (Header.CPUWindowS is then the uptime),
// a session's start is fetched minus its duration, and RSS is the sum of the
// rows' equal shares. A [Reader] turns successive snapshots into windowed
// shares and keeps each session's start steady.
func Decode(b []byte, fetched time.Time) (fold.View, string, error) {
	if !gjson.ValidBytes(b) {
		return fold.View{}, "", errors.New("the snapshot is not valid JSON")
	}
	root := gjson.ParseBytes(b)
	if !root.IsObject() {
		return fold.View{}, "", errors.New("the snapshot is not a JSON object")
	}
	w, rows := root.Get("worker"), root.Get("sessions")
	if !w.IsObject() && !rows.IsArray() {
		if e := root.Get("error"); e.Type == gjson.String {
			return fold.View{}, "", fmt.Errorf("the worker could not make a snapshot: %s", e.String())
		}
		return fold.View{}, "", errors.New("the snapshot has neither a worker nor a sessions field")
	}
	if isOurs(root) {
		v, err := decodeOurs(b, fetched)
		return v, KindIntrospect, err
	}
	return decodeOpenRTC(root, fetched), KindOpenRTC, nil
}

// isOurs tells our snapshot from OpenRTC's: ours carries its time, and its
// rows their start, which OpenRTC's never do.
func isOurs(root gjson.Result) bool {
	if root.Get("time").Type == gjson.String || root.Get("worker.started_at").Exists() ||
		root.Get("worker.started").Type == gjson.String || root.Get("ended_sessions").Exists() {
		return true
	}
	return root.Get("sessions.0.start").Type == gjson.String
}

// decodeOurs decodes fold.View's JSON, and that of older workers whose
// worker.started was a time and whose count was started_sessions.
func decodeOurs(b []byte, fetched time.Time) (fold.View, error) {
	var v fold.View
	if err := json.Unmarshal(b, &v); err != nil {
		fixed, ferr := fixOlderOurs(b)
		if ferr != nil {
			return fold.View{}, fmt.Errorf("the snapshot is not a view: %w", err)
		}
		v = fold.View{}
		if err := json.Unmarshal(fixed, &v); err != nil {
			return fold.View{}, fmt.Errorf("the snapshot is not a view: %w", err)
		}
	}
	if v.Time.IsZero() {
		v.Time = fetched
	}
	if v.Sessions == nil {
		v.Sessions = []fold.Row{}
	}
	return v, nil
}

// fixOlderOurs renames the worker fields of snapshots served before the
// OpenRTC names were adopted: started (a time) → started_at, started_sessions
// → started.
func fixOlderOurs(b []byte) ([]byte, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	var w map[string]json.RawMessage
	if err := json.Unmarshal(m["worker"], &w); err != nil {
		return nil, err
	}
	if s, ok := w["started"]; ok && len(s) > 0 && s[0] == '"' {
		w["started_at"] = s
		delete(w, "started")
	}
	if n, ok := w["started_sessions"]; ok {
		w["started"] = n
		delete(w, "started_sessions")
	}
	wb, err := json.Marshal(w)
	if err != nil {
		return nil, err
	}
	m["worker"] = wb
	return json.Marshal(m)
}

// decodeOpenRTC reads OpenRTC's snapshot field by field.
func decodeOpenRTC(root gjson.Result, fetched time.Time) fold.View {
	v := fold.View{Time: fetched, Sessions: []fold.Row{}}
	w := root.Get("worker")
	h := &v.Worker
	h.Kind = KindOpenRTC
	h.Name = str(w.Get("name"))
	if up, ok := num(w.Get("uptime_s")); ok && up >= 0 {
		h.UptimeS = up
		h.Started = fetched.Add(-seconds(up))
	}
	h.MaxSessions = clampInt(w.Get("max_sessions"))
	h.SessionsBegun = int64(clampInt(w.Get("started")))
	h.SessionsFailed = int64(clampInt(w.Get("failed")))
	if n, ok := num(w.Get("saved_bytes")); ok && n >= 0 {
		s := int64(min(n, math.MaxInt64/2))
		h.SavedBytes = &s
	}
	h.Draining = w.Get("draining").Bool()
	if sys := w.Get("system"); sys.IsObject() {
		h.System = decodeSystem(sys)
	}
	h.HostCPUHistory = []float64{}
	w.Get("cpu_history").ForEach(func(_, x gjson.Result) bool {
		if f, ok := num(x); ok {
			h.HostCPUHistory = append(h.HostCPUHistory, f)
		}
		return len(h.HostCPUHistory) < 1024
	})

	var rss, cpu float64
	root.Get("sessions").ForEach(func(_, x gjson.Result) bool {
		if !x.IsObject() {
			return true
		}
		r := fold.Row{SessionID: str(x.Get("session_id")), AgentName: str(x.Get("agent_name")), Status: str(x.Get("status"))}
		if r.SessionID == "" {
			return true // nothing to name the row by
		}
		if t := x.Get("tenant"); t.Type == gjson.String && t.Str != "" {
			s := t.Str
			r.Tenant = &s
		}
		r.DurationS = nonNeg(x.Get("duration_s"))
		r.MemMB = nonNeg(x.Get("mem_mb"))
		r.PeakMB = max(nonNeg(x.Get("peak_mb")), r.MemMB)
		r.CPUPct = min(nonNeg(x.Get("cpu_pct")), 100)
		r.MaxCPUPct = r.CPUPct
		r.Pinned = x.Get("pinned").Bool()
		if r.Status == "" {
			r.Status = fold.StatusActive
		}
		r.Start = fetched.Add(-seconds(r.DurationS))
		// OpenRTC's CPU seconds are its ticks × 10 ms: the cumulative
		// share of the ticks since the worker started, times the uptime.
		r.CPUSeconds = math.Round(r.CPUPct/100*h.UptimeS*100) / 100
		v.Sessions = append(v.Sessions, r)
		rss += r.MemMB
		cpu += r.CPUPct
		return len(v.Sessions) < maxRows
	})
	if n, ok := num(w.Get("active_sessions")); ok && n >= 0 {
		h.ActiveSessions = int(min(n, maxRows))
	} else {
		h.ActiveSessions = len(v.Sessions)
	}
	// The rows' memory is an equal share of RSS, so they sum back to it.
	if n, ok := num(w.Get("rss_bytes")); ok && n >= 0 {
		h.RSSBytes = uint64(min(n, math.MaxUint64/2))
	} else {
		h.RSSBytes = uint64(min(rss*mib, math.MaxUint64/2))
	}
	h.CPUPct = round1(min(cpu, 100))
	h.CPUWindowS = h.UptimeS
	return v
}

// maxRows bounds the rows read from one snapshot.
const maxRows = 1 << 20

func decodeSystem(s gjson.Result) *fold.System {
	sys := &fold.System{Available: s.Get("available").Bool()}
	f := func(key string) *float64 {
		if x, ok := num(s.Get(key)); ok {
			return &x
		}
		return nil
	}
	u := func(key string) *uint64 {
		if x, ok := num(s.Get(key)); ok && x >= 0 {
			n := uint64(min(x, math.MaxUint64/2))
			return &n
		}
		return nil
	}
	sys.CPUPct, sys.Load1, sys.Load5, sys.Load15, sys.NetRateBps = f("cpu_pct"), f("load1"), f("load5"), f("load15"), f("net_rate_bps")
	sys.MemUsedBytes, sys.MemTotalBytes, sys.SwapUsedBytes, sys.SwapTotalBytes = u("mem_used_bytes"), u("mem_total_bytes"), u("swap_used_bytes"), u("swap_total_bytes")
	if x, ok := num(s.Get("vcpus")); ok && x >= 0 && x < 1<<20 {
		n := int(x)
		sys.VCPUs = &n
	}
	return sys
}

// num reads a finite number, given as a JSON number or a numeric string.
func num(r gjson.Result) (float64, bool) {
	var f float64
	switch r.Type {
	case gjson.Number:
		f = r.Num
	case gjson.String:
		var err error
		if f, err = strconv.ParseFloat(r.Str, 64); err != nil {
			return 0, false
		}
	default:
		return 0, false
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

func nonNeg(r gjson.Result) float64 {
	f, _ := num(r)
	return max(f, 0)
}

func clampInt(r gjson.Result) int {
	f, _ := num(r)
	return int(min(max(f, 0), maxRows*1024))
}

func str(r gjson.Result) string {
	if r.Type == gjson.String {
		return r.Str
	}
	return ""
}

// seconds converts to a Duration, bounded to a century.
func seconds(s float64) time.Duration {
	return time.Duration(min(s, 100*365*86400) * float64(time.Second))
}

func round1(f float64) float64 { return math.Round(f*10) / 10 }
