package main

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// Progress bar timing: nothing for a scan that ends within progressDelay,
// then at most one redraw per progressEvery.
const (
	progressDelay = 300 * time.Millisecond
	progressEvery = 100 * time.Millisecond
	progressWidth = 30
)

// progress draws a bar on standard error while a long scan runs, from the
// time of the record the scan has reached. It draws only on a terminal:
// scripts and logs see nothing.
type progress struct {
	w           io.Writer
	on          bool
	what        string
	first, last time.Time
	started     time.Time
	drawn       time.Time // last redraw; zero before the first
}

// newProgress returns a bar for a scan of in, labelled what.
func (a *app) newProgress(in *input, what string) *progress {
	return &progress{w: a.err, on: a.errTTY, what: what, first: in.first, last: in.last, started: time.Now()}
}

// update moves the bar to the record time t. It is the callback the fold's
// scans take.
func (p *progress) update(t time.Time) {
	if !p.on {
		return
	}
	now := time.Now()
	if now.Sub(p.started) < progressDelay || now.Sub(p.drawn) < progressEvery {
		return
	}
	p.drawn = now
	frac := 0.0
	if span := p.last.Sub(p.first); span > 0 {
		frac = min(1, max(0, float64(t.Sub(p.first))/float64(span)))
	}
	n := int(frac * progressWidth)
	fmt.Fprintf(p.w, "\r%s [%s%s] %3.0f%% ", p.what, strings.Repeat("█", n), strings.Repeat("░", progressWidth-n), 100*frac)
}

// done erases the bar, if it was drawn.
func (p *progress) done() {
	if p.on && !p.drawn.IsZero() {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
}
