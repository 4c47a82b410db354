package events

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/tidwall/gjson"
)

// ErrMalformed is wrapped by every error [Decode] returns: the line is not a
// JSON object with a time and a message.
var ErrMalformed = errors.New("malformed record")

// Decoded is one record read back from its JSON line.
type Decoded struct {
	Time  time.Time
	Level slog.Level
	Kind  string // the record's message
	V     int    // schema version; 0 for a record that carries none
	// Event is the typed event, or nil when Kind is not one of ours (an
	// application's own log line). For a record of a newer schema version it
	// holds the fields this version knows.
	Event Event
}

// Newer reports whether the record was written by a newer schema version than
// this package knows. Its known fields are decoded; callers should warn once
// and go on.
func (d Decoded) Newer() bool { return d.V > SchemaVersion }

// Decode reads one record from a JSON line in the shape slog's JSON handler
// writes: "time" (RFC 3339), "level", "msg" and the attributes. It does not
// retain line.
func Decode(line []byte) (Decoded, error) {
	var d Decoded
	if !gjson.ValidBytes(line) {
		return d, fmt.Errorf("%w: not valid JSON", ErrMalformed)
	}
	root := gjson.ParseBytes(line)
	if !root.IsObject() {
		return d, fmt.Errorf("%w: not a JSON object", ErrMalformed)
	}
	var timeStr string
	var haveTime, haveMsg bool
	var fields fieldSet
	root.ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "time":
			timeStr, haveTime = v.Str, v.Type == gjson.String
		case "level":
			_ = d.Level.UnmarshalText([]byte(v.Str))
		case "msg":
			d.Kind, haveMsg = v.Str, v.Type == gjson.String
		case "v":
			d.V = int(v.Int())
		default:
			fields.add(k.Str, v)
		}
		return true
	})
	if !haveTime {
		return d, fmt.Errorf("%w: no \"time\" string", ErrMalformed)
	}
	if !haveMsg {
		return d, fmt.Errorf("%w: no \"msg\" string", ErrMalformed)
	}
	t, err := time.Parse(time.RFC3339Nano, timeStr)
	if err != nil {
		return d, fmt.Errorf("%w: time %q: %v", ErrMalformed, timeStr, err)
	}
	d.Time = t
	if d.V == 0 {
		return d, nil // an application's own record: ours always carry "v"
	}
	d.Event, err = decodeEvent(d.Kind, &fields)
	if err != nil {
		return d, fmt.Errorf("%w: %s: %v", ErrMalformed, d.Kind, err)
	}
	return d, nil
}

// fieldSet holds a record's attributes by key without copying them. Records
// have a handful of keys, so a slice beats a map.
type fieldSet struct {
	keys []string
	vals []gjson.Result
}

func (f *fieldSet) add(k string, v gjson.Result) {
	f.keys = append(f.keys, k)
	f.vals = append(f.vals, v)
}

func (f *fieldSet) get(k string) gjson.Result {
	for i, key := range f.keys {
		if key == k {
			return f.vals[i]
		}
	}
	return gjson.Result{}
}

func (f *fieldSet) str(k string) string       { return f.get(k).Str }
func (f *fieldSet) int(k string) int64        { return f.get(k).Int() }
func (f *fieldSet) uint(k string) uint64      { return f.get(k).Uint() }
func (f *fieldSet) ms(k string) time.Duration { return FromMillis(f.get(k).Float()) }
func (f *fieldSet) boolean(k string) bool     { return f.get(k).Bool() }
func (f *fieldSet) float(k string) float64    { return f.get(k).Float() }

func objectFields(v gjson.Result) *fieldSet {
	var f fieldSet
	v.ForEach(func(k, v gjson.Result) bool { f.add(k.Str, v); return true })
	return &f
}

func decodeEvent(kind string, f *fieldSet) (Event, error) {
	switch kind {
	case KindWorkerStart:
		c := objectFields(f.get("config"))
		return WorkerStart{
			Worker: f.str("worker"), PID: int(f.int("pid")), Host: f.str("host"),
			GoVersion: f.str("go_version"), MaxSessions: int(f.int("max_sessions")),
			Config: Config{
				SampleInterval: c.ms("sample_interval_ms"), CPUWindow: c.ms("cpu_window_ms"),
				SlowThreshold: c.ms("slow_threshold_ms"), SlowWindow: c.ms("slow_window_ms"),
				KeyframeInterval: c.ms("keyframe_interval_ms"),
			},
		}, nil
	case KindSessionStart:
		e := SessionStart{SessionID: f.str("session_id"), Agent: f.str("agent_name"),
			Tenant: f.str("tenant"), Pinned: f.boolean("pinned")}
		if e.SessionID == "" {
			return nil, errors.New("no session_id")
		}
		if l := f.get("labels"); l.IsObject() {
			e.Labels = map[string]string{}
			l.ForEach(func(k, v gjson.Result) bool { e.Labels[k.Str] = v.String(); return true })
		}
		return e, nil
	case KindSessionEnd:
		e := SessionEnd{SessionID: f.str("session_id"), Outcome: f.str("outcome"), Error: f.str("error")}
		if e.SessionID == "" {
			return nil, errors.New("no session_id")
		}
		return e, nil
	case KindSample:
		return decodeSample(f), nil
	case KindSlowSession:
		e := SlowSession{
			StallID: f.uint("stall_id"), SessionID: f.str("session_id"), Agent: f.str("agent_name"),
			Source: f.str("source"), Blocked: f.ms("blocked_ms"), Ongoing: f.boolean("ongoing"),
			Confidence: f.float("confidence"), Frame: f.str("frame"),
		}
		f.get("stack").ForEach(func(_, v gjson.Result) bool { e.Stack = append(e.Stack, v.String()); return true })
		return e, nil
	case KindKeyframe:
		return decodeKeyframe(f)
	case KindRecorderDrop:
		return RecorderDrop{Dropped: f.int("dropped"), Reason: f.str("reason")}, nil
	case KindWorkerStop:
		return WorkerStop{Reason: f.str("reason")}, nil
	}
	return nil, nil // a newer version's event kind: skippable
}

func decodeSample(f *fieldSet) Sample {
	e := Sample{
		RSSBytes: f.uint("rss_bytes"), Sessions: int(f.int("sessions")), Goroutines: int(f.int("goroutines")),
		Runnable: -1, Running: -1, Waiting: -1,
		HeapBytes: f.uint("heap_bytes"), GCCycles: f.int("gc_cycles"),
		GCPause: f.ms("gc_pause_ms"), GCPauseMax: f.ms("gc_pause_max_ms"),
		SchedP50: f.ms("sched_p50_ms"), SchedP99: f.ms("sched_p99_ms"), SchedMax: f.ms("sched_max_ms"),
		MutexWaitPerSec: f.float("mutex_wait_ms_per_s") / 1000,
	}
	if r := f.get("gor_runnable"); r.Exists() {
		e.Runnable, e.Running, e.Waiting = int(r.Int()), int(f.int("gor_running")), int(f.int("gor_waiting"))
	}
	if cpu := f.get("cpu"); cpu.IsObject() {
		c := objectFields(cpu)
		e.CPU = CPUWindow{
			Duration: c.ms("dur_ms"), Period: c.ms("period_ms"), Total: c.int("total"),
			Unlabelled: c.int("unlabelled"), Unavailable: c.str("unavailable"),
		}
		if s := c.get("sessions"); s.IsObject() {
			e.CPU.Sessions = make(map[string]int64)
			s.ForEach(func(k, v gjson.Result) bool { e.CPU.Sessions[k.Str] = v.Int(); return true })
		}
	}
	if g := f.get("gor"); g.IsObject() {
		e.GoroutinesBySession = make(map[string]int)
		g.ForEach(func(k, v gjson.Result) bool { e.GoroutinesBySession[k.Str] = int(v.Int()); return true })
	}
	return e
}

func decodeKeyframe(f *fieldSet) (Event, error) {
	var e Keyframe
	if w := f.get("worker"); w.IsObject() {
		if err := json.Unmarshal([]byte(w.Raw), &e.Worker); err != nil {
			return nil, fmt.Errorf("worker: %v", err)
		}
	}
	if s := f.get("sessions"); s.IsArray() {
		if err := json.Unmarshal([]byte(s.Raw), &e.Sessions); err != nil {
			return nil, fmt.Errorf("sessions: %v", err)
		}
	}
	f.get("open_stalls").ForEach(func(_, v gjson.Result) bool { e.OpenStalls = append(e.OpenStalls, v.Uint()); return true })
	if l := f.get("last"); l.IsObject() {
		s := decodeSample(objectFields(l))
		e.Last = &s
	}
	// CPU time is derived, not stored: samples × the profiler's period, a
	// fixed 10ms in Go unless the keyframe's latest window says otherwise.
	period := 10 * time.Millisecond
	if e.Last != nil && e.Last.CPU.Period > 0 {
		period = e.Last.CPU.Period
	}
	for i := range e.Sessions {
		e.Sessions[i].CPUNanos = e.Sessions[i].CPUSamples * int64(period)
	}
	return e, nil
}
