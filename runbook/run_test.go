package runbook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// commandTimeout bounds one block's run: a hung command fails the test
// instead of stalling CI. It is not a speed limit; blocks take a second.
const commandTimeout = 2 * time.Minute

// repoRoot is the module root, the parent of this package's directory.
func repoRoot(t testing.TB) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func readFile(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// tools are the installed binaries and the environment blocks run in.
type tools struct {
	bin string   // GOBIN: openrtc-replay and densitydemo
	env []string // PATH with bin first, a private XDG_RUNTIME_DIR, PPROF_TMPDIR
}

var (
	toolsOnce sync.Once
	toolsVal  *tools
	toolsErr  error
	toolsDir  string
)

// TestMain removes the binaries installed for the package's tests.
func TestMain(m *testing.M) {
	code := m.Run()
	if toolsDir != "" {
		os.RemoveAll(toolsDir)
	}
	os.Exit(code)
}

// installTools runs the runbook's setup block from the repository root with
// GOBIN set to a temporary directory, once per test binary: the binaries
// every other block uses are the ones the runbook tells a reader to
// install.
func installTools(t testing.TB) *tools {
	t.Helper()
	toolsOnce.Do(func() {
		toolsVal, toolsErr = doInstall(t)
	})
	if toolsErr != nil {
		t.Fatal(toolsErr)
	}
	return toolsVal
}

func doInstall(t testing.TB) (*tools, error) {
	root := repoRoot(t)
	blocks, err := parseBlocks(readFile(t, filepath.Join(root, "runbook", "density-debugging.md")))
	if err != nil {
		return nil, err
	}
	var setup []block
	for _, b := range blocks {
		if b.tested() && b.mode() == "setup" {
			setup = append(setup, b)
		}
	}
	if len(setup) != 1 {
		return nil, fmt.Errorf("the runbook has %d setup blocks, want 1", len(setup))
	}
	dir, err := os.MkdirTemp("", "runbook-tools-")
	if err != nil {
		return nil, err
	}
	toolsDir = dir
	tl := &tools{bin: filepath.Join(dir, "bin")}
	xdg := filepath.Join(dir, "xdg")
	for _, d := range []string{tl.bin, xdg, filepath.Join(dir, "pprof")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, err
		}
	}
	tl.env = environ(map[string]string{
		"PATH":            tl.bin + string(os.PathListSeparator) + os.Getenv("PATH"),
		"XDG_RUNTIME_DIR": xdg,
		"PPROF_TMPDIR":    filepath.Join(dir, "pprof"),
		"NO_COLOR":        "1",
	})
	b := setup[0]
	out, code, err := runSh(root, append(slices.Clip(tl.env), "GOBIN="+tl.bin), b.text)
	if err != nil {
		return nil, fmt.Errorf("setup block (line %d): %w\n%s", b.line, err, out)
	}
	if code != b.exit {
		return nil, fmt.Errorf("setup block (line %d) exited %d:\n%s", b.line, code, out)
	}
	for _, name := range []string{"openrtc-replay", "densitydemo"} {
		if _, err := os.Stat(filepath.Join(tl.bin, name)); err != nil {
			return nil, fmt.Errorf("the setup block (line %d) did not install %s: %w", b.line, name, err)
		}
	}
	return tl, nil
}

// environ returns the process's environment with set applied.
func environ(set map[string]string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if _, ok := set[k]; !ok && k != "GOBIN" {
			env = append(env, kv)
		}
	}
	for k, v := range set {
		env = append(env, k+"="+v)
	}
	return env
}

// runSh runs script with sh in dir and returns its standard output and
// error together and its exit status; err is set only when sh could not
// run or timed out.
func runSh(dir string, env []string, script string) (string, int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "-c", script)
	cmd.Dir, cmd.Env = dir, env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Stdin = nil
	err := cmd.Run()
	if ctx.Err() != nil {
		return out.String(), -1, fmt.Errorf("timed out after %v", commandTimeout)
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return out.String(), exit.ExitCode(), nil
	}
	if err != nil {
		return out.String(), -1, err
	}
	return out.String(), 0, nil
}

// check compares a block's output and exit status with its expectations.
func check(t *testing.T, b block, out string, code int) {
	t.Helper()
	fail := func(format string, args ...any) {
		t.Helper()
		t.Errorf("line %d: %s\n--- block:\n%s--- output:\n%s", b.line, fmt.Sprintf(format, args...), b.text, out)
	}
	if code != b.exit {
		fail("exit status %d, want %d", code, b.exit)
	}
	for _, s := range b.expect {
		if !strings.Contains(out, s) {
			fail("output does not show %q", s)
		}
	}
	for _, s := range b.expectNot {
		if strings.Contains(out, s) {
			fail("output shows %q, which it should not", s)
		}
	}
	if b.firstRow != "" {
		if got, ok := firstRow(out); !ok || got != b.firstRow {
			fail("first row is %q, want %q", got, b.firstRow)
		}
	}
}

// needsMissing returns the first tool b needs that is not installed.
func needsMissing(b block) string {
	for _, n := range b.needs {
		if _, err := exec.LookPath(n); err != nil {
			return n
		}
	}
	return ""
}

// incidentDir returns a directory holding a copy of the bundled incident as
// fixtures/incident.zst, where post-mortem blocks run and may write files.
func incidentDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "fixtures"), 0o755); err != nil {
		t.Fatal(err)
	}
	src, err := os.Open(filepath.Join(repoRoot(t), "fixtures", "incident.zst"))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.Create(filepath.Join(dir, "fixtures", "incident.zst"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

// freeAddr returns a loopback address with a port nobody listens on now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
