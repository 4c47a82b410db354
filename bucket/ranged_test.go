package bucket_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"gocloud.dev/blob"

	"github.com/openrtc-go/introspect/bucket"
	"github.com/openrtc-go/introspect/fold"
	"github.com/openrtc-go/introspect/internal/s3test"
	"github.com/openrtc-go/introspect/recorder"
)

// A day-long recording in a bucket: the view of one moment fetches its
// footer index and the frames from the keyframe before the moment, a small
// fraction of the file, and is the view the local file gives. The test
// logs the bytes and the time against downloading the whole file; the
// figures are in BENCHMARKS.md.
func TestRangedReadsFetchLittleOfADay(t *testing.T) {
	if testing.Short() {
		t.Skip("records a day")
	}
	s3 := s3test.Start(t)
	for _, tt := range []struct {
		name    string
		args    []string // of fixtures/synth/synthrec
		maxFrac float64
	}{
		// The live recorder's defaults: a streamed frame per 10 min
		// keyframe interval, a block per second. The footer is 144
		// entries; a moment costs the frame holding its keyframe, and
		// the last frame, decoded to learn where the file ends.
		{"defaults", []string{"-flush", "1s", "-keyframes", "10m", "-level", "7"}, 0.05},
		// recorder.Compact(): a frame per 30 min keyframe interval.
		{"compact", []string{"-flush", "1s", "-keyframes", "30m", "-level", "11"}, 0.10},
		// Before streamed frames (format version 1): 1 s frames, 1 min
		// keyframes. The footer index alone is 86,400 entries (about
		// 3.5 MB a day), read whole when the file is opened: it is most
		// of what is fetched.
		{"independent", []string{"-flush", "1s", "-keyframes", "1m", "-level", "3", "-independent"}, 0.10},
	} {
		t.Run(tt.name, func(t *testing.T) { rangedDay(t, s3, tt.args, tt.maxFrac) })
	}
}

func rangedDay(t *testing.T, s3 *s3test.Server, args []string, maxFrac float64) {
	dir := t.TempDir()
	local := filepath.Join(dir, "w1-20261127T030000.000Z.zst")
	key := "prod/" + filepath.Base(dir) + "/w1/" + filepath.Base(local)
	// Written by the real recorder in a process of its own, built without
	// the race detector, which would make a day ten times slower to write.
	gen := exec.Command("go", append([]string{"run", "../fixtures/synth/synthrec", "-o", local,
		"-sessions", "200", "-duration", "24h", "-seed", "0", "-worker", "w1"}, args...)...)
	if out, err := gen.CombinedOutput(); err != nil {
		t.Fatalf("synthrec: %v\n%s", err, out)
	}
	st, _ := os.Stat(local)

	ctx := context.Background()
	loc, err := bucket.Open(ctx, s3.URL("prod"))
	if err != nil {
		t.Fatal(err)
	}
	defer loc.Close()
	f, _ := os.Open(local)
	if err := loc.Bucket.Upload(ctx, key, f, &blob.WriterOptions{ContentType: "application/zstd"}); err != nil {
		t.Fatal(err)
	}
	f.Close()

	at := time.Date(2026, 11, 27, 15, 12, 30, 0, time.UTC) // mid-day
	begin := time.Now()
	objs := []bucket.Object{{Key: key, Size: st.Size()}}
	ins, readers := loc.Inputs(ctx, objs)
	set, err := recorder.OpenInputs(ins...)
	if err != nil {
		t.Fatal(err)
	}
	remote, err := fold.StateAt(set, at)
	if err != nil {
		t.Fatal(err)
	}
	rangedTime := time.Since(begin)
	set.Close()
	fetched, requests := readers[0].Fetched()

	// The same view from a whole download, in the same run.
	begin = time.Now()
	whole, err := loc.Bucket.ReadAll(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	dl := filepath.Join(t.TempDir(), filepath.Base(local))
	if err := os.WriteFile(dl, whole, 0o644); err != nil {
		t.Fatal(err)
	}
	lset, err := recorder.Open(dl)
	if err != nil {
		t.Fatal(err)
	}
	want, err := fold.StateAt(lset, at)
	if err != nil {
		t.Fatal(err)
	}
	wholeTime := time.Since(begin)
	lset.Close()

	if got, exp := remote.View(at), want.View(at); !reflect.DeepEqual(got, exp) {
		t.Errorf("the view from ranged reads differs from the local file's:\n got %+v\nwant %+v", got.Worker, exp.Worker)
	}
	frac := float64(fetched) / float64(st.Size())
	t.Logf("day-long recording %d bytes: view at %s fetched %d bytes (%.2f %%) in %d requests, %v; whole download and view %v (%.1fx)",
		st.Size(), at.Format("15:04:05"), fetched, 100*frac, requests, rangedTime.Round(time.Millisecond), wholeTime.Round(time.Millisecond),
		float64(wholeTime)/float64(rangedTime))
	if frac > maxFrac {
		t.Errorf("fetched %.1f %% of the file for one moment; want a small fraction", 100*frac)
	}
}
