package recorder

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openrtc-go/introspect/events"
)

// wtFaultyFile wraps a recording's file to stall or fail its writes.
type wtFaultyFile struct {
	outFile
	mu      sync.Mutex
	gate    chan struct{} // while non-nil, writes wait for it to close
	fail    error         // while non-nil, writes fail
	partial bool          // a failing write writes half its bytes first
	stalled chan struct{} // closed when a write first waits at the gate
	once    sync.Once
}

func (f *wtFaultyFile) Write(p []byte) (int, error) {
	f.mu.Lock()
	gate, fail, partial := f.gate, f.fail, f.partial
	f.mu.Unlock()
	if gate != nil {
		f.once.Do(func() { close(f.stalled) })
		<-gate
	}
	if fail != nil {
		n := 0
		if partial {
			n, _ = f.outFile.Write(p[:len(p)/2])
		}
		return n, fail
	}
	return f.outFile.Write(p)
}

func (f *wtFaultyFile) set(fn func()) {
	f.mu.Lock()
	fn()
	f.mu.Unlock()
}

// wtFaulty returns options that wrap the file in a wtFaultyFile, and a
// function that returns it once the recorder has opened it.
func wtFaulty(o Options) (*Options, func() *wtFaultyFile) {
	var mu sync.Mutex
	var f *wtFaultyFile
	o.wrap = func(of outFile) outFile {
		mu.Lock()
		defer mu.Unlock()
		f = &wtFaultyFile{outFile: of, stalled: make(chan struct{})}
		return f
	}
	return &o, func() *wtFaultyFile { mu.Lock(); defer mu.Unlock(); return f }
}

// wtDrops sums the recorder.drop records of a file by reason prefix, and
// counts the other records.
func wtDrops(t *testing.T, f *wtFile) (drops map[string]int64, others int) {
	t.Helper()
	drops = map[string]int64{}
	for _, l := range f.lines() {
		d, err := events.Decode(l)
		if err != nil {
			t.Fatal(err)
		}
		switch e := d.Event.(type) {
		case events.RecorderDrop:
			reason, _, _ := strings.Cut(e.Reason, ":")
			drops[reason] += e.Dropped
		case events.Keyframe:
		default:
			others++
		}
	}
	return drops, others
}

// TestQueueFullDrops stalls the writer on its file and checks that Handle
// neither blocks nor grows the queue past its bound: it drops and counts,
// and the count is written once the file accepts writes again.
func TestQueueFullDrops(t *testing.T) {
	opts, file := wtFaulty(Options{QueueRecords: 64, QueueBytes: 16 << 10, FrameBytes: 1 << 10})
	r, path := wtCreate(t, opts)
	gate := make(chan struct{})
	file().set(func() { file().gate = gate })

	const total = 3000
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range total {
			wtHandle(t, r, wtT0.Add(time.Duration(i)), events.SessionStart{SessionID: "s"})
		}
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Handle blocked behind a stalled writer")
	}
	<-file().stalled
	dropped := r.Stats().Dropped
	if dropped < total-200 {
		t.Fatalf("%d of %d dropped while the writer was stalled", dropped, total)
	}
	q := r.c.q
	q.mu.Lock()
	held := q.busyRecs + len(q.pend.ends)
	mem := cap(q.pend.buf) + cap(q.busy.buf)
	q.mu.Unlock()
	if held > 64 || mem > 4*(16<<10) {
		t.Fatalf("queue holds %d records in %d bytes of buffers", held, mem)
	}

	file().set(func() { file().gate = nil })
	close(gate)
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	wtClose(t, r)
	drops, others := wtDrops(t, wtReadClosed(t, path))
	if drops["queue full"] != dropped || int64(others)+dropped != total {
		t.Fatalf("file reports %v dropped and has %d records; Stats dropped %d of %d", drops, others, dropped, total)
	}
}

// TestWriteErrorDrops fails the file's writes, then lets them succeed: the
// lost records are counted and reported, the file has no torn bytes, and
// the next frame starts with a keyframe.
func TestWriteErrorDrops(t *testing.T) {
	for _, tc := range []struct {
		name    string
		partial bool
		reason  string
		kf      Keyframer
	}{
		{"whole", false, "injected failure", &wtKeyframer{}},
		{"partial", true, "injected failure", &wtKeyframer{}},
		// A drop report longer than the keyframe written before it.
		{"long reason", false, "injected failure " + strings.Repeat("x", 2000), &wtCountKeyframer{}},
	} {
		partial := tc.partial
		t.Run(tc.name, func(t *testing.T) {
			opts, file := wtFaulty(Options{Keyframer: tc.kf})
			r, path := wtCreate(t, opts)
			// Wall-clock times: the drop report is timed by the wall clock.
			t0 := time.Now()
			wtHandle(t, r, t0, events.SessionStart{SessionID: "before"})
			if err := r.Flush(); err != nil {
				t.Fatal(err)
			}
			injected := errors.New(tc.reason)
			file().set(func() { file().fail, file().partial = injected, partial })
			for range 10 {
				wtHandle(t, r, t0, events.SessionStart{SessionID: "lost"})
			}
			err := r.Flush()
			if !errors.Is(err, injected) || !strings.HasPrefix(err.Error(), "recorder: write error: "+path+" at offset ") {
				t.Fatalf("Flush during failure: %v", err)
			}
			if d := r.Stats().Dropped; d != 10 {
				t.Fatalf("Stats.Dropped %d, want 10", d)
			}
			file().set(func() { file().fail = nil })
			for range 5 {
				wtHandle(t, r, time.Now(), events.SessionStart{SessionID: "after"})
			}
			wtClose(t, r)
			f := wtReadClosed(t, path)
			drops, others := wtDrops(t, f)
			if drops["write error"] != 10 || others != 6 {
				t.Fatalf("drops %v, %d other records", drops, others)
			}
			if len(f.frames) != 2 || !f.frames[1].entry.Keyframe() {
				t.Fatalf("%d frames; the one after the failure is a keyframe frame: %v", len(f.frames), f.frames[len(f.frames)-1].entry.Keyframe())
			}
		})
	}
}

// TestQueueBlocksInClockMode checks that with a Clock a full queue makes
// Handle wait rather than drop, so fixtures are complete.
func TestQueueBlocksInClockMode(t *testing.T) {
	clk := &wtClock{t: wtT0}
	r, path := wtCreate(t, &Options{Clock: clk.Now, QueueRecords: 4, QueueBytes: 1 << 10, FrameBytes: 512})
	const total = 2000
	for i := range total {
		wtHandle(t, r, wtT0.Add(time.Duration(i)*time.Millisecond), events.SessionStart{SessionID: "s"})
	}
	wtClose(t, r)
	if n := len(wtReadClosed(t, path).lines()); n != total || r.Stats().Dropped != 0 {
		t.Fatalf("%d of %d records, %d dropped", n, total, r.Stats().Dropped)
	}
}

// TestQueueBounds exercises the queue alone: bounds, order and reuse.
func TestQueueBounds(t *testing.T) {
	q := newLineQueue(100, 3, false)
	line := []byte("0123456789012345678901234567890123456789\n") // 41 bytes
	for i := range 4 {
		if err := q.push(line, int64(i+1)); err != nil {
			t.Fatal(err)
		}
	}
	if q.pend.len() != 2 || q.dropped.Load() != 2 {
		t.Fatalf("byte bound: %d queued, %d dropped", q.pend.len(), q.dropped.Load())
	}
	b := q.take()
	q.push([]byte("x\n"), 5)
	q.push([]byte("y\n"), 6) // 2 busy + 1 pending = 3 records: full
	if q.pend.len() != 1 || string(b.line(1)) != string(line) || b.times[1] != 2 {
		t.Fatalf("record bound across take: pend %d", q.pend.len())
	}
	q.release()
	b = q.take()
	if b.len() != 1 || string(b.line(0)) != "x\n" || b.times[0] != 5 {
		t.Fatalf("second batch %q", b.buf)
	}
	q.release()
	q.close()
	if err := q.push(line, 1); !errors.Is(err, ErrClosed) {
		t.Fatalf("push after close: %v", err)
	}
}
