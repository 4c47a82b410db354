// Package tui is the interactive terminal screen of openrtc-replay: the
// historical top of a recording and the live top of a running worker, one
// screen for both.
//
// The screen shows what a [Source] gives it and computes nothing of its own:
// the rows, the header and the statuses are the fold's (see
// github.com/openrtc-go/introspect/fold), sorted with [fold.SortRows] and
// filtered with [fold.FilterRows]. A [*fold.Cursor] on a recording is a
// Source as it is; for a running worker, [NewPoller] turns a function that
// fetches the worker's current view into a [LiveSource]:
//
//	cur, err := fold.NewCursorAt(set, at)
//	...
//	err = tui.Run(ctx, cur, tui.Options{Sort: fold.SortCPU, Title: "rec.zst"})
//
// The keys are OpenRTC's (q, r, s, f) and below's and atop's time keys (t, T,
// j, J, [, ], g, G, space, +, -); ? shows them all on screen.
//
// Drawing a frame costs the same for ten sessions or ten thousand: only the
// rows on screen are formatted. Filtering and sorting every row happens once
// per move of the cursor or change of sort or filter, and reading a
// recording's stalls or a session's timeline runs off the drawing path.
package tui
