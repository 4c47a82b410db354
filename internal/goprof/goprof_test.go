package goprof

import (
	"bytes"
	"context"
	"net"
	"runtime/pprof"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestLabel(t *testing.T) {
	g := Group{labels: `{"a":"1", "quote\"d":"x, \"y\"", "session":"job-7", "z":""}`}
	for k, want := range map[string]string{"a": "1", `quote"d`: `x, "y"`, "session": "job-7", "z": ""} {
		if v, ok := g.Label(k); !ok || v != want {
			t.Errorf("Label(%q) = %q, %v; want %q", k, v, ok, want)
		}
	}
	if _, ok := g.Label("missing"); ok {
		t.Error("found a missing label")
	}
	if _, ok := (&Group{labels: `{"a":`}).Label("a"); ok {
		t.Error("read a torn label set")
	}
}

// Each goroutine parked in a known way is found in a real profile, by its
// label, with the runtime's wait reason.
func TestWaitReasons(t *testing.T) {
	var mu sync.Mutex
	var rw sync.RWMutex
	var wg sync.WaitGroup
	cond := sync.NewCond(&sync.Mutex{})
	recv, send, sel := make(chan int), make(chan int), make(chan int)
	stop := make(chan struct{})
	c1, c2 := net.Pipe()
	defer c1.Close()
	defer c2.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	mu.Lock()
	rw.Lock()
	wg.Add(1)
	cases := map[string]func(){
		WaitSleep:       func() { time.Sleep(time.Hour) },
		WaitChanReceive: func() { <-recv },
		WaitChanSend:    func() { send <- 1 },
		WaitSelect: func() {
			select {
			case <-sel:
			case <-stop:
			}
		},
		WaitMutex:    func() { mu.Lock() },
		WaitRWMutexR: func() { rw.RLock() },
		WaitGroup:    func() { wg.Wait() },
		WaitCond:     func() { cond.L.Lock(); cond.Wait() },
		WaitIO:       func() { conn.Read(make([]byte, 1)) },
	}
	for want, f := range cases {
		go pprof.Do(context.Background(), pprof.Labels("case", want), func(context.Context) { f() })
	}
	addSyscallCase(t, cases)
	defer func() { // let them go (but the sleeper)
		close(recv)
		go func() { <-send }()
		close(sel)
		mu.Unlock()
		rw.Unlock()
		wg.Done()
		cond.L.Lock()
		cond.Broadcast()
		cond.L.Unlock()
	}()
	time.Sleep(100 * time.Millisecond)

	var buf bytes.Buffer
	if err := Take(&buf); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	if err := Parse(buf.Bytes(), func(g *Group) {
		if c, ok := g.Label("case"); ok {
			got[c] = Wait(Frames(g.PCs))
		}
	}); err != nil {
		t.Fatal(err)
	}
	for want := range cases {
		if got[want] != want {
			t.Errorf("goroutine blocked on %q: Wait = %q", want, got[want])
		}
	}
	if got := Wait([]Frame{{Function: "main.spin"}}); got != "" {
		t.Errorf("Wait of a running goroutine = %q", got)
	}
	if err := Parse([]byte("heap profile: 1"), func(*Group) {}); err == nil || !strings.Contains(err.Error(), "not a goroutine profile") {
		t.Errorf("Parse of another profile: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("goroutine profile: total 3\n2 @ 0x1 0x2\n# labels: {\"session\":\"a\"}\n#\t0x1\tmain.f+0x1\t/x.go:1\n\n1 @ 0x3\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_ = Parse(data, func(g *Group) {
			if g.Count <= 0 {
				t.Fatalf("group of %d", g.Count)
			}
			g.Label("session")
			Wait(Frames(g.PCs))
		})
	})
}
