package fold

import (
	"unsafe"

	"github.com/tidwall/gjson"
)

// Agrees reports whether the keyframe in line describes the state s already
// holds: same worker, same number of live sessions, same counts of sessions
// started and stalls seen. A scan that folded every record before the
// keyframe gets true and may skip it; decoding a keyframe of a thousand
// sessions costs more than folding a minute of samples. After a gap (a
// corrupt frame, dropped events, a missing file) the counts differ and the
// keyframe must be applied to repair the state.
//
// It reads only the keyframe's first fields, never its session list.
func (s *State) Agrees(line []byte) bool {
	if s.now.IsZero() || len(line) == 0 {
		return false // nothing folded yet: the keyframe is the state
	}
	str := unsafe.String(&line[0], len(line))
	// "worker" and "live" come before "sessions" in a keyframe record, so
	// gjson stops long before the bulk of the line.
	r := gjson.GetMany(str, "worker.name", "worker.sessions_started", "worker.stalls", "live")
	return r[0].Str == s.worker.Name &&
		r[1].Int() == s.worker.Begun &&
		r[2].Int() == s.worker.Stalls &&
		r[3].Exists() && int(r[3].Int()) == len(s.sessions)
}
