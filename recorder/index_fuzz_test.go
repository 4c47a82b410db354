package recorder

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// indexFuzzBase is the recording FuzzIndexDamage damages: eight frames of
// five records, a keyframe every third frame, and a footer; with the byte
// ranges of every copy of its index (each index frame, the footer frame).
func indexFuzzBase(t testing.TB) (data []byte, regions [][2]int64, footer int64, want []string) {
	frames := testFrames(t0, 200*time.Millisecond, 8, 5, 3)
	b := newRecBuilder(t).frames(frames)
	footer = int64(len(b.buf))
	b.footer()
	for _, e := range b.entries {
		regions = append(regions, [2]int64{e.Offset, e.Offset + indexFrameLen})
	}
	regions = append(regions, [2]int64{footer, int64(len(b.buf))})
	return b.buf, regions, footer, flatten(frames)
}

// FuzzIndexDamage damages the copies of the index specifically (index
// frames and the footer, any bytes, any number of them, and cuts anywhere in
// the footer) and never the data, nor both copies of one frame's entry. The property: every frame that zstd can
// decode on its own is read back, so every record of the file is read, in
// order, by a full scan and by a range scan, and nothing decoded is reported
// lost.
func FuzzIndexDamage(f *testing.F) {
	base, regions, footer, want := indexFuzzBase(f)
	f.Fuzz(func(t *testing.T, ops []byte, cut uint16) {
		data := slices.Clone(base)
		for i := 0; i+2 < len(ops) && i < 3*16; i += 3 {
			r := regions[int(ops[i])%len(regions)]
			at := r[0] + int64(ops[i+1])%(r[1]-r[0])
			data[at] ^= ops[i+2]
		}
		// Both copies of one frame's entry damaged alike is beyond what
		// any reader can tell from the truth; damage one copy per frame.
		for k := range len(regions) - 1 {
			r := regions[k]
			fe := footer + skipHeaderLen + int64(k)*footerEntryLen
			if !bytes.Equal(data[r[0]:r[1]], base[r[0]:r[1]]) && !bytes.Equal(data[fe:fe+footerEntryLen], base[fe:fe+footerEntryLen]) {
				return
			}
		}
		if cut&1 != 0 {
			data = data[:footer+int64(cut>>1)%(int64(len(data))-footer+1)]
		}
		s, err := openData("damaged", data)
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		defer s.Close()
		first, last := s.Span()
		got := readAll(t, s.Scan())
		if !slices.Equal(got, want) {
			t.Fatalf("read %d records, want all %d\n%v", len(got), len(want), s.Damage())
		}
		if !first.Equal(t0) || !last.Equal(t0.Add(39*200*time.Millisecond)) {
			t.Fatalf("span %v → %v", first, last)
		}
		from, to := t0.Add(time.Second), t0.Add(5*time.Second)
		var inRange []string
		for i, l := range want {
			if at := t0.Add(time.Duration(i) * 200 * time.Millisecond); !at.Before(from) && at.Before(to) {
				inRange = append(inRange, l)
			}
		}
		s2, _ := openData("damaged", data)
		defer s2.Close()
		if got := readAll(t, s2.ScanRange(from, to)); !slices.Equal(got, inRange) {
			t.Fatalf("range scan read %d records, want %d\n%v", len(got), len(inRange), s2.Damage())
		}
		for _, d := range s.Damage() {
			if d.Kind == CorruptFrame || d.Kind == BadLine {
				t.Fatalf("intact data reported as %v", d)
			}
		}
	})
}

// TestIndexFuzzSeeds writes FuzzIndexDamage's seed corpus with
// -update-seeds: one damage of each field of an index frame and of the
// footer, and cuts. Without the flag it checks the corpus is there.
func TestIndexFuzzSeeds(t *testing.T) {
	_, regions, _, _ := indexFuzzBase(t)
	footerRegion := byte(len(regions) - 1)
	type seed struct {
		ops []byte
		cut uint16
	}
	var seeds []seed
	// Each byte of index frame 4's 40: the magic, the size, every entry field.
	for at := range indexFrameLen {
		seeds = append(seeds, seed{[]byte{4, byte(at), 0xff}, 0})
	}
	// Footer: entry 2's offset, compressed length, times; count; magic.
	fe := func(k, off int) byte { return byte(skipHeaderLen + k*footerEntryLen + off) }
	for _, off := range []int{0, 8 + 4, 8 + 8, 8 + 16 + 7, 8 + 24 + 3} {
		seeds = append(seeds, seed{[]byte{footerRegion, fe(2, off), 0x81}, 0})
	}
	seeds = append(seeds,
		seed{[]byte{footerRegion, 0, 0x01}, 0}, // footer magic
		seed{[]byte{footerRegion, 4, 0x08}, 0}, // footer size
		seed{nil, 1},                           // cut at the footer's start
		seed{nil, 2*100 + 1},                   // cut inside it
		seed{[]byte{1, 12, 0x10, 5, 30, 0x80, footerRegion, fe(1, 8+4), 0x01}, 0},
	)
	dir := filepath.Join("testdata", "fuzz", "FuzzIndexDamage")
	if !*updateSeeds {
		if ents, err := os.ReadDir(dir); err != nil || len(ents) < len(seeds) {
			t.Errorf("%s: want %d seeds; run go test -run TestIndexFuzzSeeds -update-seeds", dir, len(seeds))
		}
		return
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i, s := range seeds {
		body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\nuint16(%d)\n", s.ops, s.cut)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed-%02d", i)), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_ = binary.LittleEndian
}
