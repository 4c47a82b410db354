package introspect

import (
	"sync"
	"time"

	"github.com/openrtc-go/introspect/sampler"
	"github.com/openrtc-go/introspect/stall"
)

// cpuHistoryKeep is how far back the CPU history reaches: further than any
// hold's final report waits for its samples.
const cpuHistoryKeep = 2 * time.Minute

// cpuHistory keeps the latest CPU windows, so the watchdog can ask what the
// profiler saw while a hold lasted (who ran, and whether the holder did),
// and a scheduler stall can be blamed on who ran while it lasted.
type cpuHistory struct {
	mu   sync.Mutex
	wins []sampler.CPUWindow // sampled windows, oldest first
	lags []stall.SchedLag    // the scheduler probe's lags, oldest first
	// lagsUntil is when the probe's lags were last taken: lags up to
	// then are known.
	lagsUntil time.Time
}

// lagsTaken notes that the probe's lags up to t are in.
func (h *cpuHistory) lagsTaken(t time.Time) {
	h.mu.Lock()
	h.lagsUntil = t
	h.mu.Unlock()
}

// addLag keeps a lag the scheduler probe measured; a later report of the
// same lag (ongoing, then ended) replaces the earlier.
func (h *cpuHistory) addLag(l stall.SchedLag) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if n := len(h.lags); n > 0 && h.lags[n-1].ID == l.ID {
		h.lags[n-1] = l
		return
	}
	h.lags = append(h.lags, l)
	cut := l.End.Add(-cpuHistoryKeep)
	i := 0
	for i < len(h.lags) && h.lags[i].End.Before(cut) {
		i++
	}
	if i > 0 {
		h.lags = append(h.lags[:0], h.lags[i:]...)
	}
}

// add keeps a window the CPU sampler delivered.
func (h *cpuHistory) add(w sampler.CPUWindow) {
	if w.Unavailable != "" || w.Duration <= 0 {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.wins = append(h.wins, w)
	cut := w.Start.Add(-cpuHistoryKeep)
	i := 0
	for i < len(h.wins) && h.wins[i].Start.Add(h.wins[i].Duration).Before(cut) {
		i++
	}
	if i > 0 {
		h.wins = append(h.wins[:0], h.wins[i:]...)
	}
}

// seen adds up the windows that overlap [from, to], each counted whole: a
// profile has no time on its samples.
func (h *cpuHistory) seen(from, to time.Time) stall.CPUSeen {
	h.mu.Lock()
	defer h.mu.Unlock()
	var s stall.CPUSeen
	for _, w := range h.wins {
		end := w.Start.Add(w.Duration)
		lo, hi := maxTime(from, w.Start), minTime(to, end)
		if !hi.After(lo) && !(from.Equal(to) && !from.Before(w.Start) && !from.After(end)) {
			continue
		}
		s.Covered += hi.Sub(lo)
		s.Period = w.Period
		s.Total += w.Total
		for id, n := range w.BySession {
			if s.BySession == nil {
				s.BySession = make(map[string]int64)
			}
			s.BySession[id] += n
		}
		for id, n := range w.ByHold {
			if s.ByHold == nil {
				s.ByHold = make(map[string]int64)
			}
			s.ByHold[id] += n
		}
	}
	for _, l := range h.lags {
		if lo, hi := maxTime(from, l.Start), minTime(to, l.End); hi.After(lo) {
			s.Lagged += hi.Sub(lo)
		}
	}
	s.Lagged = min(s.Lagged, to.Sub(from))
	s.LagsUntil = h.lagsUntil
	return s
}

// top returns the line where session's samples landed most in the window
// that overlaps [from, to] and holds the most of them, or "".
func (h *cpuHistory) top(session string, from, to time.Time) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var best string
	var most int64
	for _, w := range h.wins {
		if w.Start.After(to) || w.Start.Add(w.Duration).Before(from) {
			continue
		}
		if n := w.BySession[session]; n > most && len(w.Top[session]) > 0 {
			best, most = w.Top[session][0].String(), n
		}
	}
	return best
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
