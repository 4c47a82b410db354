package sampler

import "sync"

// An RSSReader reads the resident set size of the current process.
//
// On Linux it keeps /proc/self/statm open and re-reads it at offset zero on
// each Read, which costs one system call and does not allocate; the result
// is the resident page count times [os.Getpagesize], the same figure as
// VmRSS in /proc/self/status.
//
// On other Unix systems /proc/self/statm does not exist and Read returns the
// peak resident set size from getrusage (ru_maxrss), which never goes down:
// it is an upper bound of the current RSS, not the current RSS. See
// [RSSReader.Peak]. On systems with neither, [NewRSSReader] returns an error
// that wraps [errors.ErrUnsupported].
//
// An RSSReader is safe for concurrent use.
type RSSReader struct {
	mu  sync.Mutex
	src rssSource
}

// NewRSSReader opens the process's RSS source. Call [RSSReader.Close] when
// done with it.
func NewRSSReader() (*RSSReader, error) {
	src, err := openRSSSource()
	if err != nil {
		return nil, err
	}
	return &RSSReader{src: src}, nil
}

// Read returns the resident set size of the process in bytes.
func (r *RSSReader) Read() (uint64, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.src.read()
}

// Peak reports whether Read returns the peak RSS of the process's lifetime
// (getrusage's ru_maxrss, on systems without /proc/self/statm) rather than
// its current RSS.
func (r *RSSReader) Peak() bool {
	return r.src.peak()
}

// Close releases the reader's file, if it holds one. Read fails after Close.
func (r *RSSReader) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.src.close()
}
