package events

import (
	"bytes"
	"strconv"
	"time"
	"unsafe"
)

// Samples, session starts and session ends are nearly all the records of a
// recording, samples most of its bytes, so DecodeCounts reads these three
// kinds in one pass by hand when they are in the form slog's JSON handler
// writes: one object without spaces, the header (time, level, msg, v)
// first, keys and strings without escapes, each field once, integers where
// the schema has integers. Anything else (a foreign writer's spacing or
// order, an escape, a repeated key, a field of an unexpected type, labels,
// a newer version's nested field) is left to the gjson path, which gives
// the same result for what both read (FuzzDecodeFast holds them to it).

// field bits, to refuse a repeated field.
const (
	fTime = 1 << iota
	fLevel
	fMsg
	fV
	fRSS
	fSessions
	fGoroutines
	fRunnable
	fRunning
	fWaiting
	fHeap
	fGCCycles
	fGCPause
	fGCPauseMax
	fSchedP50
	fSchedP99
	fSchedMax
	fMutex
	fCPU
	fGor
	fDur
	fSpan
	fCPUTime
	fPeriod
	fTotal
	fUnlabelled
	fUnavailable
	fOwner
	fCPUSessions
	fUnsampled
	fSessionID
	fAgent
	fTenant
	fPinned
	fOutcome
	fError
)

// fastRecord is a record being read by decodeFast.
type fastRecord struct {
	p    fastScan
	seen uint64
	kind string // known once "msg" is read

	sample           Sample
	running, waiting int64
	start            SessionStart
	end              SessionEnd
}

// ms reads a field in milliseconds into d, refusing a repeated field.
func (r *fastRecord) ms(d *time.Duration, bit uint64) bool {
	f, ok := r.p.float()
	*d = FromMillis(f)
	return ok && r.once(bit)
}

// once marks a field read, reporting false when it was already.
func (r *fastRecord) once(bit uint64) bool {
	if r.seen&bit != 0 {
		return false
	}
	r.seen |= bit
	return true
}

// decodeFast decodes obj, a whole record trimmed of spaces, when it is a
// sample, a session start or a session end in slog's form; ok is false
// otherwise, with c left for the caller to reset.
func decodeFast(obj []byte, c *SampleCounts) (d Decoded, ok bool) {
	r := fastRecord{p: fastScan{b: obj}}
	p := &r.p
	var timeStr []byte
	if !p.next('{') {
		return d, false
	}
	for {
		key, ok := p.str()
		if !ok || !p.next(':') {
			return d, false
		}
		switch string(key) {
		case "time":
			timeStr, ok = p.str()
			ok = ok && r.once(fTime)
		case "level":
			var l []byte
			l, ok = p.str()
			d.Level = parseLevel(unsafe.String(unsafe.SliceData(l), len(l)))
			ok = ok && r.once(fLevel)
		case "msg":
			var msg []byte
			msg, ok = p.str()
			switch string(msg) {
			case KindSample:
				r.kind = KindSample
			case KindSessionStart:
				r.kind = KindSessionStart
			case KindSessionEnd:
				r.kind = KindSessionEnd
			default:
				return d, false
			}
			ok = ok && r.once(fMsg)
		case "v":
			var n int64
			n, ok = p.int(true)
			d.V = int(n)
			ok = ok && r.once(fV)
		default:
			switch r.kind {
			case KindSample:
				ok = r.sampleField(key, c)
			case KindSessionStart:
				ok = r.startField(key)
			case KindSessionEnd:
				ok = r.endField(key)
			default:
				ok = false // a field before "msg": not slog's order
			}
		}
		if !ok {
			return d, false
		}
		if p.next('}') {
			break
		}
		if !p.next(',') {
			return d, false
		}
	}
	if p.i != len(p.b) || r.seen&(fTime|fMsg|fV) != fTime|fMsg|fV || d.V == 0 {
		return d, false
	}
	t, err := time.Parse(time.RFC3339Nano, unsafe.String(unsafe.SliceData(timeStr), len(timeStr)))
	if err != nil {
		return d, false
	}
	d.Time, d.Kind = t, r.kind
	switch r.kind {
	case KindSample:
		e := r.sample
		if r.seen&fRunnable != 0 {
			e.Running, e.Waiting = int(r.running), int(r.waiting)
		} else {
			e.Runnable, e.Running, e.Waiting = -1, -1, -1
		}
		c.CPU, c.Gor = uniqueCounts(c.CPU), uniqueCounts(c.Gor)
		d.Event = e
	case KindSessionStart:
		if r.start.SessionID == "" {
			return d, false // an error, which the gjson path words
		}
		d.Event = r.start
	case KindSessionEnd:
		if r.end.SessionID == "" {
			return d, false
		}
		d.Event = r.end
	}
	return d, true
}

// ownStr reads a string as a string of its own.
func (p *fastScan) ownStr() (string, bool) {
	s, ok := p.str()
	return string(s), ok
}

func (r *fastRecord) startField(key []byte) (ok bool) {
	p, e := &r.p, &r.start
	switch string(key) {
	case "session_id":
		e.SessionID, ok = p.ownStr()
		return ok && r.once(fSessionID)
	case "agent_name":
		e.Agent, ok = p.ownStr()
		return ok && r.once(fAgent)
	case "tenant":
		e.Tenant, ok = p.ownStr()
		return ok && r.once(fTenant)
	case "pinned":
		switch {
		case p.word("true"):
			e.Pinned = true
		case p.word("false"):
		default:
			return false
		}
		return r.once(fPinned)
	case "labels":
		return false // a map: gjson's
	}
	return p.scalar()
}

func (r *fastRecord) endField(key []byte) (ok bool) {
	p, e := &r.p, &r.end
	switch string(key) {
	case "session_id":
		e.SessionID, ok = p.ownStr()
		return ok && r.once(fSessionID)
	case "outcome":
		e.Outcome, ok = p.ownStr()
		return ok && r.once(fOutcome)
	case "error":
		e.Error, ok = p.ownStr()
		return ok && r.once(fError)
	}
	return p.scalar()
}

func (r *fastRecord) sampleField(key []byte, c *SampleCounts) (ok bool) {
	p, e := &r.p, &r.sample
	var n int64
	var f float64
	switch string(key) {
	case "rss_bytes":
		n, ok = p.int(false)
		e.RSSBytes = uint64(n)
		return ok && r.once(fRSS)
	case "sessions":
		n, ok = p.int(true)
		e.Sessions = int(n)
		return ok && r.once(fSessions)
	case "goroutines":
		n, ok = p.int(true)
		e.Goroutines = int(n)
		return ok && r.once(fGoroutines)
	case "gor_runnable":
		n, ok = p.int(true)
		e.Runnable = int(n)
		return ok && r.once(fRunnable)
	case "gor_running":
		r.running, ok = p.int(true)
		return ok && r.once(fRunning)
	case "gor_waiting":
		r.waiting, ok = p.int(true)
		return ok && r.once(fWaiting)
	case "heap_bytes":
		n, ok = p.int(false)
		e.HeapBytes = uint64(n)
		return ok && r.once(fHeap)
	case "gc_cycles":
		e.GCCycles, ok = p.int(true)
		return ok && r.once(fGCCycles)
	case "gc_pause_ms":
		return r.ms(&e.GCPause, fGCPause)
	case "gc_pause_max_ms":
		return r.ms(&e.GCPauseMax, fGCPauseMax)
	case "sched_p50_ms":
		return r.ms(&e.SchedP50, fSchedP50)
	case "sched_p99_ms":
		return r.ms(&e.SchedP99, fSchedP99)
	case "sched_max_ms":
		return r.ms(&e.SchedMax, fSchedMax)
	case "mutex_wait_ms_per_s":
		f, ok = p.float()
		e.MutexWaitPerSec = f / 1000
		return ok && r.once(fMutex)
	case "cpu":
		return r.once(fCPU) && r.cpu(c)
	case "gor":
		c.Gor, ok = p.counts(c.Gor)
		c.gorObj = true
		return ok && r.once(fGor)
	case "gor_stacks":
		return false // nested lists: gjson's
	}
	return p.scalar()
}

// fastScan reads the strict form decodeSampleFast accepts.
type fastScan struct {
	b []byte
	i int
}

// next consumes c if it comes next.
func (p *fastScan) next(c byte) bool {
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

// str reads a string without escapes; its bytes alias the line.
func (p *fastScan) str() ([]byte, bool) {
	if !p.next('"') {
		return nil, false
	}
	s := p.i
	for p.i < len(p.b) {
		switch c := p.b[p.i]; {
		case c == '"':
			p.i++
			return p.b[s : p.i-1], true
		case c == '\\' || c < ' ':
			return nil, false
		}
		p.i++
	}
	return nil, false
}

// int reads an integer of at most 15 digits, which a float64 holds exactly,
// negative only when signed.
func (p *fastScan) int(signed bool) (int64, bool) {
	neg := signed && p.next('-')
	s := p.i
	var n int64
	for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
		n = n*10 + int64(p.b[p.i]-'0')
		p.i++
	}
	if d := p.i - s; d == 0 || d > 15 || (d > 1 && p.b[s] == '0') {
		return 0, false
	}
	if neg {
		n = -n
	}
	return n, true
}

// float reads a JSON number.
func (p *fastScan) float() (float64, bool) {
	s := p.i
	if !p.number() {
		return 0, false
	}
	tok := p.b[s:p.i]
	f, err := strconv.ParseFloat(unsafe.String(unsafe.SliceData(tok), len(tok)), 64)
	return f, err == nil
}

// number consumes a JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (p *fastScan) number() bool {
	p.next('-')
	digits := func() int {
		s := p.i
		for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
			p.i++
		}
		return p.i - s
	}
	s := p.i
	if n := digits(); n == 0 || (n > 1 && p.b[s] == '0') {
		return false
	}
	if p.next('.') && digits() == 0 {
		return false
	}
	if p.next('e') || p.next('E') {
		if !p.next('+') {
			p.next('-')
		}
		if digits() == 0 {
			return false
		}
	}
	return true
}

// scalar consumes a field this version does not know, when it is a string,
// a number, true, false or null.
func (p *fastScan) scalar() bool {
	if p.i >= len(p.b) {
		return false
	}
	switch p.b[p.i] {
	case '"':
		_, ok := p.str()
		return ok
	case 't', 'f', 'n':
		return p.word("true") || p.word("false") || p.word("null")
	}
	return p.number()
}

// word consumes w if it comes next.
func (p *fastScan) word(w string) bool {
	if bytes.HasPrefix(p.b[p.i:], []byte(w)) {
		p.i += len(w)
		return true
	}
	return false
}

// cpu reads a sample's CPU window, its sessions into c.
func (r *fastRecord) cpu(c *SampleCounts) bool {
	p, w := &r.p, &r.sample.CPU
	if !p.next('{') {
		return false
	}
	if p.next('}') {
		return true
	}
	for {
		key, ok := p.str()
		if !ok || !p.next(':') {
			return false
		}
		switch string(key) {
		case "dur_ms":
			ok = r.ms(&w.Duration, fDur)
		case "span_ms":
			ok = r.ms(&w.Span, fSpan)
		case "cpu_ms":
			ok = r.ms(&w.CPUTime, fCPUTime)
		case "period_ms":
			ok = r.ms(&w.Period, fPeriod)
		case "total":
			w.Total, ok = p.int(true)
			ok = ok && r.once(fTotal)
		case "unlabelled":
			w.Unlabelled, ok = p.int(true)
			ok = ok && r.once(fUnlabelled)
		case "unavailable":
			w.Unavailable, ok = p.ownStr()
			ok = ok && r.once(fUnavailable)
		case "owner":
			w.Owner, ok = p.ownStr()
			ok = ok && r.once(fOwner)
		case "unsampled_cpu_ms":
			ok = r.ms(&w.Unsampled, fUnsampled)
		case "sessions":
			c.CPU, ok = p.counts(c.CPU)
			c.cpuObj = true
			ok = ok && r.once(fCPUSessions)
		default:
			ok = p.scalar()
		}
		if !ok {
			return false
		}
		if p.next('}') {
			return true
		}
		if !p.next(',') {
			return false
		}
	}
}

// counts reads a count object into dst.
func (p *fastScan) counts(dst []SessionCount) ([]SessionCount, bool) {
	dst, end, ok := scanCountsAt(p.b, p.i, dst)
	p.i = end
	return dst, ok
}
