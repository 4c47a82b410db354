package events

import (
	"bytes"
	"strconv"
	"time"
	"unsafe"
)

// Samples are nine in ten records of a recording and most of its bytes, so
// DecodeCounts reads them in one pass by hand when they are in the form
// slog's JSON handler writes: one object without spaces, keys and strings
// without escapes, each field once, integers where the schema has integers.
// Anything else (a foreign writer's spacing, an escape, a repeated key, a
// field of an unexpected type, a newer version's nested field) is left to
// the gjson path, which gives the same result for what both read
// (FuzzDecodeSampleFast holds them to it).

// sample field bits, to refuse a repeated field.
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
	fPeriod
	fTotal
	fUnlabelled
	fUnavailable
	fCPUSessions
)

// decodeSampleFast decodes obj, a whole record trimmed of spaces, when it
// is a sample in slog's form; ok is false otherwise, with c left for the
// caller to reset.
func decodeSampleFast(obj []byte, c *SampleCounts) (d Decoded, ok bool) {
	p := fastScan{b: obj}
	var e Sample
	var seen uint64
	var timeStr, msg []byte
	var running, waiting int64
	once := func(bit uint64) bool {
		if seen&bit != 0 {
			return false
		}
		seen |= bit
		return true
	}
	if !p.next('{') {
		return d, false
	}
	for {
		key, ok := p.str()
		if !ok || !p.next(':') {
			return d, false
		}
		var n int64
		var f float64
		switch string(key) {
		case "time":
			timeStr, ok = p.str()
			ok = ok && once(fTime)
		case "level":
			var l []byte
			l, ok = p.str()
			d.Level = parseLevel(unsafe.String(unsafe.SliceData(l), len(l)))
			ok = ok && once(fLevel)
		case "msg":
			msg, ok = p.str()
			ok = ok && once(fMsg)
		case "v":
			n, ok = p.int(true)
			d.V = int(n)
			ok = ok && once(fV)
		case "rss_bytes":
			n, ok = p.int(false)
			e.RSSBytes = uint64(n)
			ok = ok && once(fRSS)
		case "sessions":
			n, ok = p.int(true)
			e.Sessions = int(n)
			ok = ok && once(fSessions)
		case "goroutines":
			n, ok = p.int(true)
			e.Goroutines = int(n)
			ok = ok && once(fGoroutines)
		case "gor_runnable":
			n, ok = p.int(true)
			e.Runnable = int(n)
			ok = ok && once(fRunnable)
		case "gor_running":
			running, ok = p.int(true)
			ok = ok && once(fRunning)
		case "gor_waiting":
			waiting, ok = p.int(true)
			ok = ok && once(fWaiting)
		case "heap_bytes":
			n, ok = p.int(false)
			e.HeapBytes = uint64(n)
			ok = ok && once(fHeap)
		case "gc_cycles":
			e.GCCycles, ok = p.int(true)
			ok = ok && once(fGCCycles)
		case "gc_pause_ms":
			f, ok = p.float()
			e.GCPause = FromMillis(f)
			ok = ok && once(fGCPause)
		case "gc_pause_max_ms":
			f, ok = p.float()
			e.GCPauseMax = FromMillis(f)
			ok = ok && once(fGCPauseMax)
		case "sched_p50_ms":
			f, ok = p.float()
			e.SchedP50 = FromMillis(f)
			ok = ok && once(fSchedP50)
		case "sched_p99_ms":
			f, ok = p.float()
			e.SchedP99 = FromMillis(f)
			ok = ok && once(fSchedP99)
		case "sched_max_ms":
			f, ok = p.float()
			e.SchedMax = FromMillis(f)
			ok = ok && once(fSchedMax)
		case "mutex_wait_ms_per_s":
			f, ok = p.float()
			e.MutexWaitPerSec = f / 1000
			ok = ok && once(fMutex)
		case "cpu":
			ok = once(fCPU) && p.cpu(&e.CPU, c, once)
		case "gor":
			c.Gor, ok = p.counts(c.Gor)
			c.gorObj = true
			ok = ok && once(fGor)
		default:
			ok = p.scalar()
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
	if p.i != len(p.b) || seen&(fTime|fMsg|fV) != fTime|fMsg|fV || string(msg) != KindSample || d.V == 0 {
		return d, false
	}
	t, err := time.Parse(time.RFC3339Nano, unsafe.String(unsafe.SliceData(timeStr), len(timeStr)))
	if err != nil {
		return d, false
	}
	if seen&fRunnable != 0 {
		e.Running, e.Waiting = int(running), int(waiting)
	} else {
		e.Runnable, e.Running, e.Waiting = -1, -1, -1
	}
	c.CPU, c.Gor = uniqueCounts(c.CPU), uniqueCounts(c.Gor)
	d.Time, d.Kind, d.Event = t, KindSample, e
	return d, true
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
		for _, lit := range []string{"true", "false", "null"} {
			if bytes.HasPrefix(p.b[p.i:], []byte(lit)) {
				p.i += len(lit)
				return true
			}
		}
		return false
	}
	return p.number()
}

// cpu reads a sample's CPU window, its sessions into c.
func (p *fastScan) cpu(w *CPUWindow, c *SampleCounts, once func(uint64) bool) bool {
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
		var f float64
		switch string(key) {
		case "dur_ms":
			f, ok = p.float()
			w.Duration = FromMillis(f)
			ok = ok && once(fDur)
		case "period_ms":
			f, ok = p.float()
			w.Period = FromMillis(f)
			ok = ok && once(fPeriod)
		case "total":
			w.Total, ok = p.int(true)
			ok = ok && once(fTotal)
		case "unlabelled":
			w.Unlabelled, ok = p.int(true)
			ok = ok && once(fUnlabelled)
		case "unavailable":
			var s []byte
			s, ok = p.str()
			w.Unavailable = string(s)
			ok = ok && once(fUnavailable)
		case "sessions":
			c.CPU, ok = p.counts(c.CPU)
			c.cpuObj = true
			ok = ok && once(fCPUSessions)
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
