package recorder

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// normalLayout is where things are in a copy of fixtures/normal.zst: each
// frame's index frame offset, and where the footer starts.
type normalLayout struct {
	data    []byte
	entries []FrameEntry
	footer  int64
}

func loadNormal(t *testing.T) normalLayout {
	t.Helper()
	path := filepath.Join("..", "fixtures", "normal.zst")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := mustOpen(t, path)
	defer s.Close()
	if fi := s.Files()[0]; fi.Index != IndexFooter || len(fi.Damage) != 0 {
		t.Fatalf("normal.zst: %+v", fi)
	}
	l := normalLayout{data: data, entries: s.Index(0)}
	l.footer = int64(len(data)) - skipHeaderLen - int64(len(l.entries))*footerEntryLen - footerTrailer
	return l
}

// footerEntry is the offset in the file of footer entry k's field at off
// within the 40-byte (offset u64 + entry) record.
func (l normalLayout) footerEntry(k, off int) int64 {
	return l.footer + skipHeaderLen + int64(k)*footerEntryLen + int64(off)
}

// Fields of a 32-byte frame entry, and their offsets in a footer record.
const (
	fVersion = 0
	fCompLen = 4
	fRecords = 8
	fRawLen  = 12
	fMinTime = 16
	fMaxTime = 24
)

// TestIndexDamage reproduces issue 12's F1–F3 and their kin: one field of
// one copy of the index is damaged (in the footer, in an index frame, with
// the footer kept or cut off). Every record is still read, in the same
// order, a time-range scan over the damaged frame returns what it returns on
// the clean file, and the disagreement is reported as IndexMismatch; nothing
// is reported as lost.
func TestIndexDamage(t *testing.T) {
	l := loadNormal(t)
	const k = 9 // frame 9: 03:11:30–03:11:39, 10 records, not a keyframe
	idx := l.entries[k].Offset
	flip := func(at int64, mask byte) func([]byte) []byte {
		return func(b []byte) []byte { b[at] ^= mask; return b }
	}
	tests := []struct {
		name     string
		damage   func([]byte) []byte
		inFooter bool // the damage is in the footer: pointless with it cut
	}{
		// F1: the low byte of a footer entry's compressed length.
		{"footer compressed length", flip(l.footerEntry(5, 8+fCompLen), 0xff), true},
		{"footer offset", flip(l.footerEntry(k, 0), 0x10), true},
		{"footer offset past the file", flip(l.footerEntry(k, 5), 0x7f), true},
		{"footer records", flip(l.footerEntry(k, 8+fRecords), 0x01), true},
		{"footer min time", flip(l.footerEntry(k, 8+fMinTime+7), 0xff), true},
		{"footer max time", flip(l.footerEntry(k, 8+fMaxTime+4), 0x01), true},
		{"footer keyframe flag", flip(l.footerEntry(k, 8+1), 0x01), true},
		{"footer count", flip(int64(len(l.data))-footerTrailer, 0x01), true},
		{"footer magic", flip(int64(len(l.data))-1, 0x01), true},
		{"footer frame size", flip(l.footer+4, 0x01), true},
		// F2: the size field of an index frame.
		{"index frame size", flip(idx+4, 0xff), false},
		{"index frame magic", flip(idx, 0x01), false},
		{"index frame version", flip(idx+skipHeaderLen+fVersion, 0x02), false},
		{"index frame compressed length", flip(idx+skipHeaderLen+fCompLen, 0xff), false},
		{"index frame records", flip(idx+skipHeaderLen+fRecords, 0x04), false},
		{"index frame raw length", flip(idx+skipHeaderLen+fRawLen+1, 0x01), false},
		// F3: the top byte of an index frame's min time.
		{"index frame min time", flip(idx+skipHeaderLen+fMinTime+7, 0xff), false},
		{"index frame max time", flip(idx+skipHeaderLen+fMaxTime+7, 0x01), false},
		{"index frame min time, low bytes", flip(idx+skipHeaderLen+fMinTime+3, 0x80), false},
	}
	clean := mustOpen(t, writeTemp(t, "", "clean.zst", l.data))
	defer clean.Close()
	want := readAll(t, clean.Scan())
	from, to := l.entries[k].MinTime, l.entries[k].MaxTime.Add(time.Nanosecond)
	wantRange := readAll(t, clean.ScanRange(from, to))
	if len(want) != 195 || len(wantRange) != 10 {
		t.Fatalf("normal.zst: %d records, %d in frame %d", len(want), len(wantRange), k)
	}
	dir := t.TempDir()
	for _, tt := range tests {
		for _, cut := range []bool{false, true} {
			if cut && tt.inFooter {
				continue
			}
			name := tt.name
			if cut {
				name += ", footer cut"
			}
			t.Run(name, func(t *testing.T) {
				data := tt.damage(append([]byte(nil), l.data...))
				if cut {
					data = data[:l.footer]
				}
				p := writeTemp(t, dir, "damaged.zst", data)
				// A range scan first, on a fresh set, so that it relies
				// on the index as opened.
				s := mustOpen(t, p)
				equalLines(t, readAll(t, s.ScanRange(from, to)), wantRange)
				s.Close()
				s = mustOpen(t, p)
				defer s.Close()
				equalLines(t, readAll(t, s.Scan()), want)
				mismatch := 0
				for _, d := range s.Damage() {
					if d.Kind != IndexMismatch {
						t.Errorf("damage %v: want only index-mismatch", d)
					}
					mismatch++
				}
				if mismatch == 0 {
					t.Errorf("no index-mismatch reported")
				}
				first, last := s.Span()
				if !first.Equal(l.entries[0].MinTime) || !last.Equal(l.entries[len(l.entries)-1].MaxTime) {
					t.Errorf("span %v → %v", first, last)
				}
				if _, ok := s.KeyframeAtOrBefore(from); !ok {
					t.Errorf("no keyframe before %v", from)
				}
			})
		}
	}
}

// TestIndexDamageMessages: the reports name the copy and the field.
func TestIndexDamageMessages(t *testing.T) {
	l := loadNormal(t)
	for _, tt := range []struct {
		at   int64
		cut  bool
		want string
	}{
		{l.footerEntry(5, 8+fCompLen), false, "footer entry 5 disagrees with the frame at offset"},
		{l.entries[3].Offset + 4, false, "its size field says"},
		{l.entries[9].Offset + skipHeaderLen + fMinTime + 7, true, "its index said 10 records from"},
	} {
		data := append([]byte(nil), l.data...)
		data[tt.at] ^= 0xff
		if tt.cut {
			data = data[:l.footer]
		}
		s := mustOpen(t, writeTemp(t, "", "d.zst", data))
		readAll(t, s.Scan())
		var msgs []string
		for _, d := range s.Damage() {
			msgs = append(msgs, d.Error())
		}
		if !strings.Contains(strings.Join(msgs, "\n"), tt.want) {
			t.Errorf("damage at %d: %q, want %q", tt.at, msgs, tt.want)
		}
		s.Close()
	}
}

// TestFooterAgreesCheap: an intact footer is used as it is, and reading the
// file's index costs no decompression.
func TestFooterAgreesCheap(t *testing.T) {
	l := loadNormal(t)
	s := mustOpen(t, writeTemp(t, "", "n.zst", l.data))
	defer s.Close()
	fi := s.Files()[0]
	if fi.Index != IndexFooter || !fi.Footer || len(fi.Damage) != 0 || fi.Frames != 19 {
		t.Fatalf("%+v", fi)
	}
	_ = binary.LittleEndian
}
