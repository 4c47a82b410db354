package recorder

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/openrtc-go/introspect/events"
)

// TestZstdTools checks compatibility with the zstd command line: `zstd -t`
// validates a recording (skippable frames, checksums and content sizes
// included) and `zstdcat | jq -c .` parses every line.
func TestZstdTools(t *testing.T) {
	zstdBin, err := exec.LookPath("zstd")
	if err != nil {
		t.Skip("zstd is not installed (CI installs it):", err)
	}
	jqBin, err := exec.LookPath("jq")
	if err != nil {
		t.Skip("jq is not installed (CI installs it):", err)
	}
	clk := &wtClock{t: wtT0}
	r, path := wtCreate(t, &Options{Clock: clk.Now, Keyframer: &wtKeyframer{}, KeyframeInterval: 5 * time.Second, FrameBytes: 4 << 10})
	const n = 500
	for i := range n {
		e := wtEvents()[i%len(wtEvents())]
		wtHandle(t, r, wtT0.Add(time.Duration(i)*50*time.Millisecond), e)
	}
	wtClose(t, r)
	f := wtReadClosed(t, path)
	if len(f.frames) < 3 {
		t.Fatalf("only %d frames", len(f.frames))
	}
	if out, err := exec.Command(zstdBin, "-t", path).CombinedOutput(); err != nil {
		t.Fatalf("zstd -t: %v\n%s", err, out)
	}
	plain, err := exec.Command(zstdBin, "-dc", path).Output()
	if err != nil {
		t.Fatalf("zstdcat: %v", err)
	}
	if want := append(bytes.Join(f.lines(), []byte("\n")), '\n'); !bytes.Equal(plain, want) {
		t.Fatalf("zstdcat yields %d bytes, the frames hold %d", len(plain), len(want))
	}
	jq := exec.Command(jqBin, "-c", ".")
	jq.Stdin = bytes.NewReader(plain)
	out, err := jq.Output()
	if err != nil {
		t.Fatalf("jq: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != len(f.lines()) || int(r.Stats().Records) != len(lines) {
		t.Fatalf("jq parsed %d lines of %d", len(lines), len(f.lines()))
	}
	kinds := map[string]bool{}
	for _, l := range lines {
		d, err := events.Decode([]byte(l))
		if err != nil {
			t.Fatalf("jq output %s: %v", l, err)
		}
		kinds[d.Kind] = true
	}
	for _, k := range events.Kinds {
		if !kinds[k] {
			t.Errorf("no %s record", k)
		}
	}
}
