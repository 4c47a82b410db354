package recorder

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// zstd frame layout constants (RFC 8878, section 3.1.1).
const (
	zstdMaxFrameHeader = 4 + 1 + 1 + 4 + 8 // magic, descriptor, window, dictionary ID, content size
	zstdBlockHeader    = 3
	zstdMaxBlock       = 128 << 10
	zstdChecksumLen    = 4
)

// errFrameShort means a frame runs past the end of the bytes available: in a
// finished file a torn tail, in a file being followed a frame not yet written.
var errFrameShort = errors.New("frame runs past the end of the file")

// zstdFrameInfo is what walkZstdFrame learns from a frame's headers alone.
type zstdFrameInfo struct {
	end         int64 // offset just past the frame, checksum included
	contentSize int64 // decompressed size from the frame header; -1 when absent
	window      uint64
	// good is the offset just past the last complete block (just past the
	// frame header when there is none), also when the walk fails: a frame
	// that did not end (a streamed frame whose writer was killed) is read
	// up to there.
	good   int64
	blocks int // complete blocks walked
}

// walkZstdFrame finds the end of the zstd frame at off without decompressing
// it: it reads the frame header, then hops from block header to block header
// (a 3-byte little-endian word: last-block flag, block type, block size) and
// adds the optional checksum. Nothing is read at or beyond limit, so a lying
// size can never send it past the file. It returns errFrameShort when the
// frame does not end before limit and another error when the bytes cannot be
// a zstd frame.
func walkZstdFrame(r io.ReaderAt, off, limit int64) (zstdFrameInfo, error) {
	info := zstdFrameInfo{contentSize: -1}
	var hdr [zstdMaxFrameHeader]byte
	n := int64(len(hdr))
	if off+n > limit {
		n = limit - off
	}
	if n < 5 {
		return info, errFrameShort
	}
	if _, err := r.ReadAt(hdr[:n], off); err != nil {
		return info, fmt.Errorf("read frame header: %w", err)
	}
	if binary.LittleEndian.Uint32(hdr[:]) != magicZstd {
		return info, errors.New("bad zstd magic")
	}
	fhd := hdr[4]
	if fhd&0x08 != 0 {
		return info, errors.New("zstd frame header: reserved bit set")
	}
	fcsFlag := fhd >> 6
	single := fhd&0x20 != 0
	checksum := fhd&0x04 != 0
	didLen := [4]int{0, 1, 2, 4}[fhd&0x03]
	fcsLen := [4]int{0, 2, 4, 8}[fcsFlag]
	if fcsFlag == 0 && single {
		fcsLen = 1
	}
	hlen := 5 + didLen + fcsLen
	if !single {
		hlen++
	}
	if int64(hlen) > n {
		return info, errFrameShort
	}
	p := 5
	if !single {
		wd := hdr[p]
		p++
		exp := uint(wd >> 3)
		base := uint64(1) << (10 + exp)
		info.window = base + base/8*uint64(wd&7)
	}
	p += didLen
	switch fcsLen {
	case 1:
		info.contentSize = int64(hdr[p])
	case 2:
		info.contentSize = int64(binary.LittleEndian.Uint16(hdr[p:])) + 256
	case 4:
		info.contentSize = int64(binary.LittleEndian.Uint32(hdr[p:]))
	case 8:
		v := binary.LittleEndian.Uint64(hdr[p:])
		if v > 1<<62 {
			return info, fmt.Errorf("zstd frame header: content size %d", v)
		}
		info.contentSize = int64(v)
	}
	if single {
		info.window = uint64(info.contentSize)
	}
	pos := off + int64(hlen)
	info.good = pos
	var bh [zstdBlockHeader]byte
	for {
		if pos+zstdBlockHeader > limit {
			return info, errFrameShort
		}
		if _, err := r.ReadAt(bh[:], pos); err != nil {
			return info, fmt.Errorf("read block header at %d: %w", pos, err)
		}
		v := uint32(bh[0]) | uint32(bh[1])<<8 | uint32(bh[2])<<16
		last := v&1 != 0
		size := int64(v >> 3)
		if size > zstdMaxBlock {
			return info, fmt.Errorf("zstd block at %d: size %d exceeds %d", pos, size, zstdMaxBlock)
		}
		pos += zstdBlockHeader
		switch (v >> 1) & 3 {
		case 0, 2: // raw, compressed: size bytes follow
			pos += size
		case 1: // RLE: one byte, repeated size times
			pos++
		default:
			return info, fmt.Errorf("zstd block at %d: reserved block type", pos-zstdBlockHeader)
		}
		if pos > limit {
			return info, errFrameShort
		}
		info.good, info.blocks = pos, info.blocks+1
		if last {
			break
		}
	}
	if checksum {
		pos += zstdChecksumLen
		if pos > limit {
			return info, errFrameShort
		}
	}
	info.end = pos
	return info, nil
}

// frameStartsAt reports whether b starts with the magic of a zstd frame or of
// a skippable frame: where a streamed frame that did not end is followed by
// the next frame, the walk meets one in place of a block header. No such
// magic reads as a valid block header (its size field exceeds 128 KiB).
func frameStartsAt(b []byte) bool {
	if len(b) < 4 {
		return false
	}
	m := binary.LittleEndian.Uint32(b)
	return m == magicZstd || (m >= magicSkipMin && m <= magicSkipMax)
}
