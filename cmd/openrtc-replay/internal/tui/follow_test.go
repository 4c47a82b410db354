package tui

import (
	"io"
	"strings"
	"testing"
)

// growing is a recording that is still being written: each reopen sees
// more of the scenario's lines, and the sources it hands out are closed.
type growing struct {
	t      *testing.T
	lines  [][]byte
	n      int // lines written so far
	opened []*closingSource
}

type closingSource struct {
	*foldSource
	closed bool
}

var _ io.Closer = (*closingSource)(nil)

func (c *closingSource) Close() error { c.closed = true; return nil }

func (g *growing) write(n int) { g.n = min(g.n+n, len(g.lines)) }

func (g *growing) reopen() (Source, error) {
	s := &closingSource{foldSource: newFoldSource(g.t, g.lines[:g.n])}
	g.opened = append(g.opened, s)
	return s, nil
}

// TestReopenAndFollow: r reopens the recording (its new end is reachable),
// F follows its end as it grows and any move by hand stops following;
// replaced sources are closed.
func TestReopenAndFollow(t *testing.T) {
	lines := jsonLines(t, scenario())
	g := &growing{t: t, lines: lines}
	g.write(len(lines) / 3)
	first, _ := g.reopen()
	h := newHarness(t, first, Options{Reopen: g.reopen})
	_, end := h.m.src.Span()
	h.press("G")
	before := h.m.view.Time

	g.write(len(lines) / 3)
	h.press("G")
	if !h.m.view.Time.Equal(before) {
		t.Fatalf("G without r moved to %s: the old recording holds nothing new", h.m.view.Time)
	}
	h.press("r")
	if !strings.Contains(h.last(), "reopened: the recording now ends at") {
		t.Errorf("r: %q", h.last())
	}
	if _, e := h.m.src.Span(); !e.After(end) {
		t.Fatalf("after r the recording still ends at %s", e)
	}
	if !h.m.view.Time.Equal(before) {
		t.Errorf("r moved the moment shown to %s from %s", h.m.view.Time, before)
	}
	h.press("G")
	if !h.m.view.Time.After(before) {
		t.Errorf("G after r stayed at %s", h.m.view.Time)
	}

	h.press("F")
	h.contains("following")
	g.write(len(lines))
	h.send(followTickMsg{})
	if _, e := h.m.src.Span(); !h.m.view.Time.Equal(e) || !e.Equal(at(120)) {
		t.Errorf("following: at %s, the recording ends at %s", h.m.view.Time, e)
	}
	h.press("T")
	if h.m.following || !strings.Contains(h.last(), "stopped following") {
		t.Errorf("T did not stop following: %q", h.last())
	}
	h.lacks("following ·")
	for _, s := range g.opened[:len(g.opened)-1] {
		if !s.closed && Source(s) != first {
			t.Errorf("a replaced source was not closed")
		}
	}
}
