//go:build !unix || aix || hurd

package live

import (
	"errors"
	"fmt"
)

// errNoPrivateSocket reports a system where Listen cannot check a
// directory's owner and mode the way it requires.
var errNoPrivateSocket = errors.New("live: a private snapshot socket is not supported on this system")

// Listen is not supported here; see the Unix version.
func Listen(path string) (*Listener, error) {
	return nil, fmt.Errorf("%w (socket %s)", errNoPrivateSocket, path)
}

// lockDir is a no-op here: Listen never succeeds, so there is nothing
// to serialise with.
func lockDir(dir string) (unlock func(), err error) {
	return func() {}, nil
}
