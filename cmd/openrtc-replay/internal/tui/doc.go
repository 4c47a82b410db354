// Package tui is the interactive terminal screen of openrtc-replay: the
// historical top of a recording and the live top of a running worker, one
// screen for both.
//
// The screen shows what a [Source] gives it and computes nothing of its own:
// the rows, the header and the statuses are the fold's (see
// github.com/openrtc-go/introspect/fold), sorted with [fold.SortRows] and
// filtered with [fold.FilterRows]. A recording cursor and a live socket
// poller are both Sources; the command layer builds one and calls [Run]:
//
//	err := tui.Run(ctx, src, tui.Options{Sort: fold.SortCPU})
//
// For a live worker, [NewPoller] turns a function that fetches the current
// view into a Source that also remembers each session's recent history, so
// that drill-down works live too.
//
// The keys are OpenRTC's (q, r, s, f) and below's and atop's time keys (t, T,
// j, J, [, ], g, G, space, +, -); ? shows them all on screen.
package tui
