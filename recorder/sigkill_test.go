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
	r, err := Create(path, &Options{FlushInterval: 20 * time.Millisecond, FrameBytes: 64 << 10,
		Keyframer: &wtCountKeyframer{}, KeyframeInterval: 100 * time.Millisecond})
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(2)
	}
	evs := wtEvents()
	ready := false
	// Never outlive a parent that died without killing us.
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); {
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
		time.Sleep(time.Duration(rng.IntN(300)) * time.Millisecond)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		cmd.Wait()

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
