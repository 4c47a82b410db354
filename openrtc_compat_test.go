//go:build linux || darwin || freebsd

package introspect_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/openrtc-go/introspect"
)

// openrtcLineLimit is the line limit of OpenRTC's client: asyncio's
// StreamReader.readline with its default 64 KiB limit.
const openrtcLineLimit = 64 << 10

// jsonType names what OpenRTC's client expects of a field: its dataclass's
// Python type, as json.loads produces it.
type jsonType int

const (
	tStr jsonType = 1 << iota
	tInt          // an integer literal: Python's int
	tNum          // any number: float
	tBool
	tNull
	tList
	tObj
)

// OpenRTC's WorkerStats, SystemStats and SessionRow, field for field.
var (
	openrtcWorker = map[string]jsonType{
		"name": tStr, "uptime_s": tNum, "active_sessions": tInt, "max_sessions": tInt,
		"started": tInt, "failed": tInt, "saved_bytes": tInt | tNull, "draining": tBool,
		"system": tObj, "cpu_history": tList,
	}
	openrtcSystem = map[string]jsonType{
		"available": tBool, "cpu_pct": tNum | tNull, "vcpus": tInt | tNull,
		"mem_used_bytes": tInt | tNull, "mem_total_bytes": tInt | tNull,
		"swap_used_bytes": tInt | tNull, "swap_total_bytes": tInt | tNull,
		"load1": tNum | tNull, "load5": tNum | tNull, "load15": tNum | tNull, "net_rate_bps": tNum | tNull,
	}
	openrtcRow = map[string]jsonType{
		"session_id": tStr, "agent_name": tStr, "tenant": tStr | tNull, "duration_s": tNum,
		"mem_mb": tNum, "peak_mb": tNum, "cpu_pct": tNum, "status": tStr, "pinned": tBool,
	}
)

func typeOf(v any) jsonType {
	switch x := v.(type) {
	case string:
		return tStr
	case json.Number:
		if strings.ContainsAny(x.String(), ".eE") {
			return tNum
		}
		return tInt | tNum
	case bool:
		return tBool
	case nil:
		return tNull
	case []any:
		return tList
	case map[string]any:
		return tObj
	}
	return 0
}

// checkFields reports each field of want that obj lacks or holds with
// another type.
func checkFields(t *testing.T, where string, obj map[string]any, want map[string]jsonType) {
	t.Helper()
	for k, ty := range want {
		v, ok := obj[k]
		if !ok {
			t.Errorf("%s: no %q", where, k)
			continue
		}
		if typeOf(v)&ty == 0 {
			t.Errorf("%s: %q is %v (%T), not what OpenRTC's client expects", where, k, v, v)
		}
	}
}

// readAsOpenRTC reads a snapshot as OpenRTC's fetch_snapshot does: connect,
// send nothing, read one line within the 64 KiB limit, json.loads it.
func readAsOpenRTC(t *testing.T, path string) ([]byte, map[string]any) {
	t.Helper()
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReaderSize(c, openrtcLineLimit+1)
	line, err := r.ReadSlice('\n')
	if err != nil {
		t.Fatalf("reading one line within %d bytes, as OpenRTC's client does: %v (%d bytes read)", openrtcLineLimit, err, len(line))
	}
	d := json.NewDecoder(bytes.NewReader(line))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		t.Fatal(err)
	}
	return line, m
}

// A worker with 100 sessions, read as OpenRTC's `openrtc top` reads it:
// every field it uses is there with the type its dataclasses give it, the
// line fits its 64 KiB limit, and recently ended sessions are not in the
// rows it counts.
func TestSnapshotAsOpenRTCClientReadsIt(t *testing.T) {
	in, _, sock := start(t, introspect.Options{DisableCPU: true, MaxSessions: 120})
	ctx := context.Background()
	var ends []introspect.EndFunc
	for i := range 100 {
		opts := []introspect.SessionOption{introspect.Agent([]string{"dental", "restaurant", "support"}[i%3])}
		if i%2 == 0 {
			opts = append(opts, introspect.Tenant(fmt.Sprintf("tenant-%d", i%7)))
		}
		_, end := in.Begin(ctx, fmt.Sprintf("AJ_%010x", i*7919), opts...)
		ends = append(ends, end)
	}
	for _, end := range ends[:3] {
		end(nil) // ended: shown by us for the slow window, not live
	}
	defer func() {
		for _, end := range ends[3:] {
			end(nil)
		}
	}()
	// Wait for a sample: the rows' memory shares come from it.
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) && (len(in.View().Sessions) == 0 || in.View().Sessions[5].MemMB == 0) {
		time.Sleep(20 * time.Millisecond)
	}

	line, m := readAsOpenRTC(t, sock)
	w, _ := m["worker"].(map[string]any)
	if w == nil {
		t.Fatalf("no worker object: %s", line)
	}
	checkFields(t, "worker", w, openrtcWorker)
	if sys, _ := w["system"].(map[string]any); sys != nil {
		checkFields(t, "worker.system", sys, openrtcSystem)
		if sys["available"] != true {
			t.Errorf("system not available: %v", sys)
		}
	}
	for i, x := range w["cpu_history"].([]any) {
		if typeOf(x)&tNum == 0 {
			t.Errorf("cpu_history[%d] = %v", i, x)
		}
	}
	rows, _ := m["sessions"].([]any)
	if len(rows) != 97 {
		t.Errorf("%d rows in sessions, want the 97 live ones (OpenRTC titles its table with this count)", len(rows))
	}
	if n, _ := w["active_sessions"].(json.Number); n.String() != "97" {
		t.Errorf("active_sessions %v, want 97", w["active_sessions"])
	}
	if n, _ := w["started"].(json.Number); n.String() != "100" {
		t.Errorf("started %v, want 100 (a count)", w["started"])
	}
	for i, r := range rows {
		row, _ := r.(map[string]any)
		checkFields(t, fmt.Sprintf("sessions[%d]", i), row, openrtcRow)
		if s := row["status"]; s != "active" && s != "slow" {
			t.Errorf("sessions[%d].status %v", i, s)
		}
	}
	if ended, _ := m["ended_sessions"].([]any); len(ended) != 3 {
		t.Errorf("%d ended_sessions, want 3", len(ended))
	}
	perRow := float64(len(line)) / float64(len(rows)+len(m["ended_sessions"].([]any)))
	// What a compact mode (OpenRTC's row fields only) would serve.
	compact := 0
	for _, r := range rows {
		row := r.(map[string]any)
		keep := map[string]any{}
		for k := range openrtcRow {
			keep[k] = row[k]
		}
		b, _ := json.Marshal(keep)
		compact += len(b) + 1
	}
	perCompact := float64(compact) / float64(len(rows))
	t.Logf("snapshot of 100 sessions: %d bytes, %.0f bytes a row: OpenRTC's 64 KiB limit is reached at about %.0f sessions; "+
		"OpenRTC's fields only: %.0f bytes a row, about %.0f sessions",
		len(line), perRow, openrtcLineLimit/perRow, perCompact, openrtcLineLimit/perCompact)

	// OpenRTC's own client, unmodified, when its source is at hand
	// (OPENRTC_RUNTIME_SRC=path/to/openrtc-runtime/src).
	if src := os.Getenv("OPENRTC_RUNTIME_SRC"); src != "" {
		runOpenRTCClient(t, src, sock)
	}
}

// runOpenRTCClient runs OpenRTC's fetch_snapshot against the socket. Its
// module needs only the standard library; the openrtc package's __init__
// imports LiveKit, so the two parent packages are stood in as bare
// namespaces over the source tree.
func runOpenRTCClient(t *testing.T, src, sock string) {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not found")
	}
	script := `
import asyncio, sys, types, importlib
from pathlib import Path
src = Path(sys.argv[1])
for name, sub in (("openrtc", "openrtc"), ("openrtc.observability", "openrtc/observability")):
    m = types.ModuleType(name); m.__path__ = [str(src / sub)]; sys.modules[name] = m
ipc = importlib.import_module("openrtc.observability.introspection_ipc")
snap = asyncio.run(ipc.fetch_snapshot(Path(sys.argv[2])))
w = snap["worker"]
assert w is not None, "no worker block"
print("rows", len(snap["sessions"]), "active", w["active_sessions"], "started", w["started"], "vcpus", w["system"]["vcpus"])
`
	out, err := exec.Command(py, "-c", script, src, sock).CombinedOutput()
	if err != nil {
		t.Fatalf("OpenRTC's client: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "rows 97 active 97 started 100") {
		t.Errorf("OpenRTC's client read: %s", out)
	}
	t.Logf("OpenRTC's client: %s", bytes.TrimSpace(out))
}
