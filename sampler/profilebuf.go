package sampler

import (
	"bytes"
	"compress/gzip"
	"io"
	"sync"
)

// A profileBuffer is the writer a CPU window hands to pprof.StartCPUProfile.
//
// runtime/pprof writes nothing to it until the profile is stopped: the whole
// profile is built and written (gzipped) when StopCPUProfile runs, by
// whoever calls it. So a buffer that has received bytes before the sampler
// called StopCPUProfile tells the sampler that someone else stopped its
// profile.
type profileBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	written chan struct{} // closed by the first Write
}

func newProfileBuffer() *profileBuffer {
	return &profileBuffer{written: make(chan struct{})}
}

func (b *profileBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf.Len() == 0 && len(p) > 0 {
		close(b.written)
	}
	return b.buf.Write(p)
}

// received reports whether any of the profile has been written.
func (b *profileBuffer) received() bool {
	select {
	case <-b.written:
		return true
	default:
		return false
	}
}

// bytes returns a copy of what has been written so far.
func (b *profileBuffer) bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes())
}

// complete reports whether the buffer holds a whole gzip stream, trailer
// included: the profile writer has finished. It is for a profile someone
// else stopped, whose writing the sampler cannot wait for directly.
func (b *profileBuffer) complete() bool {
	data := b.bytes()
	if len(data) == 0 {
		return false
	}
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return false
	}
	zr.Multistream(false)
	_, err = io.Copy(io.Discard, zr)
	return err == nil
}
