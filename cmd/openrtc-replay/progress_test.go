package main

import (
	"strings"
	"testing"
	"time"
)

func TestProgress(t *testing.T) {
	first := time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC)
	var out strings.Builder
	p := &progress{w: &out, on: true, what: "reading", first: first, last: first.Add(time.Hour),
		started: time.Now().Add(-time.Second)}
	p.update(first.Add(30 * time.Minute))
	if !strings.Contains(out.String(), "reading [") || !strings.Contains(out.String(), " 50% ") {
		t.Errorf("bar %q", out.String())
	}
	p.update(first.Add(45 * time.Minute)) // within progressEvery of the last draw: not drawn
	if strings.Contains(out.String(), "75%") {
		t.Errorf("redrawn too soon: %q", out.String())
	}
	p.done()
	if !strings.HasSuffix(out.String(), "\r\x1b[K") {
		t.Errorf("bar not erased: %q", out.String())
	}

	// Not a terminal, or a scan that ends at once: nothing at all.
	out.Reset()
	quiet := &progress{w: &out, on: false, first: first, last: first.Add(time.Hour), started: time.Now().Add(-time.Second)}
	quiet.update(first.Add(time.Minute))
	quiet.done()
	quick := &progress{w: &out, on: true, first: first, last: first.Add(time.Hour), started: time.Now()}
	quick.update(first.Add(time.Minute))
	quick.done()
	if out.Len() != 0 {
		t.Errorf("drew %q", out.String())
	}
}
