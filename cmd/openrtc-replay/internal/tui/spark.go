package tui

import (
	"sort"
	"strings"
	"time"

	"github.com/openrtc-go/introspect/fold"
)

// sparkLevels are the bars of a sparkline: a blank for zero, so that a
// little is told apart from nothing.
var sparkLevels = []rune(" ▁▂▃▄▅▆▇█")

// sparkline draws vals in at most w cells, scaled to top. When there are
// more values than cells, each cell shows the highest of its values: a
// spike must not vanish by averaging.
func sparkline(vals []float64, w int, top float64) string {
	if w <= 0 || len(vals) == 0 {
		return ""
	}
	n := min(len(vals), w)
	var b strings.Builder
	b.Grow(n * 3)
	for i := range n {
		lo, hi := i*len(vals)/n, (i+1)*len(vals)/n
		v := vals[lo]
		for _, x := range vals[lo:hi] {
			v = max(v, x)
		}
		b.WriteRune(sparkRune(v, top))
	}
	return b.String()
}

func sparkRune(v, top float64) rune {
	if !(v > 0) || !(top > 0) {
		return sparkLevels[0]
	}
	i := 1 + int(v/top*float64(len(sparkLevels)-2)+0.5)
	return sparkLevels[min(max(i, 1), len(sparkLevels)-1)]
}

// A cell of the timeline strip.
type cell uint8

const (
	cellTrack  cell = iota // nothing happened here
	cellStall              // one or more stalls
	cellCursor             // the moment shown
)

// timelineCells maps a time range onto w cells, marking the stalls and the
// cursor. It costs O(w log stalls), not O(stalls).
func timelineCells(w int, start, end, cur time.Time, stalls []fold.Stall) []cell {
	cells := make([]cell, w)
	span := end.Sub(start)
	pos := func(t time.Time) int {
		if span <= 0 {
			return 0
		}
		return min(max(int(float64(t.Sub(start))/float64(span)*float64(w)), 0), w-1)
	}
	// One binary search per cell rather than a pass over every stall: a
	// day's recording may hold many thousands.
	for i := range w {
		lo := start.Add(time.Duration(float64(span) * float64(i) / float64(w)))
		hi := start.Add(time.Duration(float64(span) * float64(i+1) / float64(w)))
		j := sort.Search(len(stalls), func(k int) bool { return !stalls[k].At.Before(lo) })
		if j < len(stalls) && (stalls[j].At.Before(hi) || (i == w-1 && !stalls[j].At.After(end))) {
			cells[i] = cellStall
		}
	}
	cells[pos(cur)] = cellCursor
	return cells
}

// renderCells draws the strip, styling runs of like cells at once.
func renderCells(cells []cell) string {
	var b strings.Builder
	for i := 0; i < len(cells); {
		j := i
		for j < len(cells) && cells[j] == cells[i] {
			j++
		}
		switch cells[i] {
		case cellTrack:
			b.WriteString(styleDim.Render(strings.Repeat("─", j-i)))
		case cellStall:
			b.WriteString(styleStall.Render(strings.Repeat("▲", j-i)))
		case cellCursor:
			b.WriteString(styleCursor.Render(strings.Repeat("●", j-i)))
		}
		i = j
	}
	return b.String()
}

// sparkRange draws vals in at most w cells scaled from lo to their highest
// value; lo < 0 means from their lowest. A series that does not move is
// drawn flat, one bar high (blank when it is zero), rather than as full
// bars: a constant 1 goroutine is not a wall.
func sparkRange(vals []float64, w int, lo float64) string {
	if w <= 0 || len(vals) == 0 {
		return ""
	}
	hi, low := vals[0], vals[0]
	for _, v := range vals {
		hi, low = max(hi, v), min(low, v)
	}
	if lo < 0 {
		lo = low
	}
	n := min(len(vals), w)
	var b strings.Builder
	for i := range n {
		a, z := i*len(vals)/n, (i+1)*len(vals)/n
		v := vals[a]
		for _, x := range vals[a:z] {
			v = max(v, x)
		}
		switch {
		case !(v > 0):
			b.WriteRune(sparkLevels[0])
		case hi <= lo:
			b.WriteRune(sparkLevels[1])
		default:
			k := 1 + int((v-lo)/(hi-lo)*float64(len(sparkLevels)-2)+0.5)
			b.WriteRune(sparkLevels[min(max(k, 1), len(sparkLevels)-1)])
		}
	}
	return b.String()
}
