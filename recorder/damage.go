package recorder

import (
	"errors"
	"fmt"
)

// ErrNotRecording is wrapped (in an *[os.PathError]) by [Open] when an input
// is neither a recording nor a slog JSON log: an image, random bytes, a JSON
// document without timed records, an empty file.
var ErrNotRecording = errors.New("not a recording or slog JSON log")

// ErrNoInputs is returned by [Open] when it is given nothing to read: no
// paths, or only directories without recordings in them.
var ErrNoInputs = errors.New("no recordings to read")

// DamageKind says what is wrong with a stretch of a file.
type DamageKind uint8

const (
	// TruncatedTail is the crash case: the file ends inside a frame, so the
	// last frame (and the footer) were never completely written. Every frame
	// before it is read.
	TruncatedTail DamageKind = iota + 1
	// CorruptFrame is a frame that cannot be read: bad magic, a length that
	// points past the file, a block that fails to decode or a checksum
	// mismatch. Reading resumes at the next frame.
	CorruptFrame
	// BadLine is a line that is not a JSON object with an RFC 3339 "time"
	// string, or that is longer than the reader's line limit. It is skipped.
	BadLine
	// IndexMismatch is a copy of the index that disagrees with another or
	// with the data it describes: a footer entry and the index frame at
	// its offset, an index frame and the data frame after it, or an entry
	// and the records its frame holds. Nothing is lost: the reader believes
	// the frame that decodes and reads it. verify counts it as damage.
	IndexMismatch
)

// String returns "truncated-tail", "corrupt-frame", "bad-line" or
// "index-mismatch".
func (k DamageKind) String() string {
	switch k {
	case TruncatedTail:
		return "truncated-tail"
	case CorruptFrame:
		return "corrupt-frame"
	case BadLine:
		return "bad-line"
	case IndexMismatch:
		return "index-mismatch"
	}
	return fmt.Sprintf("DamageKind(%d)", uint8(k))
}

// Damage is one stretch of a file that could not be read. It is an error, so
// callers may wrap it and find it again with [errors.As].
//
// Offset is always a position in the file on disk. For a bad line inside a
// compressed frame, Offset is where that frame starts and Line is the line's
// byte offset within the frame's decompressed data; otherwise Line is -1.
type Damage struct {
	Path   string
	Kind   DamageKind
	Offset int64 // file offset where the damage starts
	Line   int64 // offset of a bad line within a decompressed frame, or -1
	Bytes  int64 // bytes affected: lost to a torn tail, skipped over, or the bad line's length
	Err    error // the cause
}

// Error describes the damage with its place: "rec.zst: offset 4096: corrupt-frame
// (812 bytes): zstd: invalid checksum".
func (d Damage) Error() string {
	where := fmt.Sprintf("offset %d", d.Offset)
	if d.Line >= 0 {
		where = fmt.Sprintf("frame at offset %d, line at +%d", d.Offset, d.Line)
	}
	msg := fmt.Sprintf("%s: %s: %s (%d bytes)", d.Path, where, d.Kind, d.Bytes)
	if d.Err != nil {
		msg += ": " + d.Err.Error()
	}
	return msg
}

// Unwrap returns the cause.
func (d Damage) Unwrap() error { return d.Err }
