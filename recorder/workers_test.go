package recorder

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/tidwall/gjson"
)

func TestGroupWorkers(t *testing.T) {
	at := func(min int) time.Time { return time.Date(2026, 11, 27, 3, min, 0, 0, time.UTC) }
	file := func(path, name, host string, pid, from, to int) WorkerFile {
		return WorkerFile{Path: path, ID: WorkerID{Name: name, Host: host, PID: pid}, First: at(from), Last: at(to)}
	}
	type want struct {
		key   string
		pids  []int
		paths []string
	}
	tests := []struct {
		name  string
		files []WorkerFile
		want  []want
	}{
		{"one worker, rotated", []WorkerFile{
			file("a1", "w1", "h", 10, 0, 10), file("a2", "w1", "", 0, 10, 20), file("a3", "w1", "", 0, 20, 30),
		}, []want{{"w1@h", []int{10}, []string{"a1", "a2", "a3"}}}},
		{"a restart continues the history", []WorkerFile{
			file("new", "w1", "h", 11, 20, 30), file("old", "w1", "h", 10, 0, 15),
		}, []want{{"w1@h", []int{10, 11}, []string{"old", "new"}}}},
		{"two processes side by side are two workers", []WorkerFile{
			file("x", "w1", "h", 10, 0, 30), file("y", "w1", "h", 11, 5, 20), file("x2", "w1", "", 0, 31, 40),
		}, []want{{"w1@h#10", []int{10}, []string{"x", "x2"}}, {"w1@h#11", []int{11}, []string{"y"}}}},
		{"same name on two hosts", []WorkerFile{
			file("b", "w1", "h2", 10, 1, 9), file("a", "w1", "h1", 10, 0, 9), file("c", "w1", "", 0, 9, 12),
		}, []want{{"w1@h1", []int{10}, []string{"a"}}, {"w1@h2", []int{10}, []string{"b"}}, {"w1", nil, []string{"c"}}}},
		{"strangers", []WorkerFile{
			file("n", "w1", "fixture-host", 4242, 10, 13), file("s", "w2", "fixture-host", 5151, 20, 22),
			file("log", "", "", 0, 0, 1),
		}, []want{{"unidentified", nil, []string{"log"}}, {"w1@fixture-host", []int{4242}, []string{"n"}}, {"w2@fixture-host", []int{5151}, []string{"s"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := GroupWorkers(tt.files)
			if len(got) != len(tt.want) {
				t.Fatalf("%d groups %v, want %d", len(got), got, len(tt.want))
			}
			for i, g := range got {
				w := tt.want[i]
				if g.Key != w.key || !slices.Equal(g.PIDs, w.pids) || !slices.Equal(g.Paths(), w.paths) {
					t.Errorf("group %d = %s %v %v, want %s %v %v", i, g.Key, g.PIDs, g.Paths(), w.key, w.pids, w.paths)
				}
			}
		})
	}
}

func TestSelectWorker(t *testing.T) {
	groups := []WorkerGroup{
		{Key: "w1@h1", Name: "w1", Host: "h1"}, {Key: "w1@h2", Name: "w1", Host: "h2"},
		{Key: "w2@h#7", Name: "w2", Host: "h"}, {Key: "w2@h#8", Name: "w2", Host: "h"},
		{Key: "w3@h", Name: "w3", Host: "h"},
	}
	for _, tt := range []struct {
		key, want string
		matches   int
	}{
		{"w3", "w3@h", 0}, {"w3@h", "w3@h", 0}, {"w1@h2", "w1@h2", 0}, {"w2@h#8", "w2@h#8", 0},
		{"w1", "", 2}, {"w2@h", "", 2}, {"w9", "", 0},
	} {
		g, match, ok := SelectWorker(groups, tt.key)
		if ok != (tt.want != "") || g.Key != tt.want || len(match) != tt.matches {
			t.Errorf("SelectWorker(%q) = %q, %d matches, %v; want %q, %d", tt.key, g.Key, len(match), ok, tt.want, tt.matches)
		}
	}
}

// TestOpenWorkerFixtures: a directory holding the fixtures of three workers
// (w1, w2, and w3's four rotated files, whose later files name only the
// worker) is three groups, and OpenWorker refuses to stitch them.
func TestOpenWorkerFixtures(t *testing.T) {
	dir := t.TempDir()
	fx := filepath.Join("..", "fixtures")
	copyTo := func(src string) {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(src)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	copyTo(filepath.Join(fx, "normal.zst"))
	copyTo(filepath.Join(fx, "stalls.zst"))
	rotated, _ := filepath.Glob(filepath.Join(fx, "rotated", "*.zst"))
	for _, p := range rotated {
		copyTo(p)
	}
	s := mustOpen(t, dir)
	groups := s.Workers()
	var keys []string
	for _, g := range groups {
		keys = append(keys, g.Key+":"+strings.Join(g.Paths(), ","))
	}
	if len(groups) != 3 || groups[0].Key != "w1@fixture-host" || groups[1].Key != "w2@fixture-host" ||
		groups[2].Key != "w3@synth-host" || len(groups[2].Files) != 4 || len(groups[2].PIDs) != 1 {
		t.Fatalf("groups:\n%s", strings.Join(keys, "\n"))
	}

	_, err := OpenWorker("", dir)
	var we *WorkersError
	if !errors.As(err, &we) || len(we.Groups) != 3 {
		t.Fatalf("OpenWorker without a worker: %v", err)
	}
	for _, k := range []string{"w1@fixture-host", "w2@fixture-host", "w3@synth-host"} {
		if !strings.Contains(err.Error(), k) {
			t.Errorf("the error does not list %s: %v", k, err)
		}
	}
	w3, err := OpenWorker("w3", dir)
	if err != nil {
		t.Fatal(err)
	}
	defer w3.Close()
	if n := len(w3.Files()); n != 4 {
		t.Errorf("--worker w3 opened %d files, want 4", n)
	}
	if _, err := OpenWorker("w9", dir); !errors.As(err, &we) || !strings.Contains(err.Error(), "no such worker") {
		t.Errorf("OpenWorker(w9): %v", err)
	}
}

// TestIdentify: who wrote a file, from its header (new files) or from its
// first records (older files, logs), through an io.ReaderAt.
func TestIdentify(t *testing.T) {
	for _, tt := range []struct {
		file string
		want WorkerID
	}{
		{"normal.zst", WorkerID{"w1", "fixture-host", 4242}},
		{"stalls.zst", WorkerID{"w2", "fixture-host", 5151}},
		{"rotated/w3-20261127T033222.000Z.zst", WorkerID{"w3", "synth-host", 1007}},
		{"incident.zst", incidentWorker(t)}, // re-recorded by scripts/make-incident.sh: its pid changes
		{"plain.jsonl", WorkerID{"w1", "fixture-host", 4242}},
	} {
		b, err := os.ReadFile(filepath.Join("..", "fixtures", tt.file))
		if err != nil {
			t.Fatal(err)
		}
		id, err := Identify(tt.file, bytes.NewReader(b), int64(len(b)))
		if err != nil || id != tt.want {
			t.Errorf("Identify(%s) = %+v, %v; want %+v", tt.file, id, err, tt.want)
		}
		s, err := OpenReaderAt(tt.file, bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		if n := len(readAll(t, s.Scan())); n == 0 {
			t.Errorf("OpenReaderAt(%s): no records", tt.file)
		}
		s.Close()
	}
}

// incidentWorker reads who wrote the bundled incident from its worker.start
// record with the zstd and gjson libraries alone, not through the reader under
// test, so that re-recording the incident does not break TestIdentify.
func incidentWorker(t *testing.T) WorkerID {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "fixtures", "incident.zst"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d, err := zstd.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	sc := bufio.NewScanner(d)
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		if r := gjson.ParseBytes(sc.Bytes()); r.Get("msg").String() == "worker.start" {
			return WorkerID{Name: r.Get("worker").String(), Host: r.Get("host").String(), PID: int(r.Get("pid").Int())}
		}
	}
	t.Fatalf("incident.zst: no worker.start record (%v)", sc.Err())
	return WorkerID{}
}
