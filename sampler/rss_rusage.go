//go:build unix && !linux

package sampler

import (
	"fmt"
	"runtime"
	"syscall"
)

// rssSource falls back to getrusage where /proc/self/statm does not exist.
// ru_maxrss is the peak resident set size of the process's lifetime, so it
// only ever grows: it bounds the current RSS from above.
type rssSource struct{}

func openRSSSource() (rssSource, error) {
	var s rssSource
	if _, err := s.read(); err != nil {
		return rssSource{}, err
	}
	return s, nil
}

func (rssSource) read() (uint64, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, fmt.Errorf("sampler: getrusage: %w", err)
	}
	maxrss := uint64(ru.Maxrss)
	// Darwin reports bytes; the BSDs and Solaris report kilobytes.
	if runtime.GOOS != "darwin" && runtime.GOOS != "ios" {
		maxrss *= 1024
	}
	return maxrss, nil
}

func (rssSource) peak() bool { return true }

func (rssSource) close() error { return nil }
