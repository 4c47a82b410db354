package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/openrtc-go/introspect/cmd/openrtc-replay/internal/tui"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// fixture is the path of a committed fixture, as the tests pass it.
func fixture(name string) string { return filepath.Join("..", "..", "fixtures", name) }

// result is what one in-process run printed and returned.
type result struct {
	out, err string
	code     int
}

// syncBuffer is a bytes.Buffer safe to read while a run writes to it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// testStdio is a run's stdio over buffers: not terminals, and an
// interactive screen that fails the test if a command reaches it.
func testStdio(t *testing.T, stdin io.Reader) (stdio, *syncBuffer, *syncBuffer) {
	out, errw := &syncBuffer{}, &syncBuffer{}
	return stdio{in: stdin, out: out, err: errw, interactive: func(context.Context, tui.Source, tui.Options) error {
		t.Error("the interactive screen was started without a terminal")
		return nil
	}}, out, errw
}

// runArgs runs the command in-process, as main does, on buffers.
func runArgs(t *testing.T, args ...string) result {
	t.Helper()
	io, out, errw := testStdio(t, strings.NewReader(""))
	code := run(context.Background(), args, io)
	return result{out: out.String(), err: errw.String(), code: code}
}

// golden compares got with testdata/golden/name, or rewrites it with
// -update.
func golden(t *testing.T, name string, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/openrtc-replay -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (run with -update if the change is intended):\n%s", path, diff(string(want), got))
	}
}

// diff shows the first lines where want and got part.
func diff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < max(len(w), len(g)); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return fmt.Sprintf("line %d:\nwant %q\n got %q", i+1, wl, gl)
		}
	}
	return "(same lines, different endings)"
}

// goldenCases are the outputs kept under testdata/golden: every command's
// output format over the fixtures, with the exit status and standard error.
var goldenCases = []struct {
	name string
	args []string
}{
	{"top-once-normal", []string{"top", "--once", fixture("normal.zst")}},
	{"top-once-default-command", []string{"--once", "--at", "03:12:30", fixture("normal.zst")}},
	{"top-once-stall", []string{"top", "--once", "--at", "03:20:31.3", "--sort", "cpu_pct", fixture("stalls.zst")}},
	{"top-once-status-slow", []string{"top", "--once", "--at", "03:20:32", "--status", "slow", fixture("stalls.zst")}},
	{"top-once-rotated", []string{"top", "--once", "--at", "+2m30s", fixture("rotated")}},
	{"top-once-plain", []string{"top", "--once", "--at", "-10s", fixture("plain.jsonl")}},
	{"top-once-crash", []string{"top", "--once", fixture("crash.zst")}},
	{"top-json-normal", []string{"top", "--json", "--at", "+90s", fixture("normal.zst")}},
	{"top-json-agent", []string{"top", "--json", "--agent", "chat", "--at", "2026-11-27T03:21:00Z", fixture("stalls.zst")}},
	{"slow-stalls", []string{"slow", fixture("stalls.zst")}},
	{"slow-min-json", []string{"slow", "--min", "200ms", "--json", fixture("stalls.zst")}},
	{"slow-session-range", []string{"slow", "--session", "room-2", "--since", "03:21", "--until", "end", fixture("stalls.zst")}},
	{"slow-rotated", []string{"slow", fixture("rotated")}},
	{"sessions-normal", []string{"sessions", fixture("normal.zst")}},
	{"sessions-csv-stalls", []string{"sessions", "--csv", fixture("stalls.zst")}},
	{"sessions-json-sort", []string{"sessions", "--json", "--sort", "cpu_seconds", fixture("normal.zst")}},
	{"sessions-rotated", []string{"sessions", "--sort", "duration_s", fixture("rotated")}},
	{"summary-normal", []string{"summary", fixture("normal.zst")}},
	{"summary-stalls", []string{"summary", fixture("stalls.zst")}},
	{"summary-corrupt", []string{"summary", fixture("corrupt.zst")}},
	{"summary-json-stalls", []string{"summary", "--json", fixture("stalls.zst")}},
	{"export-csv-normal", []string{"export", "--every", "30s", fixture("normal.zst")}},
	{"export-jsonl-range", []string{"export", "--format", "jsonl", "--every", "10s", "--since", "+30s", "--until", "+60s", fixture("stalls.zst")}},
	{"verify-all", []string{"verify", fixture("normal.zst"), fixture("crash.zst"), fixture("corrupt.zst"), fixture("rotated"), fixture("plain.jsonl")}},
	{"verify-json-crash", []string{"verify", "--json", fixture("crash.zst")}},
	{"top-once-incident-attention", []string{"top", "--once", fixture("incident.zst")}},
	{"top-once-json-together", []string{"top", "--once", "--json", "--at", "2026-11-27 03:12:30", fixture("normal.zst")}},
	{"top-once-reverse-cpu", []string{"top", "--once", "--sort", "cpu_pct", "--reverse", fixture("normal.zst")}},
	{"slow-group-incident", []string{"slow", "--group", fixture("incident.zst")}},
	{"slow-group-json-stalls", []string{"slow", "--group", "--json", fixture("stalls.zst")}},
	{"summary-incident", []string{"summary", fixture("incident.zst")}},
	{"sessions-json-sort-mem", []string{"sessions", "--json", "--sort", "mem_mb", fixture("stalls.zst")}},
}

func TestGolden(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			r := runArgs(t, tc.args...)
			got := fmt.Sprintf("$ openrtc-replay %s\nexit %d\n--- stderr\n%s--- stdout\n%s",
				strings.Join(tc.args, " "), r.code, r.err, r.out)
			golden(t, tc.name+".golden", got)
		})
	}
}

// TestTopPipedShowsFindings: without a terminal and without --once, top
// prints what the screen opens on: the numbered findings under the header,
// then the table; --once prints the moment only.
func TestTopPipedShowsFindings(t *testing.T) {
	r := runArgs(t, fixture("incident.zst"))
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.err)
	}
	head, _, ok := strings.Cut(r.out, "\nsession ")
	if !ok || !strings.Contains(head, "\n1 call-blocker held mixer") {
		t.Errorf("piped top: no findings strip under the header:\n%s", r.out)
	}
	r = runArgs(t, "top", "--once", fixture("incident.zst"))
	if strings.Contains(r.out, "\n1 call-blocker held mixer") {
		t.Errorf("top --once printed the findings:\n%s", r.out)
	}
}
