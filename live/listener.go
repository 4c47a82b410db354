package live

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
)

// ErrInUse reports that a live worker already answers on the socket path.
// Listen never replaces a socket that answers.
var ErrInUse = errors.New("another worker is serving")

// Listener is a Unix listener that owns its socket file. Its Close
// removes the file only while it is still the one this listener bound: a newer
// worker that replaced it keeps its socket.
type Listener struct {
	*net.UnixListener
	path  string
	ident os.FileInfo // the socket file as bound, for os.SameFile
}

// Path returns the file system path of the socket.
func (l *Listener) Path() string { return l.path }

// Close stops the listener and removes its socket file if, and only if, the file
// at the path is still the one it created (same device and inode).
func (l *Listener) Close() error {
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
			err = fmt.Errorf("live: remove socket: %w", rerr)
		}
	}
	if cerr := l.UnixListener.Close(); cerr != nil {
		err = cerr
	}
	return err
}
