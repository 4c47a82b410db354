package tui

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/openrtc-go/introspect/fixtures"
)

// tmux runs one tmux command on the test's own server.
type tmux struct {
	t    *testing.T
	sock string
}

func (x tmux) run(args ...string) (string, error) {
	out, err := exec.Command("tmux", append([]string{"-S", x.sock, "-f", "/dev/null"}, args...)...).CombinedOutput()
	return string(out), err
}

func (x tmux) must(args ...string) string {
	x.t.Helper()
	out, err := x.run(args...)
	if err != nil {
		x.t.Fatalf("tmux %v: %v: %s", args, err, out)
	}
	return out
}

// waitFor polls the pane until it shows every one of want, and none of
// unwanted.
func (x tmux) waitFor(what string, want []string, unwanted ...string) string {
	x.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var screen string
	for time.Now().Before(deadline) {
		screen, _ = x.run("capture-pane", "-p", "-t", "tui")
		ok := true
		for _, w := range want {
			ok = ok && strings.Contains(screen, w)
		}
		for _, u := range unwanted {
			ok = ok && !strings.Contains(screen, u)
		}
		if ok {
			return screen
		}
		time.Sleep(50 * time.Millisecond)
	}
	x.t.Fatalf("%s: the screen never showed %q (nor lost %q):\n%s", what, want, unwanted, screen)
	return ""
}

// TestTmux runs the screen as a real program in a real pseudo-terminal:
// tmux starts this test binary as the helper over a recording written by
// the real recorder, the test presses keys with send-keys and reads the
// screen with capture-pane, and q must end the process with status 0.
func TestTmux(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	rec := absFixture(t, fixtures.Stalls)
	pressKeysInTmux(t, fmt.Sprintf("env %s=%s %s -test.run=^$", helperEnv, shellQuote(rec), shellQuote(exe)))
}

// TestTmuxOpenrtcReplay does the same with the command an operator runs:
// openrtc-replay top, built from this module.
func TestTmuxOpenrtcReplay(t *testing.T) {
	if testing.Short() {
		t.Skip("builds openrtc-replay")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = "go" // go test puts its own go first on PATH
	}
	bin := filepath.Join(t.TempDir(), "openrtc-replay")
	build := exec.Command(goTool, "build", "-o", bin, "github.com/openrtc-go/introspect/cmd/openrtc-replay")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build openrtc-replay: %v\n%s", err, out)
	}
	rec := absFixture(t, fixtures.Stalls)
	pressKeysInTmux(t, shellQuote(bin)+" top "+shellQuote(rec))
}

func absFixture(t *testing.T, name string) string {
	t.Helper()
	p, err := filepath.Abs(fixture(name))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// pressKeysInTmux runs command, which shows fixtures.Stalls on the
// screen, in a new tmux server of its own, and checks the screen's answer
// to s, g ], enter, esc and ?; then q must end it with status 0.
func pressKeysInTmux(t *testing.T, command string) {
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed (CI installs it: .ci/run)")
	}
	dir := t.TempDir()
	x := tmux{t: t, sock: filepath.Join(dir, "tmux.sock")}
	status := filepath.Join(dir, "status")
	t.Cleanup(func() { x.run("kill-server") })
	x.must("new-session", "-d", "-s", "tui", "-x", "140", "-y", "40",
		fmt.Sprintf("%s ; echo $? > %s", command, shellQuote(status)))

	x.waitFor("start", []string{fixtures.Stalls, "dur(s)", "sort attention"})
	x.must("send-keys", "-t", "tui", "s", "s")
	x.waitFor("s s", []string{"sort cpu_pct ▼", "cpu%▼"})
	x.must("send-keys", "-t", "tui", "g", "]")
	x.waitFor("g ]", []string{"stall 1/"})
	x.must("send-keys", "-t", "tui", "Enter")
	x.waitFor("enter", []string{"drill-down (esc back)", "stalls "}, "dur(s)")
	x.must("send-keys", "-t", "tui", "Escape")
	x.waitFor("esc", []string{"dur(s)"}, "drill-down")
	x.must("send-keys", "-t", "tui", "?")
	x.waitFor("?", []string{"time travel"})
	x.must("send-keys", "-t", "tui", "?", "q")

	deadline := time.Now().Add(20 * time.Second)
	for {
		b, err := os.ReadFile(status)
		if err == nil && len(b) > 0 {
			if got := strings.TrimSpace(string(b)); got != "0" {
				t.Fatalf("the screen exited with status %s", got)
			}
			return
		}
		if time.Now().After(deadline) {
			screen, _ := x.run("capture-pane", "-p", "-t", "tui")
			t.Fatalf("the screen did not exit after q:\n%s", screen)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// shellQuote quotes s for sh.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
