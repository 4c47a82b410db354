//go:build linux

package sampler

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// rssSource keeps /proc/self/statm open: reading it again at offset zero
// (pread) makes the kernel regenerate the line, so one open file serves every
// Read and costs no open/close per sample.
type rssSource struct {
	f        *os.File
	pageSize uint64
	buf      [256]byte
}

func openRSSSource() (rssSource, error) {
	f, err := os.Open("/proc/self/statm")
	if err != nil {
		return rssSource{}, fmt.Errorf("sampler: open RSS source: %w", err)
	}
	return rssSource{f: f, pageSize: uint64(os.Getpagesize())}, nil
}

func (s *rssSource) read() (uint64, error) {
	n, err := s.f.ReadAt(s.buf[:], 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return 0, fmt.Errorf("sampler: read %s: %w", s.f.Name(), err)
	}
	pages, err := parseStatmResident(s.buf[:n])
	if err != nil {
		return 0, fmt.Errorf("sampler: %s: %w", s.f.Name(), err)
	}
	return pages * s.pageSize, nil
}

func (s *rssSource) peak() bool { return false }

func (s *rssSource) close() error { return s.f.Close() }
