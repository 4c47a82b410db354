package runbook

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// screenTimeout bounds the wait for the screen to answer a key: a failure
// bound, not a speed limit (it answers in milliseconds).
const screenTimeout = 30 * time.Second

// tmuxPane drives a program in a pane of a tmux server of its own.
type tmuxPane struct {
	t    *testing.T
	sock string
	env  []string
}

func (x tmuxPane) run(args ...string) (string, error) {
	cmd := exec.Command("tmux", append([]string{"-S", x.sock, "-f", "/dev/null"}, args...)...)
	cmd.Env = x.env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (x tmuxPane) keys(keys ...string) {
	x.t.Helper()
	if out, err := x.run(append([]string{"send-keys", "-t", "rb"}, keys...)...); err != nil {
		x.t.Fatalf("tmux send-keys %v: %v: %s", keys, err, out)
	}
}

// waitFor polls the screen until it shows every one of want and none of
// unwanted.
func (x tmuxPane) waitFor(step string, want []string, unwanted ...string) {
	x.t.Helper()
	deadline := time.Now().Add(screenTimeout)
	var screen string
	for time.Now().Before(deadline) {
		screen, _ = x.run("capture-pane", "-p", "-t", "rb")
		ok := true
		for _, w := range want {
			ok = ok && strings.Contains(screen, w)
		}
		for _, u := range unwanted {
			ok = ok && !strings.Contains(screen, u)
		}
		if ok {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	x.t.Fatalf("%s: the screen never showed %q without %q:\n%s", step, want, unwanted, screen)
}

// TestRunbookKeys walks the post-mortem's interactive steps on the bundled
// incident in a real terminal (tmux): top at +90s, ] to the next stall, t to
// the next sample, / to find call-leaker and enter to drill into it, esc
// back, ? for the keys, q to quit.
func TestRunbookKeys(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed (CI installs it: .ci/run)")
	}
	t.Parallel()
	tl := installTools(t)
	dir := incidentDir(t)
	// A short socket path: the temporary directory may be long.
	sockDir, err := os.MkdirTemp("", "rbtmux")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(sockDir) })
	x := tmuxPane{t: t, sock: filepath.Join(sockDir, "s"), env: append(slices.Clip(tl.env), "TERM=xterm-256color")} // Clip: the tests run in parallel over one tools
	status := filepath.Join(dir, "status")
	t.Cleanup(func() { x.run("kill-server") })
	if out, err := x.run("new-session", "-d", "-s", "rb", "-x", "150", "-y", "45", "-c", dir,
		"openrtc-replay top --at +90s fixtures/incident.zst; echo $? > status"); err != nil {
		t.Fatalf("tmux new-session: %v: %s", err, out)
	}

	x.waitFor("top --at +90s", []string{"+1m30s of", "dur(s)", "call-", "▲"})
	x.keys("]")
	x.waitFor("]: the next stall", []string{"stall ", "held"})
	x.keys("t")
	x.waitFor("t: the next sample", []string{"dur(s)"}, "+1m30s of")
	x.keys("/")
	x.keys("-l", "call-leaker")
	x.keys("Enter")
	x.waitFor("/call-leaker", []string{`text "call-leaker"`, "1 of"})
	x.keys("Enter")
	x.waitFor("enter: drill-down", []string{"session call-leaker", "drill-down", "gor", "peak"})
	x.keys("Escape")
	x.waitFor("esc", []string{"dur(s)"}, "drill-down")
	x.keys("?")
	x.waitFor("?", []string{"time travel", "previous/next stall"})
	x.keys("?")
	x.keys("q")

	deadline := time.Now().Add(screenTimeout)
	for {
		b, err := os.ReadFile(status)
		if err == nil && len(b) > 0 {
			if got := strings.TrimSpace(string(b)); got != "0" {
				t.Fatalf("openrtc-replay top exited with status %s", got)
			}
			return
		}
		if time.Now().After(deadline) {
			screen, _ := x.run("capture-pane", "-p", "-t", "rb")
			t.Fatalf("openrtc-replay top did not exit after q:\n%s", screen)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestRunbookFirstScreen walks the post-mortem's step 1 in an 80×24
// terminal: the screen opens on the three culprits (the findings strip and
// the first rows), 1 goes to the first finding, enter shows its stalls by
// line with the stack.
func TestRunbookFirstScreen(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed (CI installs it: .ci/run)")
	}
	t.Parallel()
	tl := installTools(t)
	dir := incidentDir(t)
	sockDir, err := os.MkdirTemp("", "rbtmux")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(sockDir) })
	x := tmuxPane{t: t, sock: filepath.Join(sockDir, "s"), env: append(slices.Clip(tl.env), "TERM=xterm-256color")} // Clip: the tests run in parallel over one tools
	status := filepath.Join(dir, "status")
	t.Cleanup(func() { x.run("kill-server") })
	if out, err := x.run("new-session", "-d", "-s", "rb", "-x", "80", "-y", "24", "-c", dir,
		"openrtc-replay top fixtures/incident.zst; echo $? > status"); err != nil {
		t.Fatalf("tmux new-session: %v: %s", err, out)
	}
	x.waitFor("the first screen", []string{"1 call-blocker held mixer", "call-cpuhog", "call-leaker",
		"call-blocker ", "sort attention"})
	x.keys("1")
	x.waitFor("1: the first finding", []string{"finding 1/", "call-blocker"})
	x.keys("Enter")
	x.waitFor("enter: its stalls", []string{"session call-blocker", "mixer ", " times · ", "workload.fetchVoiceProfileSync"})
	x.keys("q")
	deadline := time.Now().Add(screenTimeout)
	for {
		b, err := os.ReadFile(status)
		if err == nil && len(b) > 0 {
			if got := strings.TrimSpace(string(b)); got != "0" {
				t.Fatalf("openrtc-replay top exited with status %s", got)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("openrtc-replay top did not exit after q")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
