package tui

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/openrtc-go/introspect/fold"
)

// The tests below are an operator's first minutes, on real programs in a
// real pseudo-terminal: openrtc-replay and the demo worker built from this
// module, tmux as the terminal. They check what a person would look for on
// the screen, not the model's fields.

var (
	toolsOnce sync.Once
	toolsDir  string
	toolsErr  error
)

// tools builds openrtc-replay and densitydemo once per test binary and
// returns their paths.
func tools(t *testing.T) (replay, demo string) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds openrtc-replay and densitydemo")
	}
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed (CI installs it: .ci/run)")
	}
	toolsOnce.Do(func() {
		toolsDir, toolsErr = os.MkdirTemp("", "openrtc-tui-tools-")
		if toolsErr != nil {
			return
		}
		goTool, err := exec.LookPath("go")
		if err != nil {
			goTool = "go" // go test puts its own go first on PATH
		}
		for _, pkg := range []string{"cmd/openrtc-replay", "cmd/densitydemo"} {
			out, err := exec.Command(goTool, "build", "-o", toolsDir, "github.com/openrtc-go/introspect/"+pkg).CombinedOutput()
			if err != nil {
				toolsErr = fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
				return
			}
		}
	})
	if toolsErr != nil {
		t.Fatal(toolsErr)
	}
	return filepath.Join(toolsDir, "openrtc-replay"), filepath.Join(toolsDir, "densitydemo")
}

// removeTools deletes what tools built; TestMain calls it.
func removeTools() {
	if toolsDir != "" {
		os.RemoveAll(toolsDir)
	}
}

// startTmux runs command in a terminal of w×h cells, on a tmux server of
// the test's own, with HOME and the socket directory of the test (so
// `live` finds no other worker). The command's exit status is written to
// the returned file.
func startTmux(t *testing.T, w, h int, command string) (tmux, string) {
	t.Helper()
	dir := t.TempDir()
	x := tmux{t: t, sock: filepath.Join(dir, "tmux.sock")}
	status := filepath.Join(dir, "status")
	t.Cleanup(func() { x.run("kill-server") })
	x.must("new-session", "-d", "-s", "tui", "-x", fmt.Sprint(w), "-y", fmt.Sprint(h),
		fmt.Sprintf("%s ; echo $? > %s; sleep 60", command, shellQuote(status)))
	return x, status
}

// quit presses q and waits for the exit status 0.
func (x tmux) quit(status string) {
	x.t.Helper()
	x.must("send-keys", "-t", "tui", "q")
	deadline := time.Now().Add(20 * time.Second)
	for {
		b, err := os.ReadFile(status)
		if err == nil && len(b) > 0 {
			if got := strings.TrimSpace(string(b)); got != "0" {
				x.t.Fatalf("the screen exited with status %s", got)
			}
			return
		}
		if time.Now().After(deadline) {
			screen, _ := x.run("capture-pane", "-p", "-t", "tui")
			x.t.Fatalf("the screen did not exit after q:\n%s", screen)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (x tmux) keys(keys ...string) {
	x.t.Helper()
	x.must(append([]string{"send-keys", "-t", "tui"}, keys...)...)
}

// TestTmuxFirstScreen is the README's first command at 80×24: the three
// culprits of the bundled incident must be on the first screen, before
// any key, and the first finding one key away.
func TestTmuxFirstScreen(t *testing.T) {
	replay, _ := tools(t)
	// What the screen must say, read from the incident by the fold: the
	// bundled recording may be recorded again.
	cur := openCursor(t, fixture("incident.zst"))
	stalls, err := cur.Stalls()
	if err != nil {
		t.Fatal(err)
	}
	findings, err := cur.Findings()
	if err != nil || len(findings) == 0 || findings[0].SessionID != "call-blocker" {
		t.Fatalf("the incident's first finding is not call-blocker's: %+v, %v", findings, err)
	}
	x, status := startTmux(t, 80, 24, shellQuote(replay))
	screen := x.waitFor("first screen", []string{"call-blocker", "call-cpuhog", "call-leaker",
		"1 " + findings[0].Short[:min(len(findings[0].Short), 70)], fmt.Sprintf("%d stalls in recording", len(stalls))})
	// The culprits are rows of the table, not only words of the findings.
	rows := 0
	for _, l := range strings.Split(screen, "\n") {
		for _, c := range []string{"call-blocker ", "call-cpuhog ", "call-leaker "} {
			if strings.HasPrefix(l, c) {
				rows++
			}
		}
	}
	if rows != 3 {
		t.Errorf("%d of the three culprits are rows of the first screen:\n%s", rows, screen)
	}
	x.keys("2")
	x.waitFor("2", []string{"finding 2/", "call-cpuhog"})
	x.keys("1", "Enter")
	x.waitFor("1 enter", []string{"session call-blocker · drill-down", "mixer ", " times · ", fold.ShortFrame(stalls[len(stalls)-1].Frame)})
	x.keys("Escape", "p")
	x.waitFor("p", []string{"sort attention"}, "1 call-blocker held")
	x.quit(status)
}

// TestTmuxNarrow is a 60×12 terminal: the time stays, the columns that
// matter stay (pin, tenant and agent go first), and the help scrolls to
// its last keys.
func TestTmuxNarrow(t *testing.T) {
	replay, _ := tools(t)
	x, status := startTmux(t, 60, 12, shellQuote(replay))
	screen := x.waitFor("narrow", []string{"2026-12-06 05:37:30", "call-blocker", "cpu%", "gor", "status"})
	if strings.Contains(screen, "tenant") || strings.Contains(screen, "agent ") {
		t.Errorf("at 60 columns tenant or agent kept over the numbers:\n%s", screen)
	}
	x.keys("?")
	x.waitFor("?", []string{"keys"})
	for range 8 {
		x.keys("PageDown")
	}
	x.waitFor("? pgdn", []string{"attention"}, "ctrl+c")
	x.keys("Home")
	x.waitFor("? home", []string{"ctrl+c"})
	x.keys("Escape")
	x.waitFor("esc", []string{"call-blocker"})
	x.quit(status)
}

// screenTime reads the moment the header shows.
var screenTime = regexp.MustCompile(`\d{4}-\d\d-\d\d \d\d:\d\d:\d\d`)

func shownAt(t *testing.T, screen string) time.Time {
	t.Helper()
	s := screenTime.FindString(screen)
	at, err := time.Parse(time.DateTime, s)
	if err != nil {
		t.Fatalf("no time on the screen:\n%s", screen)
	}
	return at
}

// waitLater waits until the header shows a moment after then.
func (x tmux) waitLater(what string, then time.Time) time.Time {
	x.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var screen string
	for time.Now().Before(deadline) {
		screen, _ = x.run("capture-pane", "-p", "-t", "tui")
		if s := screenTime.FindString(screen); s != "" {
			if at, err := time.Parse(time.DateTime, s); err == nil && at.After(then) {
				return at
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	x.t.Fatalf("%s: the screen stayed at or before %s:\n%s", what, then.Format(time.DateTime), screen)
	return time.Time{}
}

// startDemo starts the demo worker with args and stops it at the test's
// end.
func startDemo(t *testing.T, demo string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(demo, append([]string{"--quiet", "--sessions", "20"}, args...)...)
	var stderr strings.Builder
	cmd.Stdout, cmd.Stderr = nil, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("densitydemo %v said:\n%s", args, stderr.String())
		}
	})
	return cmd
}

// waitFile waits until path exists: a socket, a file that is not empty, or
// a directory that holds a recording.
func waitFile(t *testing.T, path string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if fi, err := os.Stat(path); err == nil && (fi.IsDir() || fi.Size() > 0 || fi.Mode()&os.ModeSocket != 0) {
			if !fi.IsDir() {
				return
			}
			if m, _ := filepath.Glob(filepath.Join(path, "*.zst")); len(m) > 0 {
				if fi, err := os.Stat(m[0]); err == nil && fi.Size() > 0 {
					return
				}
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s never appeared", path)
}

// TestTmuxFollow watches a recording the real recorder is writing: with
// --follow the moment shown keeps up with the worker; F stops following,
// and then r reopens the recording and G reaches what was written since.
func TestTmuxFollow(t *testing.T) {
	replay, demo := tools(t)
	rec := filepath.Join(t.TempDir(), "rec") + string(filepath.Separator)
	startDemo(t, demo, "--blocker", "--leak", "--socket", "off", "--record", rec)
	waitFile(t, rec)
	time.Sleep(2 * time.Second) // a few frames: a sample or two to show

	x, status := startTmux(t, 120, 30, shellQuote(replay)+" top --follow "+shellQuote(rec))
	first := shownAt(t, x.waitFor("follow", []string{"following", "dur(s)"}))
	later := x.waitLater("following", first.Add(time.Second))

	x.keys("F")
	x.waitFor("F", []string{"stopped following"})
	stopped := shownAt(t, x.waitFor("F", []string{"⏸"}, "following ·"))
	if stopped.Before(later) {
		t.Errorf("stopping moved the moment back: %s after %s", stopped, later)
	}
	time.Sleep(2500 * time.Millisecond) // the worker writes on; the screen stays
	x.keys("G")
	if at := shownAt(t, x.waitFor("G", []string{"⏸"})); !at.Equal(stopped) {
		t.Errorf("G before r moved to %s from %s: the recording was reread without r", at, stopped)
	}
	x.keys("r")
	x.waitFor("r", []string{"reopened"})
	x.keys("G")
	x.waitLater("r G", stopped)
	x.quit(status)
}

// TestTmuxLiveRestart kills the worker under the live screen, then starts
// it again: the header must say disconnected, then restarted, never a
// green "live" over frozen numbers.
func TestTmuxLiveRestart(t *testing.T) {
	replay, demo := tools(t)
	// A private directory, as the worker wants for its socket.
	dir := filepath.Join(t.TempDir(), "run")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "w.sock")
	worker := startDemo(t, demo, "--socket", sock)
	waitFile(t, sock)

	x, status := startTmux(t, 140, 30, shellQuote(replay)+" live --socket "+shellQuote(sock))
	x.waitFor("live", []string{"● live", "call-"})
	oldPID := worker.Process.Pid
	worker.Process.Kill()
	worker.Wait()
	x.waitFor("killed", []string{"✕ disconnected"}, "● live")

	again := startDemo(t, demo, "--socket", sock)
	screen := x.waitFor("restarted", []string{"↻ restarted at"})
	if runtime.GOOS == "linux" && !strings.Contains(screen, fmt.Sprintf("pid %d → %d", oldPID, again.Process.Pid)) {
		t.Errorf("the restart does not name the pids %d → %d:\n%s", oldPID, again.Process.Pid, screen)
	}
	x.quit(status)
}
