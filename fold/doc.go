// Package fold turns a stream of events into the state of a worker at a
// moment: the header (RSS, live sessions, CPU, scheduling latency, GC) and one
// row per session, with OpenRTC's field names and meanings.
//
// It is the one definition of mem_mb, peak_mb, cpu_pct, cpu_seconds and
// status. The live introspector folds the typed events it emits
// ([State.Apply]) and serves the result on its socket; openrtc-replay folds
// the JSON lines of a recording up to the moment asked for
// ([State.ApplyLine], [ReadReport]). Lines are decoded without building a
// sample's per-session maps (events.DecodeCounts), but both paths reach the
// same code, so replay shows exactly what live showed.
//
//	s := fold.New()
//	for each record { s.ApplyLine(line) }
//	v := s.View(at)          // the top view at time at
//	fold.SortRows(v.Sessions, fold.SortMem)
//
// A State also implements the recorder's Keyframer: the recorder feeds it
// every line it writes and asks it for a keyframe, the full state, that a
// reader can start folding from.
package fold
