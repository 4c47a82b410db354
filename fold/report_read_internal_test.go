package fold

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/openrtc-go/introspect/recorder"
)

// The parallel report folds exactly what the serial one does.
func TestReadReportParallelMatchesSerial(t *testing.T) {
	defer func(l, b int) { batchLines, batchBytes = l, b }(batchLines, batchBytes)
	batchLines, batchBytes = 7, 2000 // many batches, some cut by size
	for _, name := range []string{"normal.zst", "stalls.zst", "corrupt.zst", "rotated", "plain.jsonl"} {
		set, err := recorder.Open(filepath.Join("..", "fixtures", name))
		if err != nil {
			t.Fatal(err)
		}
		serial, err := readReport(set.Scan(), nil, 1)
		if err != nil {
			t.Fatal(err)
		}
		for _, workers := range []int{2, 3, 8} {
			par, err := readReport(set.Scan(), nil, workers)
			if err != nil {
				t.Fatal(err)
			}
			a, _ := json.Marshal(serial.Summary())
			b, _ := json.Marshal(par.Summary())
			ra, _ := json.Marshal(serial.Rows())
			rb, _ := json.Marshal(par.Rows())
			if !bytes.Equal(a, b) || !bytes.Equal(ra, rb) {
				t.Errorf("%s with %d decoders: parallel report differs\nserial   %s\nparallel %s", name, workers, a, b)
			}
		}
		set.Close()
	}
}

// hotSamples is the least number of samples whose share is hot.
func TestHotSamples(t *testing.T) {
	for total := int64(-1); total <= 2000; total++ {
		want := total + 1
		for n := int64(0); n <= total; n++ {
			if pct(n, total) >= hotShare {
				want = n
				break
			}
		}
		if got := hotSamples(total); got != want {
			t.Fatalf("hotSamples(%d) = %d, want %d", total, got, want)
		}
	}
}
