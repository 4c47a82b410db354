package recorder

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"
	"unsafe"

	"github.com/tidwall/gjson"
)

// errEmptyLine marks a blank line: skipped, but not damage.
var errEmptyLine = errors.New("empty line")

// errLineTooLong is the cause of a bad line longer than maxLine.
var errLineTooLong = errors.New("line too long")

// recordTime returns the time of a slog JSON record, or why the line is not
// one: it must be a valid JSON object with an RFC 3339 "time" string.
// slog's JSON handler writes "time" first, so that is tried before a lookup.
func recordTime(line []byte) (time.Time, error) {
	line = bytes.TrimSpace(line)
	if len(line) == 0 {
		return time.Time{}, errEmptyLine
	}
	if line[0] != '{' {
		return time.Time{}, errors.New("not a JSON object")
	}
	if !gjson.ValidBytes(line) {
		return time.Time{}, errors.New("not valid JSON")
	}
	if t, ok := slogTime(line); ok {
		return t, nil
	}
	v := gjson.GetBytes(line, "time")
	if v.Type != gjson.String {
		return time.Time{}, errors.New(`no "time" string`)
	}
	ts := v.Str
	t, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		if len(ts) > 40 {
			ts = ts[:40] + "..."
		}
		return time.Time{}, fmt.Errorf("time %q is not RFC 3339", ts)
	}
	return t, nil
}

// slogTime reads the time of a line in the form slog's JSON handler writes,
// {"time":"<RFC 3339>",...}, without checking the rest of the line: ok is
// false for a line in any other form. Surrounding spaces are allowed, as
// recordTime allows them.
func slogTime(line []byte) (t time.Time, ok bool) {
	line = bytes.TrimSpace(line)
	const prefix = `{"time":"`
	if !bytes.HasPrefix(line, []byte(prefix)) || line[len(line)-1] != '}' {
		return t, false
	}
	rest := line[len(prefix):]
	i := bytes.IndexByte(rest, '"')
	if i < 0 || bytes.IndexByte(rest[:i], '\\') >= 0 {
		return t, false
	}
	t, err := time.Parse(time.RFC3339Nano, unsafe.String(unsafe.SliceData(rest), i))
	return t, err == nil
}

// lineReader splits a stream into lines with a bounded buffer: a line longer
// than max is skipped, not held, and reported by its length alone.
type lineReader struct {
	r          io.Reader
	buf        []byte
	start, end int   // unread bytes are buf[start:end]
	off        int64 // stream offset of buf[start]
	max        int
	eof        bool
	err        error // a read error other than io.EOF
	// torn: the stream is a zstd frame that did not end, read up to its
	// last complete block: its end (io.ErrUnexpectedEOF) is not an error,
	// and a last line without its newline is dropped.
	torn bool
}

func newLineReader(r io.Reader, max int, buf []byte) *lineReader {
	if cap(buf) < 64<<10 {
		buf = make([]byte, 64<<10)
	}
	return &lineReader{r: r, buf: buf[:cap(buf)], max: max}
}

// next returns the next line without its newline, the line's offset, and its
// length in bytes. A line longer than max comes back with a nil line and
// tooLong set. ok is false at the end of the stream or on a read error
// (then err is set). The line is valid until the next call.
func (lr *lineReader) next() (line []byte, off, n int64, tooLong, ok bool) {
	skipping := false
	var skipped int64
	for {
		if i := bytes.IndexByte(lr.buf[lr.start:lr.end], '\n'); i >= 0 {
			line = lr.buf[lr.start : lr.start+i]
			off = lr.off
			lr.start += i + 1
			lr.off += int64(i) + 1
			if skipping || i > lr.max {
				return nil, off - skipped, skipped + int64(i), true, true
			}
			return line, off, int64(i), false, true
		}
		if lr.eof || lr.err != nil {
			if lr.torn && (lr.start != lr.end || skipping) {
				lr.off += int64(lr.end - lr.start)
				lr.start, skipping = lr.end, false
			}
			if lr.start == lr.end && !skipping {
				return nil, lr.off, 0, false, false
			}
			line = lr.buf[lr.start:lr.end]
			off, n = lr.off, int64(len(line))
			lr.off += n
			lr.start = lr.end
			if skipping || n > int64(lr.max) {
				return nil, off - skipped, skipped + n, true, true
			}
			return line, off, n, false, true
		}
		if pending := lr.end - lr.start; pending > lr.max || skipping {
			// Too long: drop what is buffered and keep only counting.
			skipping = true
			skipped += int64(pending)
			lr.off += int64(pending)
			lr.start, lr.end = 0, 0
		} else if lr.start > 0 {
			copy(lr.buf, lr.buf[lr.start:lr.end])
			lr.end -= lr.start
			lr.start = 0
		}
		if lr.end == len(lr.buf) {
			grown := make([]byte, min(2*len(lr.buf), lr.max+1))
			copy(grown, lr.buf[:lr.end])
			lr.buf = grown
		}
		n, err := lr.r.Read(lr.buf[lr.end:])
		lr.end += n
		if err == io.EOF || lr.torn && errors.Is(err, io.ErrUnexpectedEOF) {
			lr.eof = true
		} else if err != nil {
			lr.err = err
		}
	}
}
