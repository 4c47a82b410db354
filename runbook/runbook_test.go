package runbook

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/openrtc-go/introspect/fold"
)

const runbookFile = "density-debugging.md"

func runbookBlocks(t *testing.T) []block {
	t.Helper()
	blocks, err := parseBlocks(readFile(t, runbookFile))
	if err != nil {
		t.Fatalf("%s: %v", runbookFile, err)
	}
	return blocks
}

// TestRunbookMarks checks that every command of the runbook is run by the
// test, and that every block the test runs says what its output shows.
func TestRunbookMarks(t *testing.T) {
	checkMarks(t, runbookFile, runbookBlocks(t), 0)
}

// checkMarks checks blocks of page; the first exempt blocks are not
// required to be marked (the README's first commands, which the test
// checks its own way).
func checkMarks(t *testing.T, page string, blocks []block, exempt int) {
	t.Helper()
	count := map[string]int{}
	for i, b := range blocks {
		runsTool := strings.Contains(b.text, "openrtc-replay") || strings.Contains(b.text, "densitydemo")
		shell := b.lang() == "sh" || b.lang() == "bash" || b.lang() == "console" || b.lang() == "shell"
		if shell && runsTool && !b.tested() && i >= exempt {
			t.Errorf("%s:%d: a command block that runs the tool is not marked `sh runbook-test`", page, b.line)
		}
		if !b.tested() {
			continue
		}
		if !modes[b.mode()] {
			t.Errorf("%s:%d: unknown runbook-test mode %q", page, b.line, b.mode())
		}
		count[b.mode()]++
		if b.mode() != "worker" && b.skip == "" && !b.checks() {
			t.Errorf("%s:%d: the block is run but nothing is expected of its output (add <!-- expect: ... -->)", page, b.line)
		}
	}
	if page == runbookFile && (count["setup"] != 1 || count["worker"] != 1) {
		t.Errorf("%s: %d setup and %d worker blocks, want one each", page, count["setup"], count["worker"])
	}
}

// TestRunbookAnchors checks that every section a summary finding can point
// to, and every link within the page, is a heading of the runbook.
func TestRunbookAnchors(t *testing.T) {
	page := readFile(t, runbookFile)
	have := anchors(page)

	want := map[string]string{}
	for _, s := range []string{fold.SectionBlocking, fold.SectionCPUHot, fold.SectionMemory,
		fold.SectionGoroutineLeak, fold.SectionWedged, fold.SectionNothing} {
		want[s] = "fold.Section constant"
	}
	// Sections added to fold later are found in its source.
	sources, err := filepath.Glob(filepath.Join(repoRoot(t), "fold", "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	constRE := regexp.MustCompile(`\bSection[A-Za-z]+\s*=\s*"([a-z0-9-]+)"`)
	for _, f := range sources {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		for _, m := range constRE.FindAllStringSubmatch(readFile(t, f), -1) {
			want[m[1]] = filepath.Base(f)
		}
	}
	if !strings.HasSuffix(fold.RunbookPath, "/"+runbookFile) {
		t.Errorf("fold.RunbookPath is %q; findings point to a file other than %s", fold.RunbookPath, runbookFile)
	}
	for _, m := range regexp.MustCompile(`\]\(#([^)]+)\)`).FindAllStringSubmatch(page, -1) {
		want[m[1]] = "a link in the page"
	}
	for _, m := range regexp.MustCompile(`density-debugging\.md#([a-z0-9-]+)`).FindAllStringSubmatch(page, -1) {
		want[m[1]] = "the page's text"
	}
	for a, from := range want {
		if !have[a] {
			t.Errorf("#%s (from %s) is not a heading of %s", a, from, runbookFile)
		}
	}
}

// TestRunbookPostMortem runs every post-mortem block against the bundled
// incident and checks its output.
func TestRunbookPostMortem(t *testing.T) {
	t.Parallel()
	tl := installTools(t)
	dir := incidentDir(t)
	for _, b := range runbookBlocks(t) {
		if !b.tested() || b.mode() != "" {
			continue
		}
		t.Run("line-"+strconv.Itoa(b.line), func(t *testing.T) {
			runBlock(t, b, dir, tl.env)
		})
	}
}

func runBlock(t *testing.T, b block, dir string, env []string) {
	t.Helper()
	if b.skip != "" {
		t.Skip(b.skip)
	}
	if n := needsMissing(b); n != "" {
		t.Skipf("needs %s, which is not installed", n)
	}
	out, code, err := runSh(dir, env, b.text)
	if err != nil {
		t.Fatalf("line %d: %v\n%s", b.line, err, out)
	}
	check(t, b, out, code)
}

// liveView is the part of `openrtc-replay live --json` the readiness check
// reads.
type liveView struct {
	Sessions []struct {
		SessionID  string  `json:"session_id"`
		Status     string  `json:"status"`
		CPUSeconds float64 `json:"cpu_seconds"`
		Goroutines int     `json:"goroutines"`
	} `json:"sessions"`
}

// TestRunbookLive starts the demo worker with the runbook's own command, as
// a reader would, waits until its culprits show, and runs every live block
// next to it.
func TestRunbookLive(t *testing.T) {
	t.Parallel()
	tl := installTools(t)
	var worker block
	var live []block
	for _, b := range runbookBlocks(t) {
		switch {
		case !b.tested():
		case b.mode() == "worker":
			worker = b
		case b.mode() == "live":
			live = append(live, b)
		}
	}
	if worker.text == "" {
		t.Fatal("the runbook has no `sh runbook-test worker` block")
	}
	// The runbook's pprof port may be taken on this machine: use a free one.
	addr := freeAddr(t)
	port := func(s string) string { return strings.ReplaceAll(s, "localhost:6060", addr) }

	// densitydemo is wrapped so that it stops by itself even if this test
	// dies, and so that its pid is known.
	wrap := t.TempDir()
	pidFile := filepath.Join(wrap, "pid")
	script := "#!/bin/sh\necho $$ > \"$RUNBOOK_DEMO_PIDFILE\"\nexec \"$RUNBOOK_DEMO_BIN\" --duration 3m \"$@\"\n"
	if err := os.WriteFile(filepath.Join(wrap, "densitydemo"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	env := append(withPath(tl.env, wrap),
		"RUNBOOK_DEMO_PIDFILE="+pidFile, "RUNBOOK_DEMO_BIN="+filepath.Join(tl.bin, "densitydemo"))

	dir := t.TempDir()
	cmd := exec.Command("sh", "-c", port(worker.text)+"\nwait\n")
	cmd.Dir, cmd.Env = dir, env
	var shOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &shOut, &shOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { stopWorker(t, pidFile, exited) })

	waitReady(t, tl.env, dir, exited, &shOut)
	for _, b := range live {
		b.text = port(b.text)
		t.Run("line-"+strconv.Itoa(b.line), func(t *testing.T) {
			runBlock(t, b, dir, tl.env)
		})
	}
}

// withPath returns env with dir put first on PATH.
func withPath(env []string, dir string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		if p, ok := strings.CutPrefix(kv, "PATH="); ok {
			kv = "PATH=" + dir + string(os.PathListSeparator) + p
		}
		out = append(out, kv)
	}
	return out
}

// readyTimeout bounds the wait for the demo's culprits to show; a failure
// bound for a broken worker, not a speed limit (they show in seconds).
const readyTimeout = 2 * time.Minute

// waitReady polls the live view until what the live blocks describe has
// happened: call-blocker is slow and has ended a stall on the console,
// call-cpuhog leads by CPU seconds, call-leaker by goroutines.
func waitReady(t *testing.T, env []string, dir string, exited <-chan error, shOut *bytes.Buffer) {
	t.Helper()
	deadline := time.Now().Add(readyTimeout)
	var last string
	for {
		select {
		case err := <-exited:
			log, _ := os.ReadFile(filepath.Join(dir, "worker.log"))
			t.Fatalf("the demo worker exited early (%v):\n%s\nworker.log:\n%s", err, shOut.String(), log)
		default:
		}
		state, ready := readiness(env, dir)
		if ready {
			return
		}
		last = state
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "worker.log"))
			t.Fatalf("the demo worker's culprits did not show within %v: %s\nworker.log (tail):\n%s",
				readyTimeout, last, tail(string(log), 20))
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func readiness(env []string, dir string) (string, bool) {
	out, code, err := runSh(dir, env, "openrtc-replay live --json")
	if err != nil || code != 0 {
		return fmt.Sprintf("live --json: exit %d %v: %s", code, err, strings.TrimSpace(out)), false
	}
	var v liveView
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		return "live --json: " + err.Error(), false
	}
	var blockerSlow bool
	var topCPU, topGor string
	var maxCPU, nextCPU float64
	maxGor := 0
	for _, s := range v.Sessions {
		if s.SessionID == "call-blocker" && s.Status == "slow" {
			blockerSlow = true
		}
		switch {
		case s.CPUSeconds > maxCPU:
			nextCPU, maxCPU, topCPU = maxCPU, s.CPUSeconds, s.SessionID
		case s.CPUSeconds > nextCPU:
			nextCPU = s.CPUSeconds
		}
		if s.Goroutines > maxGor {
			maxGor, topGor = s.Goroutines, s.SessionID
		}
	}
	// A margin, so that the order cannot flip before the blocks read it.
	if maxCPU < 1.5*nextCPU {
		topCPU += " (by a narrow margin)"
	}
	log, _ := os.ReadFile(filepath.Join(dir, "worker.log"))
	finished := false
	for _, l := range strings.Split(string(log), "\n") {
		if strings.Contains(l, "session_id=call-blocker") && strings.Contains(l, "ongoing=false") {
			finished = true
		}
	}
	state := fmt.Sprintf("blocker slow %v, blocker stall ended %v, top cpu_s %s, top goroutines %s (%d)",
		blockerSlow, finished, topCPU, topGor, maxGor)
	return state, blockerSlow && finished && topCPU == "call-cpuhog" && topGor == "call-leaker" && maxGor >= 5
}

// stopWorker stops the demo worker started for the live blocks: SIGTERM
// (it stops cleanly), then SIGKILL if it does not.
func stopWorker(t *testing.T, pidFile string, exited <-chan error) {
	b, err := os.ReadFile(pidFile)
	pid, perr := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || perr != nil || pid <= 0 {
		t.Logf("no demo worker pid (%v %v); waiting for it to stop by itself", err, perr)
		<-exited
		return
	}
	_ = syscall.Kill(pid, syscall.SIGTERM)
	select {
	case <-exited:
		return
	case <-time.After(time.Minute):
	}
	t.Logf("the demo worker (pid %d) did not stop on SIGTERM; killing it", pid)
	_ = syscall.Kill(pid, syscall.SIGKILL)
	<-exited
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
