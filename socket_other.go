//go:build !unix || aix || hurd

package introspect

import (
	"errors"
	"fmt"
)

// errNoPrivateSocket reports a system where listenPrivate cannot check a
// directory's owner and mode the way it requires.
var errNoPrivateSocket = errors.New("introspect: a private snapshot socket is not supported on this system")

// listenPrivate is not supported here; see the Unix version.
func listenPrivate(path string) (*privateListener, error) {
	return nil, fmt.Errorf("%w (socket %s)", errNoPrivateSocket, path)
}

// lockDir is a no-op here: listenPrivate never succeeds, so there is nothing
// to serialise with.
func lockDir(dir string) (unlock func(), err error) {
	return func() {}, nil
}
