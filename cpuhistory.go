package introspect

import (
	"slices"
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
		s.Windows += w.Duration
		s.Last = maxTime(s.Last, end)
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
			s.LagWorst = max(s.LagWorst, l.Worst)
		}
	}
	s.Lagged = min(s.Lagged, to.Sub(from))
	s.LagsUntil = h.lagsUntil
	return s
}

// usualOver is how far back a session's usual CPU rate is taken from.
const usualOver = time.Minute

// usual returns each session's usual CPU rate before t: the median, over
// the windows that ended before t back to usualOver before it, of the
// samples per second it held in each. What a session uses when nothing is
// the matter, for a scheduler stall to be blamed on whoever rose above it. A
// median, not a mean: a session that surged once before (an earlier stall),
// or a worker still ramping up, does not move it.
func (h *cpuHistory) usual(t time.Time) stall.CPUUsual {
	h.mu.Lock()
	defer h.mu.Unlock()
	var u stall.CPUUsual
	wins := h.before(t)
	if len(wins) == 0 {
		return u
	}
	u.PerSecond = make(map[string]float64)
	rates := make([]float64, len(wins))
	for _, w := range wins {
		u.Over += w.Duration
		for id := range w.BySession {
			if _, done := u.PerSecond[id]; done {
				continue
			}
			for k, v := range wins {
				rates[k] = float64(v.BySession[id]) / v.Duration.Seconds()
			}
			slices.Sort(rates)
			u.PerSecond[id] = rates[len(rates)/2]
		}
	}
	return u
}

// usualKey names the windows usual(t) reads: the first's and the last's
// start. Lags with the same key have the same usual rates.
func (h *cpuHistory) usualKey(t time.Time) [2]time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	wins := h.before(t)
	if len(wins) == 0 {
		return [2]time.Time{}
	}
	return [2]time.Time{wins[0].Start, wins[len(wins)-1].Start}
}

// before returns the windows that ended by t, back to usualOver before it,
// oldest first: the windows a session's usual rate is read from. h.mu must
// be held.
func (h *cpuHistory) before(t time.Time) []sampler.CPUWindow {
	from := t.Add(-usualOver)
	lo := slices.IndexFunc(h.wins, func(w sampler.CPUWindow) bool { return !w.Start.Before(from) })
	if lo < 0 {
		return nil
	}
	hi := lo
	for hi < len(h.wins) && !h.wins[hi].Start.Add(h.wins[hi].Duration).After(t) {
		hi++
	}
	return h.wins[lo:hi]
}

// after returns each session's CPU samples per second in the window that
// began when the windows ending at t ended, or nil if it has not come.
func (h *cpuHistory) after(t time.Time) map[string]float64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, w := range h.wins {
		// Windows follow each other back to back; a few milliseconds
		// of stopping and restarting the profiler lie between. One that
		// ends by t is one of those that end at t, however short.
		if w.Start.Before(t.Add(-250*time.Millisecond)) || !w.Start.Add(w.Duration).After(t) {
			continue
		}
		rates := make(map[string]float64, len(w.BySession))
		for id, n := range w.BySession {
			rates[id] = float64(n) / w.Duration.Seconds()
		}
		return rates
	}
	return nil
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
