//go:build unix && !aix && !hurd

package live

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// staleDialTimeout bounds the probe of an existing socket file. A worker that
// is alive but too busy to accept is not stale; only a refused connection is.
const staleDialTimeout = time.Second

// maxSocketPath is the longest path bind(2) accepts (sun_path less its NUL).
var maxSocketPath = len(unix.RawSockaddrUnix{}.Path) - 1

// Listen listens on a Unix socket at path that no other user can reach.
//
// The socket's directory is created with mode 0700 if missing. If it exists it
// must be a real directory (not a symbolic link) owned by us and closed to group
// and others; it is never chmod-ed, since it may not be ours to change. The
// socket is created inside it, so there is no moment when another user could
// connect.
//
// An existing socket file is probed: if a worker answers, Listen fails
// with an error that wraps ErrInUse; if the connection is refused, the
// file is left over from a crashed worker and is replaced. Any other file at
// the path is refused. The probe, removal and bind run under an advisory lock
// on the directory, so two workers starting at once cannot both "replace" the
// same stale file and strand one another.
func Listen(path string) (*Listener, error) {
	if len(path) > maxSocketPath {
		return nil, fmt.Errorf("live: socket path %s is %d bytes long; the limit is %d", path, len(path), maxSocketPath)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("live: create socket directory: %w", err)
	}
	if err := checkPrivateDir(dir); err != nil {
		return nil, err
	}
	unlock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if err := clearStaleSocket(path); err != nil {
		return nil, err
	}
	return bindSocket(path)
}

// checkPrivateDir refuses a socket directory that another user could enter,
// replace or redirect.
func checkPrivateDir(dir string) error {
	fi, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("live: socket directory: %w", err)
	}
	problem := ""
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		problem = "is a symbolic link"
	case !fi.IsDir():
		problem = "is not a directory"
	default:
		st, ok := fi.Sys().(*syscall.Stat_t)
		switch {
		case !ok:
			problem = "has no owner information"
		case int(st.Uid) != os.Geteuid():
			problem = fmt.Sprintf("is owned by uid %d, not by us (uid %d)", st.Uid, os.Geteuid())
		case fi.Mode().Perm()&0o077 != 0:
			problem = fmt.Sprintf("has mode %#o, which lets group or others in (want 0700)", fi.Mode().Perm())
		}
	}
	if problem != "" {
		return fmt.Errorf("live: refusing socket directory %s: it %s", dir, problem)
	}
	return nil
}

// clearStaleSocket makes room at path for a new socket: nothing there is fine,
// a socket nobody answers on is removed, anything else is an error.
func clearStaleSocket(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("live: socket path: %w", err)
	}
	if fi.Mode().Type() != fs.ModeSocket {
		return fmt.Errorf("live: refusing to replace %s: it is not a socket (%s)", path, fi.Mode().Type())
	}
	c, err := net.DialTimeout("unix", path, staleDialTimeout)
	if err == nil {
		c.Close()
		return fmt.Errorf("live: %w at %s", ErrInUse, path)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		// Busy, or not ours to talk to: either way, not provably stale.
		return fmt.Errorf("live: cannot tell whether the socket at %s is stale: %w", path, err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("live: remove stale socket: %w", err)
	}
	return nil
}

// bindSocket binds a Unix socket at path and records the file it created. It
// does not check the directory: Listen does that first. Tests use it
// directly to listen in a directory that other users can enter.
func bindSocket(path string) (*Listener, error) {
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("live: listen: %w", err)
	}
	// The net package would unlink by name on Close, even a newer worker's
	// socket; Listener.Close removes only the file it created.
	ln.SetUnlinkOnClose(false)
	// The 0700 directory is the guard; 0600 on the socket is belt and braces.
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		os.Remove(path)
		return nil, fmt.Errorf("live: chmod socket: %w", err)
	}
	fi, err := os.Lstat(path)
	if err != nil {
		ln.Close()
		os.Remove(path)
		return nil, fmt.Errorf("live: stat socket: %w", err)
	}
	return &Listener{UnixListener: ln, path: path, ident: fi}, nil
}

// lockDir takes an exclusive advisory lock on the directory and returns its
// release. The lock lives with the open descriptor, so a crashed worker never
// leaves it held.
func lockDir(dir string) (unlock func(), err error) {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("live: open socket directory %s: %w", dir, err)
	}
	for {
		err = unix.Flock(fd, unix.LOCK_EX)
		if err != unix.EINTR { // the runtime's preemption signals interrupt flock
			break
		}
	}
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("live: lock socket directory %s: %w", dir, err)
	}
	return func() { unix.Close(fd) }, nil
}
