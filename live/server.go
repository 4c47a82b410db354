package live

// The server: one snapshot per connection, written as one line, then close.

import (
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// ServerOptions tune a Server. The zero value is the default.
type ServerOptions struct {
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

// Server serves one snapshot per connection on a Listener:
// it checks the peer's uid, writes the snapshot and a newline, and closes.
type Server struct {
	ln       *Listener
	snapshot func() []byte
	opt      ServerOptions

	sem  chan struct{} // one token per connection being served
	done chan struct{} // closed by Close
	wg   sync.WaitGroup

	closeOnce sync.Once
	closeErr  error

	served  atomic.Uint64 // snapshots written in full
	refused atomic.Uint64 // connections closed because of the peer's uid
}

// Serve starts serving snapshot() on ln and returns at once.
// snapshot must return one JSON object without a trailing newline; it is called
// once per accepted, trusted connection, possibly from several goroutines at
// once. The server owns ln from now on: Close closes it.
func Serve(ln *Listener, snapshot func() []byte, opt ServerOptions) *Server {
	if opt.MaxConns <= 0 {
		opt.MaxConns = 8
	}
	if opt.WriteTimeout <= 0 {
		opt.WriteTimeout = 2 * time.Second
	}
	s := &Server{
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
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		close(s.done)
		s.closeErr = s.ln.Close()
		s.wg.Wait()
	})
	return s.closeErr
}

func (s *Server) acceptLoop() {
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
			s.report(fmt.Errorf("live: accept on %s: %w", s.ln.path, err))
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
func (s *Server) serve(c *net.UnixConn) {
	defer c.Close()
	defer func() {
		// A bug in the snapshot function must not take the worker down.
		if v := recover(); v != nil {
			s.report(fmt.Errorf("live: snapshot function panicked: %v", v))
		}
	}()
	uid, known, err := peerUID(c)
	if err != nil {
		s.report(fmt.Errorf("live: peer credentials on %s: %w", s.ln.path, err))
		return
	}
	if known && !trustedPeer(uid) {
		s.refused.Add(1)
		s.report(fmt.Errorf("live: refused a client with uid %d on %s", uid, s.ln.path))
		return
	}
	snap := s.snapshot()
	if err := c.SetWriteDeadline(time.Now().Add(s.opt.WriteTimeout)); err != nil {
		s.report(fmt.Errorf("live: set write deadline: %w", err))
		return
	}
	// One writev of the snapshot and its newline, without copying the snapshot.
	bufs := net.Buffers{snap, newline}
	if _, err := bufs.WriteTo(c); err != nil {
		s.report(fmt.Errorf("live: write snapshot on %s: %w", s.ln.path, err))
		return
	}
	s.served.Add(1)
}

var newline = []byte{'\n'}

func (s *Server) report(err error) {
	if s.opt.OnError != nil {
		s.opt.OnError(err)
	}
}

// trustedPeer reports whether a client with this uid may read the snapshot:
// our own user, or root.
func trustedPeer(uid int) bool {
	return uid == os.Geteuid() || uid == 0
}
