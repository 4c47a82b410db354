package introspect

// The live snapshot socket: a worker serves its current top view, one JSON
// line per connection, on a Unix socket that only its own user (or root) can
// reach. This file holds the portable half (the default path, the listener's
// careful Close and the server); socket_unix.go creates the listener and the
// socket_peer_*.go files ask the kernel who is on the other end.

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// maxWorkerName bounds the worker part of a socket file name, so that a long
// worker name cannot push the path past the kernel's sun_path limit on its own.
const maxWorkerName = 64

// DefaultSocketPath returns the path of the snapshot socket of the named worker
// for the current user: $XDG_RUNTIME_DIR/openrtc-<uid>/<worker>.sock, or the
// same under [os.TempDir] when XDG_RUNTIME_DIR is unset.
//
// The worker name is made safe for a file name: bytes other than ASCII letters,
// digits, '-', '_' and '.' become '_', a leading '.' becomes '_' (so the name
// is never hidden, "." or ".."), and it is cut to 64 bytes. An empty name is
// "worker".
func DefaultSocketPath(worker string) string {
	base := os.Getenv("XDG_RUNTIME_DIR")
	if base == "" {
		base = os.TempDir()
	}
	dir := "openrtc-" + strconv.Itoa(os.Geteuid())
	return filepath.Join(base, dir, sanitizeWorker(worker)+".sock")
}

// sanitizeWorker maps a worker name to a safe file name; see DefaultSocketPath.
func sanitizeWorker(name string) string {
	if len(name) > maxWorkerName {
		name = name[:maxWorkerName]
	}
	if name == "" {
		return "worker"
	}
	b := []byte(name)
	for i, c := range b {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '-', c == '_':
		case c == '.' && i > 0:
		default:
			b[i] = '_'
		}
	}
	return string(b)
}

// errSocketInUse reports that a live worker already answers on the socket path.
// listenPrivate never replaces a socket that answers.
var errSocketInUse = errors.New("another worker is serving")

// privateListener is a Unix listener that owns its socket file. Its Close
// removes the file only while it is still the one this listener bound: a newer
// worker that replaced it keeps its socket.
type privateListener struct {
	*net.UnixListener
	path  string
	ident os.FileInfo // the socket file as bound, for os.SameFile
}

// Path returns the file system path of the socket.
func (l *privateListener) Path() string { return l.path }

// Close stops the listener and removes its socket file if, and only if, the file
// at the path is still the one it created (same device and inode).
func (l *privateListener) Close() error {
	// Check and remove while the listener is still open and under the
	// directory lock: a starting worker cannot take the path meanwhile (it
	// would find us answering, or wait for the lock), and the kernel cannot
	// hand our inode number to a new file while our socket still holds it.
	unlock, lerr := lockDir(filepath.Dir(l.path))
	if lerr == nil {
		defer unlock()
	}
	var err error
	fi, serr := os.Lstat(l.path)
	if serr == nil && os.SameFile(fi, l.ident) {
		if rerr := os.Remove(l.path); rerr != nil {
			err = fmt.Errorf("introspect: remove socket: %w", rerr)
		}
	}
	if cerr := l.UnixListener.Close(); cerr != nil {
		err = cerr
	}
	return err
}

// serverOptions tune a snapshotServer. The zero value is the default.
type serverOptions struct {
	// MaxConns caps the connections served at once; further clients wait in
	// the kernel's listen backlog. Zero means 8.
	MaxConns int

	// WriteTimeout bounds the time spent writing one snapshot, so a client that
	// does not read holds a slot for at most this long. Zero means 2s.
	WriteTimeout time.Duration

	// OnError, if set, receives per-connection problems: refused peers, failed
	// writes, a panicking snapshot function, accept errors. It is called from
	// the server's goroutines and must not block for long.
	OnError func(error)
}

// snapshotServer serves one snapshot per connection on a privateListener:
// it checks the peer's uid, writes the snapshot and a newline, and closes.
type snapshotServer struct {
	ln       *privateListener
	snapshot func() []byte
	opt      serverOptions

	sem  chan struct{} // one token per connection being served
	done chan struct{} // closed by Close
	wg   sync.WaitGroup

	closeOnce sync.Once
	closeErr  error

	served  atomic.Uint64 // snapshots written in full
	refused atomic.Uint64 // connections closed because of the peer's uid
}

// startSnapshotServer starts serving snapshot() on ln and returns at once.
// snapshot must return one JSON object without a trailing newline; it is called
// once per accepted, trusted connection, possibly from several goroutines at
// once. The server owns ln from now on: Close closes it.
func startSnapshotServer(ln *privateListener, snapshot func() []byte, opt serverOptions) *snapshotServer {
	if opt.MaxConns <= 0 {
		opt.MaxConns = 8
	}
	if opt.WriteTimeout <= 0 {
		opt.WriteTimeout = 2 * time.Second
	}
	s := &snapshotServer{
		ln:       ln,
		snapshot: snapshot,
		opt:      opt,
		sem:      make(chan struct{}, opt.MaxConns),
		done:     make(chan struct{}),
	}
	s.wg.Add(1)
	go s.acceptLoop()
	return s
}

// Close stops accepting, waits for the connections being served (each is
// bounded by WriteTimeout) and removes the socket file if it is still ours.
// It is safe to call more than once; later calls return the first result.
func (s *snapshotServer) Close() error {
	s.closeOnce.Do(func() {
		close(s.done)
		s.closeErr = s.ln.Close()
		s.wg.Wait()
	})
	return s.closeErr
}

func (s *snapshotServer) acceptLoop() {
	defer s.wg.Done()
	var backoff time.Duration
	for {
		// Take the slot before accepting: at the cap, clients queue in the
		// kernel rather than as goroutines here.
		select {
		case s.sem <- struct{}{}:
		case <-s.done:
			return
		}
		c, err := s.ln.AcceptUnix()
		if err != nil {
			<-s.sem
			select {
			case <-s.done:
				return
			default:
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors and the like: back off as net/http does
			// rather than spin, and stay responsive to Close.
			s.report(fmt.Errorf("introspect: accept on %s: %w", s.ln.path, err))
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			t := time.NewTimer(backoff)
			select {
			case <-t.C:
			case <-s.done:
				t.Stop()
				return
			}
			continue
		}
		backoff = 0
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer func() { <-s.sem }()
			s.serve(c)
		}()
	}
}

// serve answers one connection.
func (s *snapshotServer) serve(c *net.UnixConn) {
	defer c.Close()
	defer func() {
		// A bug in the snapshot function must not take the worker down.
		if v := recover(); v != nil {
			s.report(fmt.Errorf("introspect: snapshot function panicked: %v", v))
		}
	}()
	uid, known, err := peerUID(c)
	if err != nil {
		s.report(fmt.Errorf("introspect: peer credentials on %s: %w", s.ln.path, err))
		return
	}
	if known && !trustedPeer(uid) {
		s.refused.Add(1)
		s.report(fmt.Errorf("introspect: refused a client with uid %d on %s", uid, s.ln.path))
		return
	}
	snap := s.snapshot()
	if err := c.SetWriteDeadline(time.Now().Add(s.opt.WriteTimeout)); err != nil {
		s.report(fmt.Errorf("introspect: set write deadline: %w", err))
		return
	}
	// One writev of the snapshot and its newline, without copying the snapshot.
	bufs := net.Buffers{snap, newline}
	if _, err := bufs.WriteTo(c); err != nil {
		s.report(fmt.Errorf("introspect: write snapshot on %s: %w", s.ln.path, err))
		return
	}
	s.served.Add(1)
}

var newline = []byte{'\n'}

func (s *snapshotServer) report(err error) {
	if s.opt.OnError != nil {
		s.opt.OnError(err)
	}
}

// trustedPeer reports whether a client with this uid may read the snapshot:
// our own user, or root.
func trustedPeer(uid int) bool {
	return uid == os.Geteuid() || uid == 0
}
