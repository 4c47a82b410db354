package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openrtc-go/introspect"
)

// buildTimeout and runTimeout bound a build and a run so that a hang fails
// the test; they are not speed limits.
const (
	buildTimeout = 5 * time.Minute
	runTimeout   = 2 * time.Minute
)

var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
)

// TestMain removes the binaries the tests built.
func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// build builds densitydemo and openrtc-replay, as a user would run them,
// into a temporary directory, once for the package's tests.
func build(t *testing.T) (demo, replay string) {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "densitydemo-test-")
		if buildErr != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
		defer cancel()
		cmd := exec.CommandContext(ctx, "go", "build", "-o", buildDir+string(os.PathSeparator), ".", "../openrtc-replay")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %w\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return filepath.Join(buildDir, "densitydemo"), filepath.Join(buildDir, "openrtc-replay")
}

// runBin runs a binary and returns its standard output, standard error and
// exit status.
func runBin(t *testing.T, bin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case ctx.Err() != nil:
		t.Fatalf("%s %v: timed out\n%s", filepath.Base(bin), args, e.String())
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		t.Fatalf("%s %v: %v", filepath.Base(bin), args, err)
	}
	return o.String(), e.String(), code
}

// summary is the part of `openrtc-replay summary --json` the test reads.
type summary struct {
	TopCPU []struct {
		SessionID string `json:"session_id"`
	} `json:"top_cpu"`
	Findings []struct {
		Section   string `json:"section"`
		SessionID string `json:"session_id"`
	} `json:"findings"`
}

type stall struct {
	SessionID string  `json:"session_id"`
	Source    string  `json:"source"`
	BlockedMs float64 `json:"blocked_ms"`
	Frame     string  `json:"frame"`
}

type sessionRow struct {
	SessionID      string `json:"session_id"`
	GoroutinesPeak int    `json:"goroutines_peak"`
}

// TestCulprits runs the demo worker for a few seconds with all three
// culprits, as a process, recording to a file, and checks that the replay
// tool names each: call-blocker's stalls on the mixer at the line of its
// synchronous call, call-cpuhog first by CPU, call-leaker first by
// goroutines. The three run together, in one recording, which keeps the
// test short; each check is by rank or presence, never by a figure.
func TestCulprits(t *testing.T) {
	demo, replay := build(t)
	rec := filepath.Join(t.TempDir(), "demo.zst")
	_, console, code := runBin(t, demo, "--sessions", "40", "--blocker", "--block-every", "1s",
		"--cpu-hog", "--leak", "--duration", "8s", "--record", rec, "--socket", "off", "--quiet")
	if code != 0 {
		t.Fatalf("densitydemo exited %d:\n%s", code, console)
	}

	// The console, at --quiet, has the stalls only, in grep-able form.
	if !strings.Contains(console, "msg=slow-session") || !strings.Contains(console, "session_id="+"call-blocker") {
		t.Errorf("the console has no slow-session line for call-blocker:\n%s", console)
	}
	if strings.Contains(console, "msg=session.start") {
		t.Error("--quiet logged lifecycle events")
	}

	out, errOut, code := runBin(t, replay, "summary", "--json", rec)
	if code != 0 {
		t.Fatalf("openrtc-replay summary exited %d: %s", code, errOut)
	}
	var sum summary
	if err := json.Unmarshal([]byte(out), &sum); err != nil {
		t.Fatalf("summary --json: %v\n%s", err, out)
	}
	if len(sum.TopCPU) == 0 || sum.TopCPU[0].SessionID != "call-cpuhog" {
		t.Errorf("top sessions by CPU: %+v, want call-cpuhog first", sum.TopCPU)
	}
	var blocking, leak bool
	for _, f := range sum.Findings {
		blocking = blocking || f.Section == "blocking" && f.SessionID == "call-blocker"
		leak = leak || f.Section == "goroutine-leak" && f.SessionID == "call-leaker"
	}
	if !blocking {
		t.Errorf("no blocking finding names call-blocker: %+v", sum.Findings)
	}
	if !leak {
		t.Logf("no goroutine-leak finding for call-leaker in this short run: %+v", sum.Findings)
	}

	out, errOut, code = runBin(t, replay, "slow", "--session", "call-blocker", "--json", rec)
	if code != 0 {
		t.Fatalf("openrtc-replay slow exited %d: %s", code, errOut)
	}
	var held, framed int
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var s stall
		if err := json.Unmarshal([]byte(line), &s); err != nil {
			t.Fatalf("slow --json line %q: %v", line, err)
		}
		// It holds the mixer for 400ms; a busy machine makes holds longer,
		// never shorter.
		if s.Source == "mixer" && s.BlockedMs >= 350 {
			held++
		}
		if strings.Contains(s.Frame, "culprits.go") && strings.Contains(s.Frame, "fetchVoiceProfileSync") {
			framed++
		}
	}
	if held == 0 || framed == 0 {
		t.Errorf("call-blocker: %d stalls of the mixer of 350ms or more, %d at culprits.go fetchVoiceProfileSync; want some of each:\n%s",
			held, framed, out)
	}

	out, errOut, code = runBin(t, replay, "sessions", "--json", "--sort", "goroutines", rec)
	if code != 0 {
		t.Fatalf("openrtc-replay sessions exited %d: %s", code, errOut)
	}
	var rows []sessionRow
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("sessions --json: %v", err)
	}
	if len(rows) == 0 || rows[0].SessionID != "call-leaker" || rows[0].GoroutinesPeak < 10 {
		t.Errorf("sessions by goroutines: want call-leaker first with at least 10, got %+v", rows[:min(3, len(rows))])
	}
}

// TestCommandLine checks the flags' error paths and --print-socket.
func TestCommandLine(t *testing.T) {
	demo, _ := build(t)
	notDir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notDir, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		code int
		want string // in standard error
	}{
		{[]string{"-h"}, 0, "-blocker"},
		{[]string{"--no-such-flag"}, 2, "flag provided but not defined"},
		{[]string{"extra"}, 1, `unexpected argument "extra"`},
		{[]string{"--record", filepath.Join(notDir, "x.zst"), "--socket", "off", "--duration", "1s"}, 1, "densitydemo:"},
	} {
		_, stderr, code := runBin(t, demo, tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("densitydemo %v: exit %d, stderr %q; want exit %d and %q", tc.args, code, stderr, tc.code, tc.want)
		}
	}

	out, _, code := runBin(t, demo, "--print-socket", "--worker", "w-1")
	if code != 0 || strings.TrimSpace(out) != introspect.DefaultSocketPath("w-1") {
		t.Errorf("--print-socket: %q (exit %d), want %q", out, code, introspect.DefaultSocketPath("w-1"))
	}
}
