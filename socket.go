package introspect

import "github.com/openrtc-go/introspect/live"

// DefaultSocketPath returns the path at which a worker of this name serves its
// live view when Options.Socket is empty:
// $XDG_RUNTIME_DIR/openrtc-<uid>/<worker>.sock, or the same under the temp
// directory. It is [live.DefaultSocketPath], kept here so that a worker can
// print its own socket without importing the client side.
func DefaultSocketPath(worker string) string { return live.DefaultSocketPath(worker) }
