//go:build linux || darwin || freebsd

package live

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// shortDir returns a fresh directory with a short path (t.TempDir paths can
// exceed the 104–108 byte limit of a socket path), removed after the test.
func shortDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "ort")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// startServer listens privately at path and serves snap.
func startServer(t testing.TB, path string, snap []byte, opt ServerOptions) *Server {
	t.Helper()
	ln, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	s := Serve(ln, func() []byte { return snap }, opt)
	t.Cleanup(func() { s.Close() })
	return s
}

// rawFetch connects and reads until the server closes.
func rawFetch(t testing.TB, path string) []byte {
	t.Helper()
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDefaultSocketPath(t *testing.T) {
	uid := fmt.Sprint(os.Geteuid())
	tests := []struct {
		xdg, worker, want string
	}{
		{"/run/user/7", "voice", "/run/user/7/openrtc-" + uid + "/voice.sock"},
		{"/run/user/7", "", "/run/user/7/openrtc-" + uid + "/worker.sock"},
		{"/run/user/7", "../../etc/passwd", "/run/user/7/openrtc-" + uid + "/_._.._etc_passwd.sock"},
		{"", "top", filepath.Join(os.TempDir(), "openrtc-"+uid, "top.sock")},
	}
	for _, tt := range tests {
		t.Setenv("XDG_RUNTIME_DIR", tt.xdg)
		if got := DefaultSocketPath(tt.worker); got != tt.want {
			t.Errorf("XDG_RUNTIME_DIR=%q DefaultSocketPath(%q) = %q, want %q", tt.xdg, tt.worker, got, tt.want)
		}
	}
}

func TestSanitizeWorker(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "worker"},
		{"voice-agent_2.eu", "voice-agent_2.eu"},
		{".", "_"},
		{"..", "_."},
		{".hidden", "_hidden"},
		{"a/b\\c d", "a_b_c_d"},
		{"séance", "s__ance"},
		{"nul\x00byte", "nul_byte"},
		{strings.Repeat("x", 100), strings.Repeat("x", maxWorkerName)},
	}
	for _, tt := range tests {
		if got := sanitizeWorker(tt.in); got != tt.want {
			t.Errorf("sanitizeWorker(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestListenPrivateCreatesPrivateDir(t *testing.T) {
	defer goleak.VerifyNone(t)
	path := filepath.Join(shortDir(t), "openrtc-t", "w.sock")
	ln, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()

	dir, err := os.Lstat(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	if !dir.IsDir() || dir.Mode().Perm() != 0o700 {
		t.Errorf("socket directory mode = %v, want drwx------", dir.Mode())
	}
	sock, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	if sock.Mode().Type() != fs.ModeSocket {
		t.Errorf("%s mode = %v, want a socket", path, sock.Mode())
	}
	if sock.Mode().Perm()&0o077 != 0 {
		t.Errorf("socket mode = %v, want no group or other bits", sock.Mode())
	}
	if ln.Path() != path {
		t.Errorf("Path() = %q, want %q", ln.Path(), path)
	}
}

func TestListenPrivateRefusesUnsafeDir(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string) // makes dir unsafe
		want  string
	}{
		{"symlink", func(t *testing.T, dir string) {
			real := dir + ".real"
			if err := os.Mkdir(real, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(real, dir); err != nil {
				t.Fatal(err)
			}
		}, "is a symbolic link"},
		{"mode 0755", func(t *testing.T, dir string) {
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(dir, 0o755); err != nil {
				t.Fatal(err)
			}
		}, "has mode 0755"},
		{"mode 0770", func(t *testing.T, dir string) {
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(dir, 0o770); err != nil {
				t.Fatal(err)
			}
		}, "has mode 0770"},
		{"not a directory", func(t *testing.T, dir string) {
			if err := os.WriteFile(dir, nil, 0o600); err != nil {
				t.Fatal(err)
			}
		}, ""}, // MkdirAll or the check fails; either error names the path
		{"other owner", func(t *testing.T, dir string) {
			if os.Geteuid() != 0 {
				t.Skip("needs root to create a directory owned by another user")
			}
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.Chown(dir, 65534, 65534); err != nil {
				t.Fatal(err)
			}
		}, "is owned by uid 65534"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(shortDir(t), "openrtc-t")
			tt.setup(t, dir)
			before, _ := os.Lstat(dir)
			ln, err := Listen(filepath.Join(dir, "w.sock"))
			if err == nil {
				ln.Close()
				t.Fatal("Listen succeeded, want a refusal")
			}
			if !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %q, want it to name %s and say %q", err, dir, tt.want)
			}
			after, _ := os.Lstat(dir)
			if before.Mode() != after.Mode() {
				t.Errorf("mode changed from %v to %v: a refused directory must be left alone", before.Mode(), after.Mode())
			}
		})
	}
}

func TestListenPrivateReplacesStaleSocket(t *testing.T) {
	defer goleak.VerifyNone(t)
	dir := filepath.Join(shortDir(t), "openrtc-t")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "w.sock")
	// A crashed worker: its socket file stays, nobody accepts on it.
	old, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	old.SetUnlinkOnClose(false)
	old.Close()
	if _, err := os.Lstat(path); err != nil {
		t.Fatalf("stale socket file missing: %v", err)
	}

	s := startServer(t, path, []byte(`{"fresh":true}`), ServerOptions{})
	// The new file may well reuse the freed inode, so the proof of the
	// replacement is that the path answers again.
	if got := rawFetch(t, path); string(got) != "{\"fresh\":true}\n" {
		t.Errorf("fetched %q from the replacement", got)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestListenPrivateDoesNotStealLiveSocket(t *testing.T) {
	defer goleak.VerifyNone(t)
	path := filepath.Join(shortDir(t), "openrtc-t", "w.sock")
	s := startServer(t, path, []byte(`{"first":true}`), ServerOptions{})
	before, _ := os.Lstat(path)

	ln, err := Listen(path)
	if err == nil {
		ln.Close()
		t.Fatal("a second Listen on a live socket succeeded")
	}
	if !errors.Is(err, ErrInUse) || !strings.Contains(err.Error(), "another worker is serving at "+path) {
		t.Errorf("error = %q, want %q", err, "another worker is serving at "+path)
	}
	after, err := os.Lstat(path)
	if err != nil || !os.SameFile(before, after) {
		t.Fatalf("the live socket file was touched (%v)", err)
	}
	if got := rawFetch(t, path); string(got) != "{\"first\":true}\n" {
		t.Errorf("after the refused takeover, fetched %q", got)
	}
	s.Close()
}

func TestListenPrivateRefusesNonSocket(t *testing.T) {
	dir := filepath.Join(shortDir(t), "openrtc-t")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "w.sock")
	if err := os.WriteFile(path, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	ln, err := Listen(path)
	if err == nil {
		ln.Close()
		t.Fatal("Listen replaced a regular file")
	}
	if !strings.Contains(err.Error(), "not a socket") || !strings.Contains(err.Error(), path) {
		t.Errorf("error = %q", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "keep me" {
		t.Errorf("the regular file was changed to %q", b)
	}
}

func TestListenPrivateRefusesLongPath(t *testing.T) {
	path := filepath.Join(shortDir(t), strings.Repeat("d", 60), strings.Repeat("w", 60)+".sock")
	ln, err := Listen(path)
	if err == nil {
		ln.Close()
		t.Fatal("Listen accepted a path longer than sun_path")
	}
	if !strings.Contains(err.Error(), "bytes long") {
		t.Errorf("error = %q", err)
	}
}

func TestServerWritesOneJSONLine(t *testing.T) {
	defer goleak.VerifyNone(t)
	path := filepath.Join(shortDir(t), "openrtc-t", "w.sock")
	snap := []byte(`{"worker":{"name":"w","active_sessions":2},"sessions":[]}`)
	s := startServer(t, path, snap, ServerOptions{})

	got := rawFetch(t, path)
	if !bytes.HasSuffix(got, []byte("\n")) || bytes.Count(got, []byte("\n")) != 1 {
		t.Fatalf("got %q, want exactly one line", got)
	}
	if !json.Valid(got) || !bytes.Equal(got[:len(got)-1], snap) {
		t.Errorf("got %q, want %q and a newline", got, snap)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if n := s.served.Load(); n != 1 {
		t.Errorf("served = %d, want 1", n)
	}
}

func TestServerCloseRemovesSocket(t *testing.T) {
	defer goleak.VerifyNone(t)
	path := filepath.Join(shortDir(t), "openrtc-t", "w.sock")
	s := startServer(t, path, []byte(`{}`), ServerOptions{})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("after Close, Lstat(%s) = %v, want not exist", path, err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
}

func TestServerCloseKeepsReplacement(t *testing.T) {
	defer goleak.VerifyNone(t)
	path := filepath.Join(shortDir(t), "openrtc-t", "w.sock")
	old := startServer(t, path, []byte(`{"old":true}`), ServerOptions{})
	// The file goes away under the old worker (an operator's rm, a cleaner),
	// and a newer worker binds the same path.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	newer := startServer(t, path, []byte(`{"new":true}`), ServerOptions{})

	if err := old.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(path); err != nil {
		t.Fatalf("closing the old server removed the newer socket: %v", err)
	}
	if got := rawFetch(t, path); string(got) != "{\"new\":true}\n" {
		t.Errorf("fetched %q, want the newer worker's snapshot", got)
	}
	newer.Close()
}

func TestServerSlowClientDoesNotBlockOthers(t *testing.T) {
	defer goleak.VerifyNone(t)
	path := filepath.Join(shortDir(t), "openrtc-t", "w.sock")
	// Larger than a socket buffer, so the write to a client that does not
	// read blocks until the write deadline.
	big := []byte(`{"pad":"` + strings.Repeat("x", 1<<20) + `"}`)
	var writeErrs atomic.Int64
	s := startServer(t, path, big, ServerOptions{
		MaxConns: 4,
		// Generous, so the reading client is never cut off on a busy machine.
		WriteTimeout: 2 * time.Second,
		OnError:      func(error) { writeErrs.Add(1) },
	})

	slow, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()

	got, err := Fetch(context.Background(), path)
	if err != nil {
		t.Fatalf("a client behind a slow one: %v", err)
	}
	if len(got) != len(big) {
		t.Errorf("got %d bytes, want %d", len(got), len(big))
	}
	// Close waits for the slow client's handler, which the write deadline ends.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if writeErrs.Load() != 1 {
		t.Errorf("%d write errors reported, want 1 (the slow client's deadline)", writeErrs.Load())
	}
}

func TestServerBoundsConcurrency(t *testing.T) {
	defer goleak.VerifyNone(t)
	path := filepath.Join(shortDir(t), "openrtc-t", "w.sock")
	var inFlight, peak atomic.Int64
	ln, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	s := Serve(ln, func() []byte {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		time.Sleep(5 * time.Millisecond) // let handlers overlap
		return []byte(`{}`)
	}, ServerOptions{MaxConns: 2})
	defer s.Close()

	const clients = 20
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if _, err := Fetch(ctx, path); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if p := peak.Load(); p > 2 {
		t.Errorf("%d snapshots served at once, want at most MaxConns=2", p)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if n := s.served.Load(); n != clients {
		t.Errorf("served = %d, want %d", n, clients)
	}
}

func TestServerSurvivesPanickingSnapshot(t *testing.T) {
	defer goleak.VerifyNone(t)
	path := filepath.Join(shortDir(t), "openrtc-t", "w.sock")
	ln, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int64
	var reported atomic.Value
	s := Serve(ln, func() []byte {
		if calls.Add(1) == 1 {
			panic("boom")
		}
		return []byte(`{"ok":true}`)
	}, ServerOptions{OnError: func(err error) { reported.Store(err) }})
	defer s.Close()

	if _, err := Fetch(context.Background(), path); err == nil {
		t.Error("the fetch whose snapshot panicked succeeded")
	}
	if got, err := Fetch(context.Background(), path); err != nil || string(got) != `{"ok":true}` {
		t.Errorf("after a panic: %q, %v", got, err)
	}
	if err, _ := reported.Load().(error); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Errorf("reported %v, want the panic", err)
	}
	s.Close()
}

// childSocketEnv names the socket that the helper process connects to.
const childSocketEnv = "INTROSPECT_TEST_PEERCRED_SOCKET"

// TestPeerCredChild is not a test: TestServerRefusesOtherUID runs the test
// binary as another user with only this function selected.
func TestPeerCredChild(t *testing.T) {
	path := os.Getenv(childSocketEnv)
	if path == "" {
		t.Skip("helper process for TestServerRefusesOtherUID")
	}
	c, err := net.Dial("unix", path)
	if err != nil {
		fmt.Printf("dial error: %v\n", err)
		return
	}
	defer c.Close()
	fmt.Printf("connected as uid %d\n", os.Geteuid())
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	b, err := io.ReadAll(c)
	fmt.Printf("read=%d err=%v\n", len(b), err)
}

func TestServerRefusesOtherUID(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("runs the client under another uid with Linux credentials")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root to run a client as uid 65534")
	}
	defer goleak.VerifyNone(t)
	// Only the SO_PEERCRED check is under test, so the socket lives where
	// uid 65534 can reach it: a 0755 directory, a 0777 socket, bound with the
	// step of Listen that skips the directory checks.
	dir := shortDir(t)
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for d := filepath.Dir(dir); ; d = filepath.Dir(d) {
		if fi, err := os.Stat(d); err != nil || fi.Mode().Perm()&0o001 == 0 {
			t.Skipf("uid 65534 cannot traverse %s", d)
		}
		if d == filepath.Dir(d) {
			break
		}
	}
	path := filepath.Join(dir, "w.sock")
	ln, err := bindSocket(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o777); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var reported []error
	s := Serve(ln, func() []byte { return []byte(`{"secret":true}`) },
		ServerOptions{OnError: func(err error) { mu.Lock(); reported = append(reported, err); mu.Unlock() }})
	defer s.Close()

	// The test binary sits in a 0700 build directory; uid 65534 needs its own copy.
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	child := filepath.Join(dir, "child.test")
	copyFile(t, exe, child, 0o755)

	cmd := exec.Command(child, "-test.run=^TestPeerCredChild$", "-test.v")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), childSocketEnv+"="+path)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "connected as uid 65534") {
		t.Fatalf("the child did not connect as uid 65534:\n%s", out)
	}
	if !strings.Contains(string(out), "read=0 ") {
		t.Errorf("a client of another uid got data:\n%s", out)
	}
	if s.refused.Load() != 1 {
		t.Errorf("refused = %d, want 1", s.refused.Load())
	}
	mu.Lock()
	if len(reported) != 1 || !strings.Contains(reported[0].Error(), "uid 65534") {
		t.Errorf("reported %v, want one refusal naming uid 65534", reported)
	}
	mu.Unlock()
	// Root, through the same socket, is served: the setup was not the reason.
	if got := rawFetch(t, path); string(got) != "{\"secret\":true}\n" {
		t.Errorf("root fetched %q", got)
	}
	s.Close()
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	src, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_EXCL, mode)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
}
