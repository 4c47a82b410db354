package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/openrtc-go/introspect/recorder"
)

// TestIndexDamageCLI reproduces issue 12's F1–F3 through the commands: one
// damaged copy of the index loses no record, verify names the disagreement
// and exits 1, and top shows at 03:12 what it shows on the intact file, with
// a warning that says what was distrusted.
func TestIndexDamageCLI(t *testing.T) {
	data, err := os.ReadFile(fixture("normal.zst"))
	if err != nil {
		t.Fatal(err)
	}
	set, err := recorder.Open(fixture("normal.zst"))
	if err != nil {
		t.Fatal(err)
	}
	entries := set.Index(0)
	set.Close()
	footer := int64(len(data)) - 8 - int64(len(entries))*40 - 12
	dir := t.TempDir()
	damaged := func(name string, at int64, cut int64) string {
		b := append([]byte(nil), data...)
		b[at] ^= 0xff
		if cut > 0 {
			b = b[:cut]
		}
		p := filepath.Join(dir, name)
		writeFile(t, p, b)
		return p
	}
	cases := []struct {
		name, path, want string
	}{
		// F1: the low byte of footer entry 5's compressed length.
		{"F1", damaged("f1.zst", footer+8+5*40+8+4, 0), "footer entry 5 disagrees with the frame at offset"},
		// F2: the size field of an index frame.
		{"F2", damaged("f2.zst", entries[3].Offset+4, 0), "its size field says"},
		// F3: the top byte of frame 9's min time, the footer cut off.
		{"F3", damaged("f3.zst", entries[9].Offset+8+16+7, footer), "its index said 10 records from"},
	}
	want := runArgs(t, "top", "--json", "--at", "03:12", fixture("normal.zst"))
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := runArgs(t, "verify", c.path)
			if r.code != exitFailed || !strings.Contains(r.out, "damaged, readable") ||
				!strings.Contains(r.out, "195 records") || !strings.Contains(r.out, c.want) {
				t.Errorf("verify: exit %d, want 1 naming %q:\n%s%s", r.code, c.want, r.out, r.err)
			}
			r = runArgs(t, "top", "--json", "--at", "03:12", c.path)
			if r.code != exitOK || r.out != want.out {
				t.Errorf("top --at 03:12: exit %d, output differs from the intact file's:\n%s", r.code, r.out)
			}
			if !strings.Contains(r.err, "index disagreement") {
				t.Errorf("top: stderr %q does not say the index was distrusted", r.err)
			}
		})
	}
}

// TestConformanceVerify runs verify on every file of the conformance corpus
// (fixtures/conformance) and checks its exit status against expected.json;
// the directory of several workers is refused until --worker picks one.
func TestConformanceVerify(t *testing.T) {
	dir := fixture("conformance")
	b, err := os.ReadFile(filepath.Join(dir, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var exp struct {
		Files map[string]struct {
			Verify int `json:"verify_exit"`
		} `json:"files"`
		Directories map[string]struct {
			Groups []struct {
				Key string `json:"key"`
			} `json:"groups"`
		} `json:"directories"`
	}
	if err := json.Unmarshal(b, &exp); err != nil {
		t.Fatal(err)
	}
	for name, want := range exp.Files {
		if r := runArgs(t, "verify", filepath.Join(dir, name)); r.code != want.Verify {
			t.Errorf("verify %s: exit %d, want %d\n%s", name, r.code, want.Verify, r.out)
		}
	}
	for name, want := range exp.Directories {
		r := runArgs(t, "summary", filepath.Join(dir, name))
		oneLineErr(t, r, exitBadArgs, "choose one with --worker")
		for _, g := range want.Groups {
			if !strings.Contains(r.err, g.Key) {
				t.Errorf("summary %s: %s not listed: %s", name, g.Key, r.err)
			}
			if r := runArgs(t, "summary", "--worker", g.Key, filepath.Join(dir, name)); r.code != exitOK {
				t.Errorf("summary --worker %s: exit %d: %s", g.Key, r.code, r.err)
			}
		}
	}
}
