package live

import (
	"os"
	"path/filepath"
	"strconv"
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

// Dir returns the current user's socket directory, where [DefaultSocketPath]
// puts every worker's socket (and where OpenRTC's Python worker puts its
// default top.sock): $XDG_RUNTIME_DIR/openrtc-<uid>, or the same under
// [os.TempDir].
func Dir() string {
	return filepath.Dir(DefaultSocketPath("worker"))
}
