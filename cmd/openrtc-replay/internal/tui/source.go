package tui

import (
	"time"

	"github.com/openrtc-go/introspect/fold"
)

// A Source is what the screen shows: a moment of a recording that can be
// moved, or a running worker (see [LiveSource]). A [*fold.Cursor] is a
// Source as it is.
//
// The screen calls a Source from one goroutine at a time, except Stalls
// (see below). Errors are shown on the screen's status line and the screen
// goes on, so a Source should wrap them with enough context to be read
// there.
type Source interface {
	// View returns the top view at the current moment. The screen calls
	// it once after each move and keeps the result, so it may be costly.
	// The screen sorts and filters a copy of the rows and never modifies
	// the view.
	View() fold.View

	// Span returns the time of the first and last record. A live source
	// returns zero times.
	Span() (first, last time.Time)

	// Next moves to the next sample (the t key) and Prev to the previous
	// one (T). They report false when there is none, and then the view
	// stays (or reaches the last record).
	Next() (bool, error)
	Prev() (bool, error)

	// Seek moves to the moment t, clamped to the span (the j, J, g, G and
	// [ ] keys, and playback). A source that can only stop on samples may
	// stop at the last sample at or before t; the screen copes.
	Seek(t time.Time) error

	// Stalls returns every stall of the recording in time order (of At).
	// On a long recording the first call may scan all of it, so the
	// screen calls it once, on a goroutine of its own that may run while
	// the other methods are called: it must be safe for that. A live
	// source's stalls are asked for again after each refresh, under the
	// usual one-at-a-time rule. The screen does not modify the slice.
	Stalls() ([]fold.Stall, error)

	// Timeline returns the life of a session of the current view, for
	// drill-down (enter). It may take a while on a long life; the screen
	// calls it off its drawing path and shows that it is loading.
	Timeline(id string) (fold.Timeline, error)
}

// A LiveSource is a Source that is a running worker, such as a [Poller].
// The screen refreshes it at the refresh rate and on the r key, off its
// drawing path, and turns the time keys off: Next, Prev and Seek are never
// called.
type LiveSource interface {
	Source
	// Refresh fetches the worker's current view.
	Refresh() error
}

// A FindingsSource is a Source that knows what needs attention: the
// findings the screen lists under its header, each with the session and
// the moment to jump to. A [*fold.Cursor] gives the whole recording's
// (those of the summary command) and a [Poller] the live view's
// ([fold.ViewFindings]).
//
// Like Stalls, Findings is called once for a recording, on a goroutine of
// its own, and after each refresh of a live source.
type FindingsSource interface {
	Findings() ([]fold.Finding, error)
}
