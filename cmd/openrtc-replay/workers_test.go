package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSeveralWorkers: a directory, or a list, holding two workers'
// recordings is not stitched into one time line (issue 12, F4): every
// command that reads inputs asks for --worker, listing the workers, and
// reads the one chosen.
func TestSeveralWorkers(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"normal.zst", "stalls.zst"} {
		b, err := os.ReadFile(fixture(name))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, name), b)
	}
	for _, args := range [][]string{
		{"summary", dir},
		{"summary", fixture("normal.zst"), fixture("stalls.zst")},
		{"top", "--json", dir},
		{"slow", dir},
		{"sessions", dir},
		{"export", dir},
		{dir},
	} {
		r := runArgs(t, args...)
		oneLineErr(t, r, exitBadArgs, "choose one with --worker")
		for _, w := range []string{"w1@fixture-host", "w2@fixture-host"} {
			if !strings.Contains(r.err, w) {
				t.Errorf("%v: the error does not list %s: %q", args, w, r.err)
			}
		}
	}

	r := runArgs(t, "summary", "--worker", "w2", dir)
	if r.code != exitOK || !strings.Contains(r.out, "look: openrtc-replay top --at 2026-11-27T03:20:31.250Z --worker w2 "+dir) || strings.Contains(r.out, "job-a1") {
		t.Errorf("summary --worker w2: exit %d\n%s\n%s", r.code, r.out, r.err)
	}
	want := runArgs(t, "summary", fixture("stalls.zst"))
	body := func(s string) string { // the worker's figures, without the input names
		_, s, _ = strings.Cut(s, "\nworker\n")
		s, _, _ = strings.Cut(s, "\nfindings")
		return s
	}
	if body(r.out) == "" || body(r.out) != body(want.out) {
		t.Errorf("summary --worker w2 of the directory differs from summary of stalls.zst:\n%s\nwant\n%s", r.out, want.out)
	}
	r = runArgs(t, "summary", "--worker", "w9", dir)
	oneLineErr(t, r, exitBadArgs, "no such worker")
	r = runArgs(t, "summary", "--worker", "w9", fixture("normal.zst"))
	oneLineErr(t, r, exitBadArgs, "no such worker")
	// One worker's rotated files are one worker: no --worker needed.
	if r := runArgs(t, "summary", fixture("rotated")); r.code != exitOK {
		t.Errorf("summary of rotated/: exit %d: %s", r.code, r.err)
	}
}
