package fold

import (
	"time"

	"github.com/openrtc-go/introspect/recorder"
)

// OtherKind is the kind [CountKinds] gives lines that are not events of
// ours: an application's own log records.
const OtherKind = "other"

// CountKinds reads every record of sc and counts them by file (the File of
// their position) and event kind, without decoding them: what a
// verification reports. progress, when not nil, is called now and then
// with the time of the record reached.
func CountKinds(sc *recorder.Scanner, progress func(time.Time)) (map[int]map[string]int64, error) {
	out := make(map[int]map[string]int64)
	var n int
	for sc.Next() {
		r := sc.Record()
		if n++; progress != nil && n%progressEvery == 0 {
			progress(r.Time)
		}
		m := out[r.Pos.File]
		if m == nil {
			m = make(map[string]int64)
			out[r.Pos.File] = m
		}
		kind := KindOf(r.Line)
		if kind == "" {
			kind = OtherKind
		}
		m[kind]++
	}
	return out, sc.Err()
}
