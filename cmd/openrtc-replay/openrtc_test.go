package main

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/openrtc-go/introspect/cmd/openrtc-replay/internal/tui"
)

// openrtcStandIn serves OpenRTC's snapshot shape over a real Unix socket as
// OpenRTC's IntrospectionServer does: on each connection one JSON line, then
// close, reading nothing. The snapshot is the example a real OpenRTC worker
// served (../shared/docs/openrtc-snapshot-example.json), brought to life:
// the uptime follows the clock, the dental session keeps using 62.5 % of
// the loop's ticks, the restaurant session AJ_10c386bbc4 is slow only between
// slowFrom and slowTo, and AJ_7c18072e8c ends (failing) at goneAt.
type openrtcStandIn struct {
	path                   string
	begin                  time.Time
	slowFrom, slowTo, gone time.Duration
	mu                     sync.Mutex
	served                 int
	l                      net.Listener
}

// stop closes the socket, as a worker that exits does.
func (s *openrtcStandIn) stop() { s.l.Close() }

func startOpenRTCStandIn(t *testing.T, dir string) *openrtcStandIn {
	t.Helper()
	s := &openrtcStandIn{path: filepath.Join(dir, "top.sock"), begin: time.Now(),
		slowFrom: 800 * time.Millisecond, slowTo: 1600 * time.Millisecond, gone: 2 * time.Second}
	example, err := os.ReadFile(filepath.Join("..", "..", "live", "testdata", "openrtc-snapshot.json"))
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("unix", s.path)
	if err != nil {
		t.Fatal(err)
	}
	s.l = l
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Write(append(s.snapshot(t, example), '\n'))
			c.Close()
		}
	}()
	return s
}

func (s *openrtcStandIn) snapshot(t *testing.T, example []byte) []byte {
	s.mu.Lock()
	s.served++
	s.mu.Unlock()
	var m map[string]any
	if err := json.Unmarshal(example, &m); err != nil {
		t.Error(err)
		return nil
	}
	el := time.Since(s.begin)
	w := m["worker"].(map[string]any)
	up := w["uptime_s"].(float64) + el.Seconds()
	w["uptime_s"] = up
	var rows []any
	for _, r := range m["sessions"].([]any) {
		row := r.(map[string]any)
		row["duration_s"] = row["duration_s"].(float64) + el.Seconds()
		id := row["session_id"].(string)
		switch id {
		case "AJ_912265b1f5":
			row["cpu_pct"] = 62.5
		case "AJ_10c386bbc4":
			if el >= s.slowFrom && el < s.slowTo {
				row["status"] = "slow"
			} else {
				row["status"] = "active"
			}
		case "AJ_7c18072e8c":
			if el >= s.gone {
				w["failed"] = w["failed"].(float64) + 1
				continue
			}
		}
		rows = append(rows, row)
	}
	m["sessions"] = rows
	w["active_sessions"] = len(rows)
	b, err := json.Marshal(m)
	if err != nil {
		t.Error(err)
	}
	return b
}

// live reads OpenRTC's worker: the plain table, the JSON and the screen,
// with no field left at zero or at the zero time.
func TestLiveOpenRTCWorker(t *testing.T) {
	dir := shortTempDir(t)
	s := startOpenRTCStandIn(t, dir)

	r := runArgs(t, "live", "--once", "--socket", s.path)
	if r.code != 0 || r.err != "" {
		t.Fatalf("live --once: exit %d, stderr %q", r.code, r.err)
	}
	for _, want := range []string{"OpenRTC (Python) worker", "worker openrtc-py", "rss 300.0 MiB", "sessions 5/50", "started 8",
		"failed 1", "host cpu 99.9% of 2 vCPUs", "load 3.79 2.51 1.18", "saved 0.5G", "AJ_912265b1f5", "acme"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("live --once lacks %q:\n%s", want, r.out)
		}
	}
	for _, bad := range []string{"0001-01-01", "heap", "sched", "rss 0.0"} {
		if strings.Contains(r.out, bad) {
			t.Errorf("live --once shows %q:\n%s", bad, r.out)
		}
	}

	r = runArgs(t, "live", "--json", "--socket", s.path)
	if r.code != 0 {
		t.Fatalf("live --json: exit %d: %s", r.code, r.err)
	}
	var v struct {
		Time   time.Time `json:"time"`
		Worker struct {
			Kind      string    `json:"kind"`
			StartedAt time.Time `json:"started_at"`
			Started   int       `json:"started"`
			RSS       uint64    `json:"rss_bytes"`
			System    *struct {
				CPUPct float64 `json:"cpu_pct"`
			} `json:"system"`
		} `json:"worker"`
		Sessions []struct {
			ID     string    `json:"session_id"`
			Start  time.Time `json:"start"`
			CPU    float64   `json:"cpu_pct"`
			CPUS   float64   `json:"cpu_seconds"`
			Mem    float64   `json:"mem_mb"`
			Status string    `json:"status"`
		} `json:"sessions"`
	}
	if err := json.Unmarshal([]byte(r.out), &v); err != nil {
		t.Fatalf("live --json: %v\n%s", err, r.out)
	}
	if v.Time.Year() < 2000 || v.Worker.StartedAt.Year() < 2000 || v.Worker.Kind != "openrtc" || v.Worker.Started != 8 ||
		v.Worker.RSS == 0 || v.Worker.System == nil || len(v.Sessions) != 5 {
		t.Errorf("live --json: %+v", v)
	}
	for _, row := range v.Sessions {
		if row.Start.Year() < 2000 || row.CPU == 0 || row.CPUS == 0 || row.Mem == 0 || row.Status == "" {
			t.Errorf("live --json row %+v", row)
		}
	}

	// The screen, through the same poller as a terminal gets.
	io, _, _ := testStdio(t, strings.NewReader(""))
	io.outTTY = true
	var screen fakeScreen
	io.interactive = screen.capture
	if code := run(context.Background(), []string{"live", "--socket", s.path}, io); code != 0 {
		t.Fatalf("interactive live: exit %d", code)
	}
	if !strings.Contains(screen.opts.Title, "OpenRTC") || screen.rows != 5 || screen.view.Year() < 2000 {
		t.Errorf("interactive live: title %q, %d rows, time %v", screen.opts.Title, screen.rows, screen.view)
	}
}

type fakeScreen struct {
	opts tui.Options
	rows int
	view time.Time
}

func (f *fakeScreen) capture(_ context.Context, src tui.Source, opts tui.Options) error {
	f.opts, f.rows, f.view = opts, len(src.View().Sessions), src.View().Time
	return nil
}

// record polls OpenRTC's worker into a recording that verify calls intact
// and whose summary names the session that was slow.
func TestRecordOpenRTCWorker(t *testing.T) {
	dir := shortTempDir(t)
	s := startOpenRTCStandIn(t, dir)
	out := filepath.Join(dir, "py.zst")
	r := runArgs(t, "record", "--socket", s.path, "--rate", "10", "--duration", "3s", "-o", out)
	if r.code != 0 {
		t.Fatalf("record: exit %d: %s", r.code, r.err)
	}
	if !strings.Contains(r.err, "recording OpenRTC (Python) worker") || !strings.Contains(r.err, "1 derived stalls") {
		t.Errorf("record's stderr:\n%s", r.err)
	}
	if v := runArgs(t, "verify", out); v.code != 0 {
		t.Errorf("verify: exit %d\n%s%s", v.code, v.out, v.err)
	}
	sum := runArgs(t, "summary", "--json", out)
	if sum.code != 0 {
		t.Fatalf("summary: exit %d: %s", sum.code, sum.err)
	}
	if !strings.Contains(sum.out, "AJ_10c386bbc4") {
		t.Errorf("summary does not name the slow session:\n%s", sum.out)
	}
	if text := runArgs(t, "summary", out); !strings.Contains(text.out, "AJ_10c386bbc4 was reported slow on event-loop once, for") {
		t.Errorf("summary's finding for the slow session:\n%s", text.out)
	}
	if text := runArgs(t, "slow", out); !strings.Contains(text.out, "session_id=AJ_10c386bbc4 blocked event-loop (derived from a polled snapshot") {
		t.Errorf("slow:\n%s", text.out)
	}
	slow := runArgs(t, "slow", "--json", out)
	if !strings.Contains(slow.out, `"session_id":"AJ_10c386bbc4"`) || !strings.Contains(slow.out, `"derived":true`) {
		t.Errorf("slow --json:\n%s%s", slow.out, slow.err)
	}
	sessions := runArgs(t, "sessions", "--json", out)
	if !strings.Contains(sessions.out, "AJ_7c18072e8c") || !strings.Contains(sessions.out, `"error"`) {
		t.Errorf("sessions --json: the session that went with failed+1 should end in error:\n%s", sessions.out)
	}
	// The historical top of a Python worker shows its header, not Go
	// vitals it never had.
	top := runArgs(t, "top", "--once", out)
	if top.code != 0 || !strings.Contains(top.out, "AJ_912265b1f5") || !strings.Contains(top.out, "(sum of shares)") ||
		strings.Contains(top.out, "heap") || strings.Contains(top.out, "0001-01-01") || strings.Contains(top.out, "cpu% last minute") {
		t.Errorf("top --once: exit %d\n%s%s", top.code, top.out, top.err)
	}
}

// record waits while no worker runs, and when none came by its deadline
// says so and leaves no empty file.
func TestRecordWaitsForWorker(t *testing.T) {
	dir := shortTempDir(t)
	out := filepath.Join(dir, "none.zst")
	r := runArgs(t, "record", "--socket", filepath.Join(dir, "nobody.sock"), "--rate", "10", "--duration", "500ms", "-o", out)
	if r.code != 1 || !strings.Contains(r.err, "waiting for a worker") || !strings.Contains(r.err, "nothing recorded") {
		t.Fatalf("record with no worker: exit %d\n%s", r.code, r.err)
	}
	if _, err := os.Stat(out); err == nil {
		t.Errorf("%s was written with no worker", out)
	}
}

// record keeps going when the worker goes away and another takes its
// socket: the recording holds both runs.
func TestRecordAcrossRestart(t *testing.T) {
	dir := shortTempDir(t)
	s := startOpenRTCStandIn(t, dir)
	out := filepath.Join(dir, "r.zst")
	done := make(chan result)
	go func() {
		done <- runArgs(t, "record", "--socket", s.path, "--rate", "10", "--duration", "2500ms", "-o", out)
	}()
	time.Sleep(700 * time.Millisecond)
	s.stop()
	time.Sleep(500 * time.Millisecond)
	startOpenRTCStandIn(t, dir) // a new worker, uptime from the example's 12 s again
	r := <-done
	if r.code != 0 || !strings.Contains(r.err, "stopped answering") || !strings.Contains(r.err, "worker restarted; recording") {
		t.Fatalf("record across a restart: exit %d\n%s", r.code, r.err)
	}
	if v := runArgs(t, "verify", out); v.code != 0 {
		t.Errorf("verify: exit %d\n%s%s", v.code, v.out, v.err)
	}
}

// With no flags, live finds OpenRTC's default top.sock when it is the only
// socket, and beside one of ours names each with its kind.
func TestLiveDiscoversOpenRTC(t *testing.T) {
	xdg := shortTempDir(t)
	t.Setenv("XDG_RUNTIME_DIR", xdg)
	dir := filepath.Join(xdg, "openrtc-"+strconv.Itoa(os.Geteuid()))
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	startOpenRTCStandIn(t, dir)
	r := runArgs(t, "live", "--once")
	if r.code != 0 || !strings.Contains(r.out, "OpenRTC (Python) worker") {
		t.Fatalf("live with only top.sock: exit %d\n%s%s", r.code, r.out, r.err)
	}

	// One of ours beside it.
	l, err := net.Listen("unix", filepath.Join(dir, "w1.sock"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	view := runArgs(t, "top", "--json", fixture("normal.zst")).out
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Write([]byte(strings.Join(strings.Fields(view), " ") + "\n"))
			c.Close()
		}
	}()
	r = runArgs(t, "live", "--once")
	oneLineErr(t, r, 2, "top (OpenRTC (Python) worker), w1 (Go worker (introspect))")
	if r := runArgs(t, "live", "--once", "--worker", "top"); r.code != 0 || !strings.Contains(r.out, "AJ_912265b1f5") {
		t.Errorf("live --worker top: exit %d\n%s%s", r.code, r.out, r.err)
	}
}

// The real binary stops recording on SIGINT and on SIGTERM with the
// recording closed: its footer written, verify calls it intact.
func TestRecordStopsOnSignal(t *testing.T) {
	if testing.Short() {
		t.Skip("builds openrtc-replay")
	}
	goTool := filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	if _, err := os.Stat(goTool); err != nil {
		goTool = "go"
	}
	dir := shortTempDir(t)
	bin := filepath.Join(dir, "openrtc-replay")
	if out, err := exec.Command(goTool, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	s := startOpenRTCStandIn(t, dir)
	for _, sig := range []os.Signal{os.Interrupt, syscall.SIGTERM} {
		out := filepath.Join(dir, "sig.zst")
		cmd := exec.Command(bin, "record", "--socket", s.path, "--rate", "10", "-o", out)
		stderr := &syncBuffer{}
		cmd.Stderr = stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Wait for the first poll to be written, then signal.
		deadline := time.Now().Add(30 * time.Second)
		for !strings.Contains(stderr.String(), "recording OpenRTC") && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		time.Sleep(300 * time.Millisecond)
		cmd.Process.Signal(sig)
		if err := cmd.Wait(); err != nil {
			t.Fatalf("%v: record exited with %v\n%s", sig, err, stderr.String())
		}
		if !strings.Contains(stderr.String(), "wrote "+out) {
			t.Errorf("%v: stderr:\n%s", sig, stderr.String())
		}
		v := runArgs(t, "verify", out)
		if v.code != 0 || strings.Contains(v.out, "no footer") {
			t.Errorf("%v: verify: exit %d\n%s", sig, v.code, v.out)
		}
		os.Remove(out)
	}
}

// A worker killed with -9 leaves its socket behind. With one worker still
// answering beside it, live reads that one; with none, it says the sockets
// are left over.
func TestLiveSkipsStaleSockets(t *testing.T) {
	xdg := shortTempDir(t)
	t.Setenv("XDG_RUNTIME_DIR", xdg)
	dir := filepath.Join(xdg, "openrtc-"+strconv.Itoa(os.Geteuid()))
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("unix", filepath.Join(dir, "dead.sock"))
	if err != nil {
		t.Fatal(err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close()
	startOpenRTCStandIn(t, dir)
	if r := runArgs(t, "live", "--once"); r.code != 0 || !strings.Contains(r.out, "OpenRTC (Python) worker") {
		t.Fatalf("live beside a dead worker's socket: exit %d\n%s%s", r.code, r.out, r.err)
	}
	if err := os.Remove(filepath.Join(dir, "top.sock")); err != nil {
		t.Fatal(err)
	}
	l, err = net.Listen("unix", filepath.Join(dir, "top.sock"))
	if err != nil {
		t.Fatal(err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close()
	r := runArgs(t, "live", "--once")
	oneLineErr(t, r, 1, "no worker is answering")
}
