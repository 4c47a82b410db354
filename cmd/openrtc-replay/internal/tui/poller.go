package tui

import (
	"fmt"
	"time"

	"github.com/openrtc-go/introspect/fold"
)

// PollerHistory is how many polls of each session a [Poller] remembers for
// drill-down: five minutes at the default refresh rate of 1 Hz.
const PollerHistory = 300

// A Poller is a [LiveSource] over a function that fetches a running
// worker's current view, such as a read of its snapshot socket. It keeps
// the recent values of every session in view, so that drill-down shows a
// live session's last minutes; it forgets a session when it leaves the
// view, so its memory is bounded by the sessions in view times
// [PollerHistory]. A worker's socket serves no stall frames: a Poller has
// no stalls, and drill-down points to the recording for them.
type Poller struct {
	fetch func() (fold.View, PollInfo, error)
	view  fold.View
	info  PollInfo
	hist  map[string][]fold.TimelinePoint // oldest first, at most PollerHistory
}

// PollInfo is what a fetch knows of the process that answered, beside its
// view: the screen's header says when a new process answers.
type PollInfo struct {
	PID int // the process that served the view; 0 when unknown
	// Restarted reports that another process answered than the time
	// before (another pid, an uptime that went back).
	Restarted bool
	// PrevPID is the process that answered before a restart; 0 when
	// unknown.
	PrevPID int
}

// NewPollerInfo is [NewPoller] with a fetch that also says which process
// answered, such as live.Reader's.
func NewPollerInfo(fetch func() (fold.View, PollInfo, error)) (*Poller, error) {
	p := &Poller{fetch: fetch, hist: make(map[string][]fold.TimelinePoint)}
	if err := p.Refresh(); err != nil {
		return nil, err
	}
	p.info.Restarted = false // the first answer restarts nothing
	return p, nil
}

// Info returns what the latest fetch said of the process that answered.
func (p *Poller) Info() PollInfo { return p.info }

// NewPoller fetches the first view with fetch and returns a Poller that
// fetches again on each Refresh. It returns fetch's error when the first
// fetch fails, so that a command can tell "no worker" before it takes over
// the terminal.
func NewPoller(fetch func() (fold.View, error)) (*Poller, error) {
	return NewPollerInfo(func() (fold.View, PollInfo, error) {
		v, err := fetch()
		return v, PollInfo{}, err
	})
}

// Refresh fetches the current view and records each session's values.
func (p *Poller) Refresh() error {
	v, info, err := p.fetch()
	if err != nil {
		return err
	}
	if info.Restarted && info.PrevPID == 0 {
		info.PrevPID = p.info.PID
	}
	if info.Restarted {
		clear(p.hist) // the old process's sessions are gone with it
	}
	p.view, p.info = v, info
	seen := make(map[string]bool, len(v.Sessions))
	for _, r := range v.Sessions {
		seen[r.SessionID] = true
		pt := fold.TimelinePoint{At: v.Time, CPUPct: r.CPUPct, MemMB: r.MemMB, Goroutines: -1}
		if r.Goroutines != nil {
			pt.Goroutines = *r.Goroutines
		}
		h := p.hist[r.SessionID]
		if n := len(h); n > 0 && !v.Time.After(h[n-1].At) {
			continue // the worker has not sampled since the last poll
		}
		if len(h) == PollerHistory {
			h = append(h[:0], h[1:]...)
		}
		p.hist[r.SessionID] = append(h, pt)
	}
	for id := range p.hist {
		if !seen[id] {
			delete(p.hist, id)
		}
	}
	return nil
}

// View returns the latest view fetched.
func (p *Poller) View() fold.View { return p.view }

// Span returns zero times: a live worker has no range.
func (p *Poller) Span() (first, last time.Time) { return time.Time{}, time.Time{} }

// Next does nothing: a live worker has only the present.
func (p *Poller) Next() (bool, error) { return false, nil }

// Prev does nothing: a live worker has only the present.
func (p *Poller) Prev() (bool, error) { return false, nil }

// Seek does nothing: a live worker has only the present.
func (p *Poller) Seek(time.Time) error { return nil }

// Stalls returns none: the worker's socket serves no stall frames.
func (p *Poller) Stalls() ([]fold.Stall, error) { return nil, nil }

// Timeline returns the session's row and its values over the polls since
// it came into view (at most [PollerHistory]).
func (p *Poller) Timeline(id string) (fold.Timeline, error) {
	for _, r := range p.view.Sessions {
		if r.SessionID == id {
			pts := append([]fold.TimelinePoint(nil), p.hist[id]...)
			return fold.Timeline{Row: r, Points: pts}, nil
		}
	}
	return fold.Timeline{}, fmt.Errorf("session %s is no longer in the worker's view", id)
}

// Findings returns what needs attention in the latest view
// ([fold.ViewFindings]).
func (p *Poller) Findings() ([]fold.Finding, error) { return fold.ViewFindings(p.view), nil }
