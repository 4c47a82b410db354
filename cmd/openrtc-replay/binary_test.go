package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestBinary builds the real binary and runs it as an operator would:
// exit statuses, standard input, and the same output as in-process runs.
func TestBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds openrtc-replay")
	}
	goTool := filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	if _, err := os.Stat(goTool); err != nil {
		goTool = "go"
	}
	bin := filepath.Join(t.TempDir(), "openrtc-replay")
	if out, err := exec.Command(goTool, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	runBin := func(stdin string, args ...string) result {
		t.Helper()
		cmd := exec.Command(bin, args...)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if stdin != "" {
			f, err := os.Open(stdin)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			cmd.Stdin = f
		}
		err := cmd.Run()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return result{out: out.String(), err: errb.String(), code: code}
	}

	t.Run("top --once", func(t *testing.T) {
		r := runBin("", "top", "--once", "--at", "03:12:30", fixture("normal.zst"))
		want := runArgs(t, "top", "--once", "--at", "03:12:30", fixture("normal.zst"))
		if r.code != 0 || r.out != want.out || r.err != "" {
			t.Errorf("binary: exit %d, stderr %q, stdout differs from the in-process run:\n%s", r.code, r.err, r.out)
		}
	})
	t.Run("standard input", func(t *testing.T) {
		want := runArgs(t, "slow", fixture("stalls.zst")).out
		if r := runBin(fixture("stalls.zst"), "slow", "-"); r.code != 0 || r.out != want {
			t.Errorf("slow - < stalls.zst: exit %d, stderr %q\n%s", r.code, r.err, r.out)
		}
		// A plain log on standard input, as `kubectl logs | openrtc-replay sessions -` would.
		r := runBin(fixture("plain.jsonl"), "sessions", "-")
		if r.code != 0 || !strings.Contains(r.out, "job-a1") {
			t.Errorf("sessions - < plain.jsonl: exit %d, stderr %q\n%s", r.code, r.err, r.out)
		}
	})
	t.Run("exit statuses", func(t *testing.T) {
		for _, tc := range []struct {
			args []string
			code int
		}{
			{[]string{"top", "--once", "nope.zst"}, 2},
			{[]string{"summary", "--bogus", fixture("normal.zst")}, 2},
			{[]string{"top", "--once", "--at", "23:00", fixture("normal.zst")}, 2},
			{[]string{"verify", fixture("normal.zst")}, 0},
			{[]string{"verify", fixture("crash.zst")}, 1},
			{[]string{"verify", "main.go"}, 2},
			{[]string{"live", "--once", "--socket", filepath.Join(t.TempDir(), "none.sock")}, 1},
		} {
			r := runBin("", tc.args...)
			if r.code != tc.code {
				t.Errorf("%v: exit %d, want %d (stderr %q)", tc.args, r.code, tc.code, r.err)
			}
			if tc.code == 2 && strings.Count(r.err, "\n") != 1 && tc.args[0] != "verify" {
				t.Errorf("%v: stderr %q, want one line", tc.args, r.err)
			}
		}
	})
}
