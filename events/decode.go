package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unsafe"

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
//
// Decode checks the record's shape (an object with a "time" string and a
// "msg" string, whose event fields make sense), not every byte of its JSON
// syntax: lines read by the recorder's Scanner were validated as they were
// read, and validating them again would double the cost of a scan. A line
// that is not an object at all, or that was cut short, is still rejected;
// one with a syntax error inside decodes to the fields that can be read
// before it.
func Decode(line []byte) (Decoded, error) {
	var c SampleCounts
	d, err := DecodeCounts(line, &c)
	if err != nil {
		return d, err
	}
	if e, ok := d.Event.(Sample); ok {
		c.fill(&e, line)
		d.Event = e
	}
	return d, nil
}

// SessionCount is one entry of a sample's per-session object, "sessions"
// of its CPU window or "gor": a session id and its count (CPU samples, or
// goroutines).
type SessionCount struct {
	// ID is the session id. It aliases the decoded line (or, when the id
	// had escapes, memory of its own): it is valid while the line is, and
	// must not be modified. Convert it with string(ID) to keep it.
	ID []byte
	N  int64
}

// SampleCounts holds the per-session objects of a sample record as
// [DecodeCounts] leaves them: lists rather than maps, each id once (the
// last value of a repeated key wins, as in a map), in the line's order.
// The zero value is ready to use; reusing one across lines reuses its
// storage.
type SampleCounts struct {
	CPU []SessionCount // the CPU window's "sessions": samples per session
	Gor []SessionCount // "gor": goroutines per session

	// Whether the objects were present, so that Decode makes a map of an
	// empty one as it always did.
	cpuObj, gorObj bool
}

func (c *SampleCounts) reset() {
	clear(c.CPU) // let go of the previous line
	clear(c.Gor)
	c.CPU, c.Gor, c.cpuObj, c.gorObj = c.CPU[:0], c.Gor[:0], false, false
}

// fill makes e's maps from the counts, whose ids alias line.
func (c *SampleCounts) fill(e *Sample, line []byte) {
	if len(c.CPU)+len(c.Gor) == 0 {
		line = nil
	}
	// One copy of the line holds every key, rather than a string each.
	own := string(line)
	key := func(id []byte) string {
		off := uintptr(unsafe.Pointer(unsafe.SliceData(id))) - uintptr(unsafe.Pointer(unsafe.SliceData(line)))
		if len(line) > 0 && off <= uintptr(len(line)-len(id)) {
			return own[off : int(off)+len(id)]
		}
		return string(id) // an id with escapes, unescaped elsewhere
	}
	if c.cpuObj {
		e.CPU.Sessions = make(map[string]int64, len(c.CPU))
		for _, x := range c.CPU {
			e.CPU.Sessions[key(x.ID)] = x.N
		}
	}
	if c.gorObj {
		e.GoroutinesBySession = make(map[string]int, len(c.Gor))
		for _, x := range c.Gor {
			e.GoroutinesBySession[key(x.ID)] = int(x.N)
		}
	}
}

// DecodeCounts is [Decode] for a reader that folds many samples, such as a
// replay over a day of recording. For a sample record it leaves the
// event's maps (CPU.Sessions and GoroutinesBySession) nil and puts their
// entries in c instead, whose ids alias line: building a map of a hundred
// sessions for every sample costs more than all the rest of its decoding.
// For any other record c is emptied. Everything else is as with Decode,
// which is DecodeCounts followed by making the maps.
func DecodeCounts(line []byte, c *SampleCounts) (Decoded, error) {
	d, _, err := decodeCounts(line, c)
	return d, err
}

// DecodeCountsChecked is [DecodeCounts] for a line that nobody has checked
// to be valid JSON yet (a recording's reader can leave that to its caller,
// which parses the line anyway). It also reports whether the line is valid
// JSON: the one-pass reader of slog's form proves it as it reads, so only
// lines in another form are checked apart. An invalid line yields an error
// wrapping ErrMalformed; a valid line that is not an event of a known kind
// yields what DecodeCounts yields.
func DecodeCountsChecked(line []byte, c *SampleCounts) (d Decoded, valid bool, err error) {
	d, fast, err := decodeCounts(line, c)
	if fast {
		return d, true, err
	}
	// Spaces around the object are allowed as a recording's reader allows
	// them (bytes.TrimSpace).
	if !gjson.ValidBytes(bytes.TrimSpace(line)) {
		c.reset()
		return Decoded{}, false, fmt.Errorf("%w: not valid JSON", ErrMalformed)
	}
	return d, true, err
}

func jsonSpace(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return false
		}
	}
	return true
}

// decodeCounts is DecodeCounts; fast reports that slog's form was read in
// one pass, which proves the line valid JSON.
func decodeCounts(line []byte, c *SampleCounts) (d Decoded, fast bool, err error) {
	c.reset()
	i := 0
	for i < len(line) && line[i] <= ' ' {
		i++
	}
	if i == len(line) || line[i] != '{' {
		if !gjson.ValidBytes(line) {
			return d, false, fmt.Errorf("%w: not valid JSON", ErrMalformed)
		}
		return d, false, fmt.Errorf("%w: not a JSON object", ErrMalformed)
	}
	j := len(line)
	for j > i && line[j-1] <= ' ' {
		j--
	}
	if d, ok := decodeFast(line[i:j], c); ok {
		// Valid JSON if what was trimmed is JSON's whitespace.
		return d, jsonSpace(line[:i]) && jsonSpace(line[j:]), nil
	}
	c.reset()
	d, err = decodeObject(line[i:j], c)
	return d, false, err
}

// decodeObject decodes obj, a record trimmed of spaces that begins with
// "{", with gjson.
func decodeObject(objBytes []byte, c *SampleCounts) (Decoded, error) {
	var d Decoded
	// gjson reads a string; this one aliases the line, so every string that
	// outlives the call is copied out of it (see fieldSet.str).
	obj := unsafe.String(unsafe.SliceData(objBytes), len(objBytes))
	root := gjson.Parse(obj)
	var timeStr string
	var haveTime, haveMsg bool
	var fields fieldSet
	end := 1 // where the last member read ends
	root.ForEach(func(k, v gjson.Result) bool {
		end = v.Index + len(v.Raw)
		switch k.Str {
		case "time":
			timeStr, haveTime = v.Str, v.Type == gjson.String
		case "level":
			d.Level = parseLevel(v.Str)
		case "msg":
			d.Kind, haveMsg = kindName(v.Str), v.Type == gjson.String
		case "v":
			d.V = int(v.Int())
		default:
			fields.add(k.Str, v)
		}
		return true
	})
	// The object must close after its last member: a line cut short, even
	// after a nested object's brace, does not.
	if !closes(obj, end) {
		return d, fmt.Errorf("%w: not valid JSON", ErrMalformed)
	}
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
	d.Event, err = decodeEvent(d.Kind, &fields, c)
	if err != nil {
		return d, fmt.Errorf("%w: %s: %v", ErrMalformed, d.Kind, err)
	}
	return d, nil
}

// closes reports whether only spaces and the closing brace follow
// offset end of the object obj.
func closes(obj string, end int) bool {
	if end < 1 || end >= len(obj) || obj[len(obj)-1] != '}' {
		return false
	}
	for _, c := range []byte(obj[end : len(obj)-1]) {
		if c > ' ' {
			return false
		}
	}
	return true
}

// kindName returns msg as a string of its own: the constant for our kinds,
// a copy for others.
func kindName(msg string) string {
	for _, k := range Kinds {
		if msg == k {
			return k
		}
	}
	return strings.Clone(msg)
}

func parseLevel(s string) slog.Level {
	switch s {
	case "DEBUG":
		return slog.LevelDebug
	case "INFO":
		return slog.LevelInfo
	case "WARN":
		return slog.LevelWarn
	case "ERROR":
		return slog.LevelError
	}
	var l slog.Level
	_ = l.UnmarshalText([]byte(s))
	return l
}

// fieldSet holds a record's attributes by key without copying them. Records
// have a handful of keys, so a slice beats a map; the first few live in
// the set itself, and the set on its caller's stack.
type fieldSet struct {
	n     int
	keys  [24]string
	vals  [24]gjson.Result
	moreK []string // beyond the first 24
	moreV []gjson.Result
}

func (f *fieldSet) add(k string, v gjson.Result) {
	if f.n < len(f.keys) {
		f.keys[f.n], f.vals[f.n] = k, v
		f.n++
		return
	}
	f.moreK = append(f.moreK, k)
	f.moreV = append(f.moreV, v)
}

func (f *fieldSet) get(k string) gjson.Result {
	for i, key := range f.keys[:f.n] {
		if key == k {
			return f.vals[i]
		}
	}
	for i, key := range f.moreK {
		if key == k {
			return f.moreV[i]
		}
	}
	return gjson.Result{}
}

// str returns a string field as a string of its own: the line it was read
// from may be reused.
func (f *fieldSet) str(k string) string       { return strings.Clone(f.get(k).Str) }
func (f *fieldSet) int(k string) int64        { return f.get(k).Int() }
func (f *fieldSet) uint(k string) uint64      { return f.get(k).Uint() }
func (f *fieldSet) ms(k string) time.Duration { return FromMillis(f.get(k).Float()) }
func (f *fieldSet) boolean(k string) bool     { return f.get(k).Bool() }
func (f *fieldSet) float(k string) float64    { return f.get(k).Float() }

func objectFields(v gjson.Result, f *fieldSet) *fieldSet {
	v.ForEach(func(k, v gjson.Result) bool { f.add(k.Str, v); return true })
	return f
}

// ownString is v as a string of its own.
func ownString(v gjson.Result) string { return strings.Clone(v.String()) }

func decodeEvent(kind string, f *fieldSet, counts *SampleCounts) (Event, error) {
	switch kind {
	case KindWorkerStart:
		var cf fieldSet
		c := objectFields(f.get("config"), &cf)
		return WorkerStart{
			Worker: f.str("worker"), PID: int(f.int("pid")), Host: f.str("host"),
			GoVersion: f.str("go_version"), MaxSessions: int(f.int("max_sessions")), WorkerKind: f.str("kind"),
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
			l.ForEach(func(k, v gjson.Result) bool { e.Labels[strings.Clone(k.Str)] = ownString(v); return true })
		}
		return e, nil
	case KindSessionEnd:
		e := SessionEnd{SessionID: f.str("session_id"), Outcome: f.str("outcome"), Error: f.str("error")}
		if e.SessionID == "" {
			return nil, errors.New("no session_id")
		}
		return e, nil
	case KindSample:
		return decodeSample(f, counts), nil
	case KindSlowSession:
		e := SlowSession{
			StallID: f.uint("stall_id"), SessionID: f.str("session_id"), Agent: f.str("agent_name"),
			Source: f.str("source"), Blocked: f.ms("blocked_ms"), Ongoing: f.boolean("ongoing"),
			Confidence: f.float("confidence"), Frame: f.str("frame"), FrameFrom: f.str("frame_from"),
			Derived: f.boolean("derived"),
		}
		f.get("stack").ForEach(func(_, v gjson.Result) bool { e.Stack = append(e.Stack, ownString(v)); return true })
		if st := f.get("start"); st.Type == gjson.String {
			if t, err := time.Parse(time.RFC3339Nano, st.Str); err == nil {
				e.Start = t
			}
		}
		e.Cause, e.Wait = f.str("cause"), f.str("wait")
		if c := f.get("hold_cpu_ms"); c.Exists() {
			e.HoldCPU, e.HoldCPUSeen = FromMillis(c.Float()), true
		}
		if sb := f.get("starved_by"); sb.IsObject() {
			e.StarvedBy = map[string]float64{}
			sb.ForEach(func(k, v gjson.Result) bool { e.StarvedBy[strings.Clone(k.Str)] = v.Float(); return true })
		}
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

// decodeSample reads a sample's fields, its per-session objects into c.
func decodeSample(f *fieldSet, c *SampleCounts) Sample {
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
		var cf fieldSet
		w := objectFields(cpu, &cf)
		e.CPU = CPUWindow{
			Duration: w.ms("dur_ms"), Span: w.ms("span_ms"), CPUTime: w.ms("cpu_ms"), Period: w.ms("period_ms"), Total: w.int("total"),
			Unlabelled: w.int("unlabelled"), Unavailable: w.str("unavailable"), Owner: w.str("owner"),
			Unsampled: w.ms("unsampled_cpu_ms"),
		}
		if s := w.get("sessions"); s.IsObject() {
			c.CPU, c.cpuObj = readCounts(s, c.CPU), true
		}
	}
	if g := f.get("gor"); g.IsObject() {
		c.Gor, c.gorObj = readCounts(g, c.Gor), true
	}
	if g := f.get("gor_stacks"); g.IsObject() {
		e.GoroutineStacks = map[string][]GoroutineGroup{}
		g.ForEach(func(k, v gjson.Result) bool {
			var groups []GoroutineGroup
			v.ForEach(func(_, x gjson.Result) bool {
				groups = append(groups, GoroutineGroup{Count: int(x.Get("n").Int()), Frame: ownString(x.Get("frame")), Wait: ownString(x.Get("wait"))})
				return true
			})
			e.GoroutineStacks[strings.Clone(k.Str)] = groups
			return true
		})
	}
	return e
}

// readCounts appends the entries of the object obj to dst, each key once.
// slog writes a count object with sorted keys and integer values; that form
// is read by hand, anything else by gjson, with the same results.
func readCounts(obj gjson.Result, dst []SessionCount) []SessionCount {
	n := len(dst)
	// obj.Raw aliases the decoded line: its bytes are the line's.
	raw := unsafe.Slice(unsafe.StringData(obj.Raw), len(obj.Raw))
	dst, ok := scanCounts(raw, dst)
	if !ok {
		clear(dst[n:])
		dst = dst[:n]
		obj.ForEach(func(k, v gjson.Result) bool {
			dst = append(dst, SessionCount{ID: unsafe.Slice(unsafe.StringData(k.Str), len(k.Str)), N: v.Int()})
			return true
		})
	}
	return append(dst[:n], uniqueCounts(dst[n:])...)
}

// scanCounts appends the entries of obj, a JSON object of string keys
// without escapes and integer values of at most 18 digits, without spaces:
// what slog writes for a map of counts. It reports false for anything
// else, which gjson then reads.
func scanCounts(obj []byte, dst []SessionCount) ([]SessionCount, bool) {
	dst, end, ok := scanCountsAt(obj, 0, dst)
	return dst, ok && end == len(obj)
}

// scanCountsAt reads such an object starting at b[i], returning where it
// ends.
func scanCountsAt(b []byte, i int, dst []SessionCount) ([]SessionCount, int, bool) {
	if i+1 >= len(b) || b[i] != '{' {
		return dst, i, false
	}
	i++
	if b[i] == '}' {
		return dst, i + 1, true
	}
	for {
		// "key"
		if b[i] != '"' {
			return dst, i, false
		}
		i++
		k := i
		for i < len(b) && b[i] != '"' {
			if b[i] == '\\' {
				return dst, i, false
			}
			i++
		}
		if i+1 >= len(b) || b[i+1] != ':' {
			return dst, i, false
		}
		id := b[k:i:i]
		i += 2
		// :integer
		neg := i < len(b) && b[i] == '-'
		if neg {
			i++
		}
		d := i
		var n int64
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			n = n*10 + int64(b[i]-'0')
			i++
		}
		if i == d || i-d > 18 || i == len(b) {
			return dst, i, false
		}
		if neg {
			n = -n
		}
		dst = append(dst, SessionCount{ID: id, N: n})
		// , or the closing }
		switch {
		case b[i] == '}':
			return dst, i + 1, true
		case b[i] == ',' && i+1 < len(b):
			i++
		default:
			return dst, i, false
		}
	}
}

// uniqueCounts leaves the last entry of each id, as a map would. Sorted
// ids, as slog writes them, are unique already, which one comparison per
// entry shows.
func uniqueCounts(cs []SessionCount) []SessionCount {
	for i := 1; i < len(cs); i++ {
		if bytes.Compare(cs[i-1].ID, cs[i].ID) >= 0 {
			last := make(map[string]int, len(cs))
			for i, c := range cs {
				last[string(c.ID)] = i
			}
			out := cs[:0]
			for i, c := range cs {
				if last[string(c.ID)] == i {
					out = append(out, c)
				}
			}
			clear(cs[len(out):])
			return out
		}
	}
	return cs
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
		var lf fieldSet
		var c SampleCounts
		s := decodeSample(objectFields(l, &lf), &c)
		c.fill(&s, nil)
		e.Last = &s
	}
	// Keyframes that predate cpu_ns derive CPU time as samples × the
	// profiler's period, a fixed 10ms in Go unless the keyframe's latest
	// window says otherwise.
	period := 10 * time.Millisecond
	if e.Last != nil && e.Last.CPU.Period > 0 {
		period = e.Last.CPU.Period
	}
	for i := range e.Sessions {
		if e.Sessions[i].CPUNanos == 0 {
			e.Sessions[i].CPUNanos = e.Sessions[i].CPUSamples * int64(period)
		}
	}
	return e, nil
}
