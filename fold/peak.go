package fold

import "sort"

// shareSeries is the memory share (RSS / live sessions) of every sample, the
// one series every live session's peak_mb is the maximum of. Rather than
// raising the peak of a thousand sessions at every sample, the fold keeps
// the series' suffix maxima and works a session's peak out when it is
// asked for (a row, a keyframe, the session's end): the highest share since
// the session joined is the first suffix maximum after that sample.
type shareSeries struct {
	n     int64        // samples pushed; the latest is number n
	stack []shareEntry // suffix maxima: numbers rising, shares falling
}

type shareEntry struct {
	i     int64
	share uint64
}

// maxShareStack bounds the stack, which only grows while shares keep
// falling: past it the live sessions' peaks are settled and it restarts.
const maxShareStack = 4096

// push adds the share of the next sample.
func (p *shareSeries) push(share uint64) {
	p.n++
	k := len(p.stack)
	for k > 0 && p.stack[k-1].share <= share {
		k--
	}
	p.stack = append(p.stack[:k], shareEntry{p.n, share})
}

// maxAfter returns the highest share of the samples after number i, 0
// when there is none.
func (p *shareSeries) maxAfter(i int64) uint64 {
	k := sort.Search(len(p.stack), func(k int) bool { return p.stack[k].i > i })
	if k == len(p.stack) {
		return 0
	}
	return p.stack[k].share
}

// pushShare adds a sample's share to the peaks of the live sessions.
func (s *State) pushShare(share uint64) {
	if len(s.peaks.stack) >= maxShareStack {
		for _, ss := range s.sessions {
			ss.PeakBytes, ss.joined = s.peakOf(ss), s.peaks.n
		}
		s.peaks.stack = s.peaks.stack[:0]
	}
	s.peaks.push(share)
}

// peakOf returns the highest memory share of a session so far.
func (s *State) peakOf(ss *session) uint64 {
	if !ss.end.IsZero() {
		return ss.PeakBytes
	}
	return max(ss.PeakBytes, s.peaks.maxAfter(ss.joined))
}
