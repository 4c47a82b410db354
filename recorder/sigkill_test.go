package recorder

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/openrtc-go/introspect/events"
)

// sigkillChildEnv names the file the child process of TestSigkill records
// into.
const sigkillChildEnv = "RECORDER_SIGKILL_CHILD"

// wtCountKeyframer is a keyframer of constant size, for long runs.
type wtCountKeyframer struct{ n int64 }

func (k *wtCountKeyframer) Observe([]byte) { k.n++ }
func (k *wtCountKeyframer) Keyframe(time.Time) events.Keyframe {
	return events.Keyframe{Worker: events.WorkerState{Name: "child", Begun: k.n}}
}

// TestSigkillChild is the child of TestSigkill: it records as fast as it
// can until it is killed. It is skipped in a normal run.
func TestSigkillChild(t *testing.T) {
	path := os.Getenv(sigkillChildEnv)
	if path == "" {
		t.Skip("helper process of TestSigkill")
	}
	opts := &Options{FlushInterval: 20 * time.Millisecond, FrameBytes: 64 << 10,
		Keyframer: &wtCountKeyframer{}, KeyframeInterval: 100 * time.Millisecond}
	defaults := os.Getenv(sigkillDefaultsEnv) != ""
	if defaults {
		opts = &Options{Keyframer: &wtCountKeyframer{}}
	}
	r, err := Create(path, opts)
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(2)
	}
	evs := wtEvents()
	ready := false
	// Never outlive a parent that died without killing us.
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); {
		if defaults {
			// A worker's pace: a record every 10 ms, each stamped now.
			wtHandle(t, r, time.Now(), evs[0])
			time.Sleep(10 * time.Millisecond)
			if !ready && r.Stats().Records > 0 {
				fmt.Println("ready")
				ready = true
			}
			continue
		}
		for i := range 100 {
			wtHandle(t, r, time.Now(), evs[i%len(evs)])
		}
		if !ready && r.Stats().Frames > 2 {
			fmt.Println("ready")
			ready = true
		}
	}
	os.Exit(3)
}

// sigkillDefaultsEnv makes the child of TestSigkill record with the
// default options at a worker's pace.
const sigkillDefaultsEnv = "RECORDER_SIGKILL_DEFAULTS"

// TestSigkill kills a recording process at random moments and checks that
// every complete frame of its file is readable and that what follows the
// last one is a torn tail, not damage.
func TestSigkill(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	torn := 0
	for i := range 6 {
		path := filepath.Join(dir, fmt.Sprintf("kill%d.zst", i))
		cmd := exec.Command(os.Args[0], "-test.run=^TestSigkillChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), sigkillChildEnv+"="+path)
		killChild(t, cmd, time.Duration(rng.IntN(300))*time.Millisecond)

		f := wtRead(t, path) // fails on anything but whole frames and a torn tail
		if len(f.frames) < 3 || f.footer != nil {
			t.Fatalf("kill %d: %d frames, footer %v", i, len(f.frames), f.footer != nil)
		}
		if !f.frames[0].entry.Keyframe() {
			t.Errorf("kill %d: first frame is not a keyframe frame", i)
		}
		if f.torn {
			torn++
		}
		// The package's reader must agree: the same frames, and at most a
		// truncated tail.
		set, err := Open(path)
		if err != nil {
			t.Fatalf("kill %d: Open: %v", i, err)
		}
		set.Span() // decode the frame the kill left open
		fi := set.Files()[0]
		for _, d := range fi.Damage {
			if d.Kind != TruncatedTail {
				t.Errorf("kill %d: reader reports %v", i, d)
			}
		}
		if fi.Frames != len(f.frames) || fi.Records != int64(len(f.lines())) {
			t.Errorf("kill %d: reader sees %d frames and %d records, walker %d and %d", i, fi.Frames, fi.Records, len(f.frames), len(f.lines()))
		}
		set.Close()
		t.Logf("kill %d: %d whole frames, %d records, torn tail: %v", i, len(f.frames), len(f.lines()), f.torn)
	}
	t.Logf("%d of 6 kills left a torn tail", torn)
}

// killChild starts cmd, waits for it to say "ready", lets it run for
// after, and kills it with SIGKILL. It returns when the kill was sent.
func killChild(t *testing.T, cmd *exec.Cmd, after time.Duration) time.Time {
	t.Helper()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default:
			}
		}
		close(lines)
	}()
	select {
	case l := <-lines:
		if l != "ready" {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("child said %q", l)
		}
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatal("child never got ready")
	}
	time.Sleep(after)
	killed := time.Now()
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	return killed
}

// TestSigkillDefaults kills a process recording with the default options
// (a streamed frame per keyframe interval, a block flushed every second) at
// random moments: the file reads as the complete blocks of its open frame,
// with nothing reported lost, and the records missing are the last
// FlushInterval's at most. The bound checked allows a second more for a
// loaded machine delaying the writer's timer; the figures are logged.
func TestSigkillDefaults(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 2))
	for i := range 3 {
		path := filepath.Join(dir, fmt.Sprintf("kill%d.zst", i))
		cmd := exec.Command(os.Args[0], "-test.run=^TestSigkillChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), sigkillChildEnv+"="+path, sigkillDefaultsEnv+"=1")
		killed := killChild(t, cmd, time.Duration(500+rng.IntN(2500))*time.Millisecond)

		f := wtRead(t, path)
		if !f.open || f.footer != nil || len(f.frames) != 1 {
			t.Fatalf("kill %d: %d frames, open %v, footer %v: want the one frame, left open", i, len(f.frames), f.open, f.footer != nil)
		}
		set, err := Open(path)
		if err != nil {
			t.Fatalf("kill %d: Open: %v", i, err)
		}
		if d := set.Damage(); len(d) != 0 {
			t.Errorf("kill %d: damage %v: a kill between flushes loses nothing the file holds", i, d)
		}
		var last time.Time
		n := 0
		sc := set.Scan()
		for sc.Next() {
			n++
			last = sc.Record().Time
		}
		set.Close()
		if n != len(f.lines()) || n < 2 {
			t.Fatalf("kill %d: reader read %d records, walker %d", i, n, len(f.lines()))
		}
		lost := killed.Sub(last)
		t.Logf("kill %d: %d records, the last %v before the kill", i, n, lost.Round(time.Millisecond))
		if lost > DefaultFlushInterval+time.Second {
			t.Errorf("kill %d: the last record read is %v older than the kill", i, lost)
		}
	}
}
