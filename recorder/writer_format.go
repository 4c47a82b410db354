package recorder

import "encoding/binary"

// Helpers over format.go for a writer that builds the footer as it goes, so
// that an open file's index costs 40 bytes a frame rather than a FrameEntry.
// writer_format_test.go checks they produce exactly what appendFooter does.

// indexFrameLen is the size of an index frame: its skippable header and one
// frame entry.
const indexFrameLen = skipHeaderLen + frameEntryLen

// appendFooterEntry appends one entry of a footer payload.
func appendFooterEntry(dst []byte, e FrameEntry) []byte {
	dst = binary.LittleEndian.AppendUint64(dst, uint64(e.Offset))
	return appendFrameEntry(dst, e)
}

// appendFooterFrame appends the whole footer skippable frame around entries,
// the concatenated output of appendFooterEntry for count frames.
func appendFooterFrame(dst, entries []byte, count int) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, magicFooter)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(entries)+footerTrailer))
	dst = append(dst, entries...)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(count))
	return append(dst, footerMagic...)
}
