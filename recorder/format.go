package recorder

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// The on-disk layout of a recording (docs/recording-format.md is the prose
// version of this file).
//
//	file    := header? ( data index | index data )* data? footer?
//	header  := skippable frame, magic magicFileHeader, payload fileHeader
//	index   := skippable frame, magic magicFrameIndex, payload frameEntry (32 bytes)
//	data    := one standard zstd frame holding whole JSON lines
//	footer  := skippable frame, magic magicFooter,
//	           payload (offset u64, frameEntry)* count u32 "ORTCFOOT"
//
// All integers are little-endian, as in zstd itself. Skippable frames are
// ignored by zstd tools, so `zstdcat` yields exactly the JSON lines.
//
// Version 2 (the writer's default) streams each data frame: the frame stays
// open for a keyframe interval and gets a block of lines at every flush, so
// compression sees the whole interval while a crash loses at most the block
// being filled. Its index frame (entry version 2) follows the data frame, in
// the same write(2) as its last block, since only then are its lengths
// known; a file whose writer was killed ends inside an open data frame,
// whose complete blocks are read. Version 1 (Options.IndependentFrames, and
// every file written before version 2) writes each frame whole, its index
// frame before it.
const (
	magicZstd       uint32 = 0xFD2FB528
	magicSkipMin    uint32 = 0x184D2A50 // zstd reserves 0x184D2A50..0x184D2A5F
	magicSkipMax    uint32 = 0x184D2A5F
	magicFileHeader uint32 = 0x184D2A50
	magicFrameIndex uint32 = 0x184D2A51
	magicFooter     uint32 = 0x184D2A52

	skipHeaderLen   = 8  // magic u32 + payload size u32
	fileHeaderLen   = 20 // "ORTCREC1" + version u16 + reserved u16 + created i64
	frameEntryLen   = 32
	footerEntryLen  = 8 + frameEntryLen
	footerTrailer   = 4 + 8 // count u32 + footerMagic
	formatVersion   = 1     // an index frame before its data frame
	formatVersion2  = 2     // an index frame after its data frame (streamed frames)
	fileHeaderMagic = "ORTCREC1"
	footerMagic     = "ORTCFOOT"
)

// Frame flags, stored in frameEntry.Flags.
const (
	// FlagKeyframe marks a data frame whose first record is a keyframe: a
	// reader may start folding there.
	FlagKeyframe uint8 = 1 << 0
)

// FrameEntry describes one data frame: where it is, how big, how many
// records, their time range, and whether it starts with a keyframe.
type FrameEntry struct {
	Offset     int64     // file offset of the frame's index frame (or of the data frame when it has none)
	DataOffset int64     // file offset of the zstd data frame
	Flags      uint8     // FlagKeyframe
	CompLen    uint32    // compressed length of the zstd data frame
	RawLen     uint32    // decompressed length, 0 when unknown
	Records    uint32    // number of JSON lines, 0 when unknown
	MinTime    time.Time // earliest record time in the frame; zero when unknown
	MaxTime    time.Time // latest record time in the frame

	// trailing: the entry is of version 2, its index frame follows the
	// data frame (Offset and DataOffset are then both the data frame's).
	trailing bool
}

// Keyframe reports whether the frame starts with a keyframe.
func (e FrameEntry) Keyframe() bool { return e.Flags&FlagKeyframe != 0 }

func putUnixNano(b []byte, t time.Time) {
	var n int64
	if !t.IsZero() {
		n = t.UnixNano()
	}
	binary.LittleEndian.PutUint64(b, uint64(n))
}

func getUnixNano(b []byte) time.Time {
	n := int64(binary.LittleEndian.Uint64(b))
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// appendSkippable appends a skippable frame with the given magic and payload.
func appendSkippable(dst []byte, magic uint32, payload []byte) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, magic)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(payload)))
	return append(dst, payload...)
}

// appendFrameEntry appends the 32-byte payload of an index frame.
func appendFrameEntry(dst []byte, e FrameEntry) []byte {
	var b [frameEntryLen]byte
	b[0] = formatVersion
	if e.trailing {
		b[0] = formatVersion2
	}
	b[1] = e.Flags
	binary.LittleEndian.PutUint32(b[4:], e.CompLen)
	binary.LittleEndian.PutUint32(b[8:], e.Records)
	binary.LittleEndian.PutUint32(b[12:], e.RawLen)
	putUnixNano(b[16:], e.MinTime)
	putUnixNano(b[24:], e.MaxTime)
	return append(dst, b[:]...)
}

var errShortEntry = errors.New("index entry too short")

// parseFrameEntry reads the payload of an index frame.
func parseFrameEntry(b []byte) (FrameEntry, error) {
	if len(b) < frameEntryLen {
		return FrameEntry{}, errShortEntry
	}
	if b[0] != formatVersion && b[0] != formatVersion2 {
		return FrameEntry{}, fmt.Errorf("index entry version %d, want %d or %d", b[0], formatVersion, formatVersion2)
	}
	e := FrameEntry{
		trailing: b[0] == formatVersion2,
		Flags:    b[1],
		CompLen:  binary.LittleEndian.Uint32(b[4:]),
		Records:  binary.LittleEndian.Uint32(b[8:]),
		RawLen:   binary.LittleEndian.Uint32(b[12:]),
		MinTime:  getUnixNano(b[16:]),
		MaxTime:  getUnixNano(b[24:]),
	}
	return e, nil
}

// fileHeader is the payload of the file header frame.
type fileHeader struct {
	schema  uint16
	created time.Time
	worker  WorkerID // zero in files written before the header named it
}

// maxWorkerField bounds the worker name and host stored in a file header.
const maxWorkerField = 255

// maxFileHeaderLen is the most of a file header's payload a reader looks at.
const maxFileHeaderLen = fileHeaderLen + 4 + 2*(2+maxWorkerField)

// appendFileHeader appends the payload of the file header frame: the 20
// bytes every version has, then who writes the file (pid u32, then the
// worker name and the host, each a u16 length and that many bytes), so that
// files of different workers can be told apart from their first bytes.
func appendFileHeader(dst []byte, h fileHeader) []byte {
	dst = append(dst, fileHeaderMagic...)
	dst = binary.LittleEndian.AppendUint16(dst, h.schema)
	dst = binary.LittleEndian.AppendUint16(dst, 0)
	var b [8]byte
	putUnixNano(b[:], h.created)
	dst = append(dst, b[:]...)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(max(h.worker.PID, 0)))
	for _, s := range []string{h.worker.Name, h.worker.Host} {
		s = s[:min(len(s), maxWorkerField)]
		dst = binary.LittleEndian.AppendUint16(dst, uint16(len(s)))
		dst = append(dst, s...)
	}
	return dst
}

// parseFileHeader reads the payload of the file header frame. The worker
// fields are optional (older files end after 20 bytes); ones that do not fit
// the payload are left unknown.
func parseFileHeader(b []byte) (fileHeader, error) {
	if len(b) < fileHeaderLen || string(b[:8]) != fileHeaderMagic {
		return fileHeader{}, errors.New("not an openrtc recording header")
	}
	h := fileHeader{schema: binary.LittleEndian.Uint16(b[8:]), created: getUnixNano(b[12:])}
	rest := b[fileHeaderLen:]
	if len(rest) < 4 {
		return h, nil
	}
	pid := int(binary.LittleEndian.Uint32(rest))
	rest = rest[4:]
	var fields [2]string
	for i := range fields {
		if len(rest) < 2 {
			return h, nil
		}
		n := int(binary.LittleEndian.Uint16(rest))
		if n > maxWorkerField || len(rest) < 2+n {
			return h, nil
		}
		fields[i], rest = string(rest[2:2+n]), rest[2+n:]
	}
	h.worker = WorkerID{Name: fields[0], Host: fields[1], PID: pid}
	return h, nil
}

// appendFooter appends the payload of the footer frame: every entry with its
// offset, the count, and the footer magic, so a reader finds the footer from
// the last 12 bytes of the file.
func appendFooter(dst []byte, entries []FrameEntry) []byte {
	for _, e := range entries {
		dst = binary.LittleEndian.AppendUint64(dst, uint64(e.Offset))
		dst = appendFrameEntry(dst, e)
	}
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(entries)))
	return append(dst, footerMagic...)
}
