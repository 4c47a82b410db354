package recorder

import (
	"crypto/sha256"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/openrtc-go/introspect/events"
)

// wtDisk models a disk that fills up and never frees: writes succeed while
// the file stays within capacity bytes, a write that would pass it writes
// what fits and fails with ENOSPC (as write(2) does), and truncating the
// file gives the space back.
type wtDisk struct {
	outFile
	size, capacity int64
}

func (d *wtDisk) Write(p []byte) (int, error) {
	if room := d.capacity - d.size; int64(len(p)) > room {
		n, _ := d.outFile.Write(p[:max(room, 0)])
		d.size += int64(n)
		return n, syscall.ENOSPC
	}
	n, err := d.outFile.Write(p)
	d.size += int64(n)
	return n, err
}

func (d *wtDisk) Truncate(size int64) error {
	err := d.outFile.Truncate(size)
	if err == nil {
		d.size = size
	}
	return err
}

// TestDiskNeverFrees (issue 12, F6): the disk fills in the middle of a run
// and never frees. The worker runs to its end; Close reports the error; the
// file holds every frame written before, then, in the few hundred bytes left
// of its last block, the recorder.drop records that count every record lost,
// the last one's reason starting with events.DropFinalPrefix.
func TestDiskNeverFrees(t *testing.T) {
	for _, slack := range []int64{600, 0} {
		clk := &wtClock{t: wtT0}
		var disk *wtDisk
		opts := &Options{Clock: clk.Now, Keyframer: &wtKeyframer{}, KeyframeInterval: 5 * time.Second, FlushInterval: time.Second}
		opts.wrap = func(of outFile) outFile {
			disk = &wtDisk{outFile: of, capacity: 1 << 40}
			return disk
		}
		r, path := wtCreate(t, opts)
		const n = 400
		full := -1
		for i := range n {
			at := wtT0.Add(time.Duration(i) * 100 * time.Millisecond)
			if i == n/2 {
				if err := r.Flush(); err != nil {
					t.Fatal(err)
				}
				disk.capacity, full = disk.size+slack, i
			}
			clk.Set(at)
			// Incompressible enough that no frame fits in the slack.
			labels := map[string]string{}
			for k := range 12 {
				labels[fmt.Sprint(k)] = fmt.Sprintf("%x", sha256.Sum256([]byte(fmt.Sprint(i, k))))
			}
			wtHandle(t, r, at, events.SessionStart{SessionID: "s", Agent: "voice", Tenant: "acme", Labels: labels})
		}
		err := r.Close()
		if err == nil || !strings.Contains(err.Error(), "no space left on device") {
			t.Fatalf("slack %d: Close: %v, want the write error", slack, err)
		}
		f := wtRead(t, path)
		drops, others := wtDrops(t, f)
		if others != full {
			t.Errorf("slack %d: %d records in the file, want the %d written before the disk filled", slack, others, full)
		}
		lost := int64(0)
		for _, d := range drops {
			lost += d
		}
		if slack > 0 && others+int(lost) != n {
			t.Errorf("slack %d: %d records written and %v dropped, want %d in all", slack, others, drops, n)
		}
		last := f.lines()[len(f.lines())-1]
		d, derr := events.Decode(last)
		if slack == 0 {
			// Not a byte left: the file ends like a crash, which is all a
			// full disk allows.
			if len(drops) != 0 {
				t.Errorf("slack 0: drops %v written to a full disk", drops)
			}
			continue
		}
		rd, ok := d.Event.(events.RecorderDrop)
		if derr != nil || !ok || !strings.HasPrefix(rd.Reason, events.DropFinalPrefix) ||
			!strings.Contains(rd.Reason, "no space left on device") {
			t.Fatalf("slack %d: last record %s, want the final recorder.drop", slack, last)
		}
		if rd.Dropped == 0 {
			t.Errorf("slack %d: final drop counts nothing", slack)
		}
		if s := r.Stats(); s.Dropped != int64(n-full) {
			t.Errorf("Stats().Dropped = %d, want %d", s.Dropped, n-full)
		}
	}
}
