package introspect_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"testing"
	"time"

	introspect "github.com/openrtc-go/introspect"
)

// A scheduler stall just before Close is reported, not dropped while its
// final report waits for the CPU window after it, which never comes. A
// child process with one P and asynchronous preemption off spins for
// 300 ms in a loop without calls, which holds the P, and closes 20 ms
// later; its slog records go to stdout as JSON.
func TestSchedStallBeforeCloseIsReported(t *testing.T) {
	if os.Getenv("INTROSPECT_SPIN_CHILD") != "" {
		spinThenClose()
		return
	}
	if testing.Short() {
		t.Skip("runs a child process")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestSchedStallBeforeCloseIsReported$")
	cmd.Env = append(os.Environ(), "INTROSPECT_SPIN_CHILD=1", "GODEBUG=asyncpreemptoff=1", "GOMAXPROCS=1")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	var spun time.Duration
	var stalls []float64
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if d, ok := bytes.CutPrefix(line, []byte("spun ")); ok {
			spun, _ = time.ParseDuration(string(d))
			continue
		}
		var rec struct {
			Msg       string  `json:"msg"`
			Source    string  `json:"source"`
			BlockedMs float64 `json:"blocked_ms"`
			Ongoing   bool    `json:"ongoing"`
		}
		if json.Unmarshal(line, &rec) == nil && rec.Msg == "slow-session" && rec.Source == "scheduler" && !rec.Ongoing {
			stalls = append(stalls, rec.BlockedMs)
		}
	}
	if spun == 0 {
		t.Fatalf("the child did not spin:\n%s", out)
	}
	for _, ms := range stalls {
		got := time.Duration(ms * float64(time.Millisecond))
		t.Logf("spun %v, scheduler stall of %v reported", spun, got)
		if got >= spun-15*time.Millisecond && got <= spun*5/4 {
			return
		}
	}
	t.Errorf("spun %v just before Close; final scheduler stalls reported: %v ms", spun, stalls)
}

// spinLoop adds up n numbers without a call: with asynchronous preemption
// off, nothing else runs on its P meanwhile.
//
//go:noinline
func spinLoop(n int) int {
	x := 0
	for i := range n {
		x += i ^ (x >> 3)
	}
	return x
}

func spinThenClose() {
	in, err := introspect.Start(introspect.Options{
		Worker: "spin", Socket: introspect.SocketOff, SampleInterval: 100 * time.Millisecond,
		Logger: slog.New(slog.NewJSONHandler(os.Stdout, nil)),
	})
	if err != nil {
		fmt.Println("start:", err)
		os.Exit(1)
	}
	_, end := in.Begin(context.Background(), "codec")
	t0 := time.Now()
	n := spinLoop(20_000_000)
	perMs := 20_000_000 / max(1, int(time.Since(t0).Milliseconds()))
	time.Sleep(500 * time.Millisecond)
	begin := time.Now()
	n += spinLoop(perMs * 300)
	spun := time.Since(begin)
	time.Sleep(20 * time.Millisecond)
	end(nil)
	in.Close()
	fmt.Printf("spun %v\n", spun)
	_ = n
}
