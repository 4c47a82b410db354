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
//
// Over a recording opened with recorder.Open:
//
//   - [StateAt] is the state at a moment: the nearest keyframe at or before
//     it, folded forward, never the file from its start.
//   - A [Cursor] steps through a recording as the interactive top does:
//     forward by folding only the new records, backward by reloading from a
//     keyframe, to the previous or next stall, and into one session's
//     [Timeline].
//   - [ReadReport] folds a whole recording once for the per-session report
//     (`openrtc-replay sessions`) and the post-mortem [Summary], whose
//     findings name the runbook section they point to.
package fold
