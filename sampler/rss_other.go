//go:build !unix

package sampler

import (
	"errors"
	"fmt"
	"runtime"
)

// rssSource has nothing to read on systems that are not Unix.
type rssSource struct{}

func openRSSSource() (rssSource, error) {
	return rssSource{}, fmt.Errorf("sampler: RSS on %s: %w", runtime.GOOS, errors.ErrUnsupported)
}

func (rssSource) read() (uint64, error) {
	return 0, fmt.Errorf("sampler: RSS on %s: %w", runtime.GOOS, errors.ErrUnsupported)
}

func (rssSource) peak() bool { return false }

func (rssSource) close() error { return nil }
