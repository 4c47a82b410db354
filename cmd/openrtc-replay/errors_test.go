package main

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/openrtc-go/introspect/cmd/openrtc-replay/internal/tui"
)

// oneLineErr checks that a failed run printed exactly one line on standard
// error, containing want, and nothing that looks like a stack trace.
func oneLineErr(t *testing.T, r result, code int, want string) {
	t.Helper()
	if r.code != code {
		t.Errorf("exit %d, want %d (stderr %q)", r.code, code, r.err)
	}
	lines := strings.Split(strings.TrimSuffix(r.err, "\n"), "\n")
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "openrtc-replay: ") || !strings.Contains(lines[0], want) {
		t.Errorf("stderr %q: want one line with %q", r.err, want)
	}
	if strings.Contains(r.err, "goroutine ") || strings.Contains(r.err, "panic") || strings.Contains(r.err, "Usage:") {
		t.Errorf("stderr has a trace or usage dump: %q", r.err)
	}
}

func TestErrorPaths(t *testing.T) {
	dir := t.TempDir()
	png := filepath.Join(dir, "shot.png")
	writeFile(t, png, []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"))
	empty := filepath.Join(dir, "empty.zst")
	writeFile(t, empty, nil)
	notLog := filepath.Join(dir, "notes.jsonl")
	writeFile(t, notLog, []byte("just words\nmore words\n"))
	normal := fixture("normal.zst")

	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"missing file", []string{"top", "--once", filepath.Join(dir, "nope.zst")}, 2, "nope.zst: no such file or directory"},
		{"missing file, default command", []string{filepath.Join(dir, "nope.zst")}, 2, "no such file or directory"},
		{"mistyped command", []string{"sumary", "x.zst"}, 2, "did you mean summary?"},
		{"not a recording: image", []string{"summary", png}, 2, "not a recording"},
		{"not a recording: empty", []string{"slow", empty}, 2, "not a recording"},
		{"not a recording: words", []string{"sessions", notLog}, 2, "not a recording"},
		{"missing among several", []string{"sessions", normal, filepath.Join(dir, "nope.zst")}, 2, "no such file"},
		{"time after the end", []string{"top", "--once", "--at", "05:00", normal}, 2, "outside the recording"},
		{"time before the start", []string{"top", "--json", "--at", "2026-11-27T02:00:00Z", normal}, 2, "outside the recording"},
		{"relative time past the end", []string{"export", "--since", "+1h", normal}, 2, "outside the recording"},
		{"since after until", []string{"slow", "--since", "03:12", "--until", "03:11", normal}, 2, "before --since"},
		{"bad time", []string{"top", "--once", "--at", "noon", normal}, 2, "bad time"},
		{"unknown flag", []string{"top", "--nope", normal}, 2, "unknown flag: --nope"},
		{"unknown flag of a subcommand", []string{"summary", "--csv", normal}, 2, "unknown flag: --csv"},
		{"flag without its value", []string{"top", "--at"}, 2, "flag needs an argument"},
		{"bad duration flag", []string{"slow", "--min", "soon", normal}, 2, "invalid argument"},
		{"negative min", []string{"slow", "--min", "-1s", normal}, 2, "negative"},
		{"bad sort", []string{"top", "--once", "--sort", "size", normal}, 2, "--sort"},
		{"bad sessions sort", []string{"sessions", "--sort", "size", normal}, 2, "--sort"},
		{"bad status", []string{"top", "--once", "--status", "sleepy", normal}, 2, "--status"},
		{"follow and once", []string{"top", "--once", "--follow", normal}, 2, "--follow"},
		{"json and csv", []string{"sessions", "--json", "--csv", normal}, 2, "pick one"},
		{"bad export format", []string{"export", "--format", "xml", normal}, 2, "--format"},
		{"bad export every", []string{"export", "--every", "0s", normal}, 2, "--every"},
		{"verify without input", []string{"verify"}, 2, "at least one"},
		{"stdin with others", []string{"slow", "-", normal}, 2, "standard input"},
		{"follow of several", []string{"slow", "--follow", normal, normal}, 2, "--follow"},
		{"live with an argument", []string{"live", "rec.zst"}, 2, "use top for a recording"},
		{"live refresh rate", []string{"live", "--refresh-rate", "50"}, 2, "--refresh-rate"},
		{"live socket and worker", []string{"live", "--socket", "a", "--worker", "b"}, 2, "pick one"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			oneLineErr(t, runArgs(t, tt.args...), tt.code, tt.want)
		})
	}
}

// A damaged recording is read as far as it goes: the output is there, and
// one warning line says what was skipped.
func TestDamagedInputWarns(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"summary", fixture("crash.zst")}, "crash.zst: torn tail at offset"},
		{[]string{"sessions", fixture("corrupt.zst")}, "corrupt.zst: 1 corrupt frame skipped"},
		{[]string{"slow", fixture("crash.zst")}, "torn tail"},
		{[]string{"top", "--once", fixture("crash.zst")}, "torn tail"},
		{[]string{"export", "--every", "1m", fixture("corrupt.zst")}, "corrupt frame"},
	} {
		r := runArgs(t, tc.args...)
		if r.code != 0 {
			t.Errorf("%v: exit %d, want 0", tc.args, r.code)
		}
		if tc.args[0] != "slow" && r.out == "" {
			t.Errorf("%v: no output from a readable recording", tc.args)
		}
		if n := strings.Count(r.err, "\n"); n != 1 || !strings.Contains(r.err, "warning: damaged input") || !strings.Contains(r.err, tc.want) {
			t.Errorf("%v: stderr %q, want one warning line with %q", tc.args, r.err, tc.want)
		}
	}
	// An intact recording gets no warning.
	if r := runArgs(t, "summary", fixture("normal.zst")); r.err != "" || r.code != 0 {
		t.Errorf("intact recording: exit %d, stderr %q", r.code, r.err)
	}
}

func TestVerifyExitStatus(t *testing.T) {
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.zst")
	writeFile(t, junk, []byte("\x28\xb5\x2f\xfdgarbage that is no zstd frame"))
	tests := []struct {
		args []string
		code int
	}{
		{[]string{fixture("normal.zst")}, 0},
		{[]string{fixture("rotated"), fixture("plain.jsonl")}, 0},
		{[]string{fixture("crash.zst")}, 1},
		{[]string{fixture("normal.zst"), fixture("corrupt.zst")}, 1},
		{[]string{junk}, 2},
		{[]string{fixture("crash.zst"), filepath.Join(dir, "nope.zst")}, 2},
		{[]string{dir + "/empty-dir-that-does-not-exist"}, 2},
	}
	for _, tt := range tests {
		r := runArgs(t, append([]string{"verify"}, tt.args...)...)
		if r.code != tt.code {
			t.Errorf("verify %v: exit %d, want %d\n%s%s", tt.args, r.code, tt.code, r.out, r.err)
		}
	}
}

// live with nothing listening: a one-line hint and status 1, whether the
// socket file is missing or stale.
func TestLiveNoWorker(t *testing.T) {
	dir := shortTempDir(t)
	missing := filepath.Join(dir, "missing.sock")
	oneLineErr(t, runArgs(t, "live", "--once", "--socket", missing), 1, "no worker is serving at "+missing)

	stale := filepath.Join(dir, "stale.sock")
	l, err := net.Listen("unix", stale)
	if err != nil {
		t.Fatal(err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close()
	oneLineErr(t, runArgs(t, "live", "--json", "--socket", stale), 1, "no worker is serving at "+stale+": the socket is there but nobody answers")

	// With no flag, live looks in this user's socket directory.
	t.Setenv("XDG_RUNTIME_DIR", dir)
	oneLineErr(t, runArgs(t, "live", "--once"), 1, "no worker is serving")
}

// live against a real socket serving a view, as a worker does.
func TestLiveOnce(t *testing.T) {
	dir := shortTempDir(t)
	sock := filepath.Join(dir, "w.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	// The view of normal.zst at its end, as the worker would serve it.
	view := runArgs(t, "top", "--json", fixture("normal.zst")).out
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Write([]byte(strings.Join(strings.Fields(view), " ") + "\n"))
			c.Close()
		}
	}()
	r := runArgs(t, "live", "--once", "--sort", "cpu_pct", "--socket", sock)
	if r.code != 0 || r.err != "" {
		t.Fatalf("exit %d, stderr %q", r.code, r.err)
	}
	lines := strings.Split(r.out, "\n")
	if !strings.Contains(lines[0], "live") || !strings.Contains(r.out, "job-d4") || !strings.HasPrefix(lines[5], "job-d4") {
		t.Errorf("live --once:\n%s", r.out)
	}
	r = runArgs(t, "live", "--json", "--socket", sock)
	if r.code != 0 || !strings.Contains(r.out, `"session_id": "job-d4"`) {
		t.Errorf("live --json: exit %d\n%s%s", r.code, r.out, r.err)
	}
	// On a terminal live is the interactive screen, fed by a poller.
	io, _, _ := testStdio(t, strings.NewReader(""))
	io.outTTY = true
	var got tui.Options
	var rows int
	io.interactive = func(_ context.Context, src tui.Source, opts tui.Options) error {
		got, rows = opts, len(src.View().Sessions)
		_, live := src.(tui.LiveSource)
		if !live {
			t.Error("live passed a source that is not a LiveSource")
		}
		return nil
	}
	if code := run(context.Background(), []string{"live", "--refresh-rate", "2", "--socket", sock}, io); code != 0 {
		t.Fatalf("interactive live: exit %d", code)
	}
	if got.RefreshRate != 2 || rows != 3 {
		t.Errorf("interactive live: options %+v, %d rows", got, rows)
	}
}

// top on a terminal starts the interactive screen at --at, with the flags
// passed on.
func TestTopInteractive(t *testing.T) {
	io, out, _ := testStdio(t, strings.NewReader(""))
	io.outTTY = true
	var got tui.Options
	var at time.Time
	io.interactive = func(_ context.Context, src tui.Source, opts tui.Options) error {
		got, at = opts, src.View().Time
		return nil
	}
	code := run(context.Background(), []string{"--at", "03:12", "--sort", "cpu_pct", "--agent", "voice", fixture("normal.zst")}, io)
	if code != 0 || out.String() != "" {
		t.Fatalf("exit %d, output %q", code, out.String())
	}
	want := time.Date(2026, 11, 27, 3, 12, 0, 0, time.UTC)
	if !at.Equal(want) || got.Sort != "cpu_pct" || got.Agent != "voice" || got.Title != "normal.zst" {
		t.Errorf("screen at %v with %+v", at, got)
	}
	// --once and --json stay plain on a terminal.
	io.interactive = func(context.Context, tui.Source, tui.Options) error {
		t.Error("--once started the screen")
		return nil
	}
	if code := run(context.Background(), []string{"top", "--once", fixture("normal.zst")}, io); code != 0 {
		t.Errorf("--once on a terminal: exit %d", code)
	}
}

// The bundled incident: with no input, every replay command reads it; a
// binary built without it says so in one line.
func TestBundled(t *testing.T) {
	if _, err := bundledRecording(); err != nil {
		oneLineErr(t, runArgs(t, "--once"), 2, "bundled incident")
		t.Skip("built without cmd/openrtc-replay/bundled/incident.zst")
	}
	r := runArgs(t, "--once")
	if r.code != 0 || !strings.Contains(r.out, "bundled incident") || !strings.Contains(r.out, "session") {
		t.Errorf("openrtc-replay --once: exit %d\n%s%s", r.code, r.out, r.err)
	}
	if r := runArgs(t, "summary", "--json"); r.code != 0 || !strings.Contains(r.out, `"findings"`) {
		t.Errorf("summary of the bundled incident: exit %d\n%s", r.code, r.err)
	}
	// The copy embedded is the fixture.
	want, err := os.ReadFile(fixture("incident.zst"))
	if err != nil {
		t.Skipf("no fixtures/incident.zst to compare with: %v", err)
	}
	if got, _ := bundledRecording(); string(got) != string(want) {
		t.Error("bundled/incident.zst differs from fixtures/incident.zst: run go generate ./cmd/openrtc-replay")
	}
}

func TestHelpHasExamples(t *testing.T) {
	for _, cmd := range []string{"", "top", "slow", "sessions", "summary", "export", "verify", "live"} {
		args := []string{"--help"}
		if cmd != "" {
			args = []string{cmd, "--help"}
		}
		r := runArgs(t, args...)
		if r.code != 0 || !strings.Contains(r.out, "Examples:") || !strings.Contains(r.out, "Usage:") {
			t.Errorf("openrtc-replay %s --help: exit %d, no examples:\n%s", cmd, r.code, r.out)
		}
	}
	for _, shell := range []string{"bash", "zsh", "fish", "powershell"} {
		if r := runArgs(t, "completion", shell); r.code != 0 || !strings.Contains(r.out, "openrtc-replay") {
			t.Errorf("completion %s: exit %d", shell, r.code)
		}
	}
	// Completion of flag values.
	r := runArgs(t, "__complete", "top", "--sort", "")
	if !strings.Contains(r.out, "cpu_pct") {
		t.Errorf("completion of --sort: %q", r.out)
	}
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// shortTempDir is a temporary directory with a path short enough for a
// Unix socket (t.TempDir can exceed the 104-byte limit on some systems).
func shortTempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "orr")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}
