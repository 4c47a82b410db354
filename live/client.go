package live

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"syscall"
	"time"
)

// ErrNoWorker reports that no worker is serving a snapshot at the socket path:
// the socket file does not exist, or nothing accepts connections on it (a
// worker that stopped or crashed). Test for it with [errors.Is].
var ErrNoWorker = errors.New("live: no worker is serving")

// DefaultFetchTimeout bounds [Fetch] when its context has no deadline.
const DefaultFetchTimeout = 5 * time.Second

// maxSnapshotSize bounds what Fetch will read: a snapshot is one line
// of JSON, and a path given on a command line may lead anywhere.
const maxSnapshotSize = 64 << 20

// Fetch connects to the worker's snapshot socket at path and returns
// the snapshot it sends: one JSON object, without the trailing newline. It does
// not parse the JSON.
//
// If no worker is serving at path, the error wraps [ErrNoWorker]. Other errors
// name the path and wrap their cause. When ctx has no deadline,
// [DefaultFetchTimeout] applies.
//
// Where the system can tell (Linux, macOS, FreeBSD), Fetch also checks
// who serves the socket and refuses a server that runs as neither the calling
// user nor root, unless the caller is root.
func Fetch(ctx context.Context, path string) ([]byte, error) {
	b, _, err := FetchFrom(ctx, path)
	return b, err
}

// Peer is the process that served a snapshot, as the kernel reports it.
type Peer struct {
	UID int
	PID int // 0 where the system does not say (only Linux does here)
}

// FetchFrom is [Fetch], and also returns who served the snapshot. A change of
// PID between two fetches at one path is a restarted worker, whatever kind of
// worker it is: OpenRTC's snapshot names no process.
func FetchFrom(ctx context.Context, path string) ([]byte, Peer, error) {
	var peer Peer
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultFetchTimeout)
		defer cancel()
	}
	var d net.Dialer
	nc, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		if errno, ok := noWorker(err); ok {
			return nil, peer, fmt.Errorf("%w at %s: %w", ErrNoWorker, path, errno)
		}
		return nil, peer, fetchError(ctx, path, err)
	}
	c := nc.(*net.UnixConn)
	defer c.Close()
	dl, _ := ctx.Deadline()
	c.SetDeadline(dl)
	// Cancelling ctx interrupts a read in progress. Registered after the
	// deadline above, so that it cannot be overwritten.
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Now()) })
	defer stop()

	if uid, pid, known, err := peerCred(c); err != nil {
		return nil, peer, fetchError(ctx, path, fmt.Errorf("peer credentials: %w", err))
	} else if known && !trustedServer(uid) {
		return nil, peer, fmt.Errorf("live: refusing the snapshot at %s: it is served by uid %d, not by us (uid %d) or root",
			path, uid, os.Geteuid())
	} else {
		peer = Peer{UID: uid, PID: pid}
	}

	line, err := readLine(c, maxSnapshotSize)
	if err != nil {
		return nil, peer, fetchError(ctx, path, err)
	}
	return line, peer, nil
}

// noWorker reports whether a dial error means that nothing listens at the
// path, and returns the system's reason.
func noWorker(err error) (syscall.Errno, bool) {
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return 0, false
	}
	return errno, errors.Is(errno, fs.ErrNotExist) || errno == syscall.ECONNREFUSED
}

// trustedServer reports whether a snapshot served by uid may be believed: our
// own user's or root's worker. Root may read any worker: it named the path.
func trustedServer(uid int) bool {
	return trustedPeer(uid) || os.Geteuid() == 0
}

// fetchError wraps err with the path, preferring the context's reason when the
// context ended the fetch.
func fetchError(ctx context.Context, path string, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		err = cerr
	} else if dl, ok := ctx.Deadline(); ok && errors.Is(err, os.ErrDeadlineExceeded) && !time.Now().Before(dl) {
		// The connection's deadline is the context's, and may fire a moment
		// before the context's own timer does.
		err = context.DeadlineExceeded
	}
	return fmt.Errorf("live: fetch snapshot from %s: %w", path, err)
}

// errNoSnapshot reports a server that closed the connection before it sent a
// byte: what a worker does to a client of another user.
var errNoSnapshot = errors.New("the worker closed the connection without sending a snapshot (is it run by another user?)")

// readLine reads up to the first newline and returns what precedes it,
// reading at most limit bytes, the newline included. It reads straight into
// one buffer that doubles as needed rather than through bufio, because a
// snapshot is read once and can be large.
func readLine(r io.Reader, limit int) ([]byte, error) {
	buf := make([]byte, 0, 32<<10)
	for {
		if len(buf) >= limit {
			return nil, fmt.Errorf("snapshot longer than %d bytes", limit)
		}
		if len(buf) == cap(buf) {
			// Double: few copies, and at most twice the snapshot in memory.
			grown := make([]byte, len(buf), min(2*cap(buf), limit))
			copy(grown, buf)
			buf = grown
		}
		n, err := r.Read(buf[len(buf):min(cap(buf), limit)])
		if i := bytes.IndexByte(buf[len(buf):len(buf)+n], '\n'); i >= 0 {
			if len(buf)+i == 0 {
				return nil, errors.New("empty snapshot")
			}
			return buf[:len(buf)+i], nil
		}
		buf = buf[:len(buf)+n]
		switch {
		case err == io.EOF && len(buf) == 0:
			return nil, errNoSnapshot
		case err == io.EOF:
			return nil, fmt.Errorf("snapshot cut short after %d bytes: %w", len(buf), io.ErrUnexpectedEOF)
		case err != nil:
			return nil, err
		}
	}
}
