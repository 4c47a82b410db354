package recorder

import (
	"bytes"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tidwall/gjson"

	"github.com/openrtc-go/introspect/events"
)

// WorkerID is who wrote a file: the worker's name, the host it ran on and
// its process ID. A zero field is unknown: an older recording's later files
// carry only the name (in their keyframes), a plain log may carry nothing.
type WorkerID struct {
	Name string
	Host string
	PID  int
}

// String returns "w1@host (pid 42)", leaving out what is unknown.
func (id WorkerID) String() string {
	s := id.Name
	if s == "" {
		s = "unidentified"
	}
	if id.Host != "" {
		s += "@" + id.Host
	}
	if id.PID != 0 {
		s += fmt.Sprintf(" (pid %d)", id.PID)
	}
	return s
}

// WorkerFile is one file and who wrote it, the input of [GroupWorkers].
type WorkerFile struct {
	Path        string
	ID          WorkerID
	First, Last time.Time // its records' time range; zero when it has none
}

// WorkerGroup is the files of one worker, in time order. Key is how a user
// names it (`openrtc-replay --worker KEY`): "name@host", "name" when the
// host is unknown, "name@host#pid" when processes of the same name ran at
// the same time on the same host, "unidentified" for files that name no
// worker.
type WorkerGroup struct {
	Key         string
	Name, Host  string
	PIDs        []int // the runs, in time order; empty when unknown
	Files       []WorkerFile
	First, Last time.Time
}

// Paths returns the group's file paths, in time order.
func (g WorkerGroup) Paths() []string {
	out := make([]string, len(g.Files))
	for i, f := range g.Files {
		out[i] = f.Path
	}
	return out
}

// Describe returns a short line for lists: "w1@fixture-host: normal.zst,
// 03:10:00 → 03:13:00 UTC" or "w3@synth-host: 4 files (pids 1007, 1008), …".
func (g WorkerGroup) Describe() string {
	var b strings.Builder
	b.WriteString(g.Key)
	b.WriteString(": ")
	if len(g.Files) == 1 {
		b.WriteString(filepath.Base(g.Files[0].Path))
	} else {
		fmt.Fprintf(&b, "%d files", len(g.Files))
	}
	if len(g.PIDs) > 1 {
		pids := make([]string, len(g.PIDs))
		for i, p := range g.PIDs {
			pids[i] = strconv.Itoa(p)
		}
		fmt.Fprintf(&b, " (%d runs: pids %s)", len(g.PIDs), strings.Join(pids, ", "))
	}
	if !g.First.IsZero() {
		first, last := g.First.UTC(), g.Last.UTC()
		lastLayout := "15:04:05 UTC"
		if last.Format(time.DateOnly) != first.Format(time.DateOnly) {
			lastLayout = "2006-01-02 15:04:05 UTC" // else a range over midnight reads backwards
		}
		fmt.Fprintf(&b, ", %s → %s", first.Format("2006-01-02 15:04:05"), last.Format(lastLayout))
	}
	return b.String()
}

// GroupWorkers is the one rule that keeps recordings of different workers
// apart. Every reader of several files (openrtc-replay on a directory or a
// list, the interactive screen, bucket prefixes) groups them with it and
// reads one group at a time.
//
// Files belong to the same worker when they carry the same worker name and
// host. A restarted worker (same name and host, a new process ID) continues
// the same worker's history: the operator asks "what happened to w1 on
// host-a at 03:12?", and the restart is part of the answer, so its runs form
// one group whose PIDs lists them. Two processes of the same name and host
// whose records overlap in time are not a restart but two workers running
// side by side; they are split by process ID. Different hosts are different
// workers even under one name (every pod of a deployment shares its name).
//
// A file that names a worker but not its host (the later files of an older
// rotated recording carry only the name) joins the one group of that name,
// or forms a group of its own when there are several. Files that name no
// worker at all (a plain application log) form the group "unidentified".
// Groups come in order of their first record; files within a group in time
// order.
func GroupWorkers(files []WorkerFile) []WorkerGroup {
	type key struct{ name, host string }
	byKey := map[key][]WorkerFile{}
	var order []key
	add := func(k key, f WorkerFile) {
		if _, ok := byKey[k]; !ok {
			order = append(order, k)
		}
		byKey[k] = append(byKey[k], f)
	}
	var hostless []WorkerFile
	for _, f := range files {
		if f.ID.Name != "" && f.ID.Host == "" {
			hostless = append(hostless, f)
			continue
		}
		add(key{f.ID.Name, f.ID.Host}, f)
	}
	for _, f := range hostless {
		var match []key
		for _, k := range order {
			if k.name == f.ID.Name && k.host != "" {
				match = append(match, k)
			}
		}
		if len(match) == 1 {
			add(match[0], f)
		} else {
			add(key{f.ID.Name, ""}, f)
		}
	}
	var out []WorkerGroup
	for _, k := range order {
		out = append(out, splitRuns(k.name, k.host, byKey[k])...)
	}
	slices.SortStableFunc(out, func(a, b WorkerGroup) int { return compareStart(a.First, b.First) })
	return out
}

// splitRuns turns the files of one name and host into one group, or into
// one group per process when two processes' records overlap in time.
func splitRuns(name, host string, files []WorkerFile) []WorkerGroup {
	slices.SortStableFunc(files, func(a, b WorkerFile) int { return compareStart(a.First, b.First) })
	type run struct {
		pid         int
		first, last time.Time
	}
	var runs []*run
	byPID := map[int]*run{}
	for _, f := range files {
		if f.ID.PID == 0 || f.First.IsZero() {
			continue
		}
		r := byPID[f.ID.PID]
		if r == nil {
			r = &run{pid: f.ID.PID, first: f.First, last: f.Last}
			byPID[f.ID.PID] = r
			runs = append(runs, r)
		}
		r.first = minTime(r.first, f.First)
		if f.Last.After(r.last) {
			r.last = f.Last
		}
	}
	slices.SortFunc(runs, func(a, b *run) int { return a.first.Compare(b.first) })
	overlap := false
	for i := 1; i < len(runs); i++ {
		for j := range i {
			if runs[i].first.Before(runs[j].last) {
				overlap = true
			}
		}
	}
	base := name
	if base == "" {
		base = "unidentified"
	}
	if host != "" {
		base += "@" + host
	}
	if !overlap {
		g := WorkerGroup{Key: base, Name: name, Host: host, Files: files}
		for _, r := range runs {
			g.PIDs = append(g.PIDs, r.pid)
		}
		g.span()
		return []WorkerGroup{g}
	}
	// Processes side by side: one group each. A file without a process ID
	// (an older recording's later file) belongs to the run it continues.
	groups := make([]WorkerGroup, len(runs))
	idx := map[int]int{}
	for i, r := range runs {
		groups[i] = WorkerGroup{Key: fmt.Sprintf("%s#%d", base, r.pid), Name: name, Host: host, PIDs: []int{r.pid}}
		idx[r.pid] = i
	}
	for _, f := range files {
		i, ok := idx[f.ID.PID]
		if !ok {
			// The run that ended last before it began, else the last to
			// begin before it.
			i = 0
			var end time.Time
			for j, r := range runs {
				if !r.last.After(f.First) && (end.IsZero() || r.last.After(end)) {
					i, end = j, r.last
				} else if end.IsZero() && !r.first.After(f.First) {
					i = j
				}
			}
		}
		groups[i].Files = append(groups[i].Files, f)
	}
	for i := range groups {
		groups[i].span()
	}
	return groups
}

func (g *WorkerGroup) span() {
	for _, f := range g.Files {
		if f.First.IsZero() {
			continue
		}
		g.First = minTime(g.First, f.First)
		if f.Last.After(g.Last) {
			g.Last = f.Last
		}
	}
}

// minTime returns the earlier of a and b, a zero time meaning unknown.
func minTime(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

// compareStart orders times with unknown (zero) ones last.
func compareStart(a, b time.Time) int {
	switch {
	case a.IsZero() && b.IsZero():
		return 0
	case a.IsZero():
		return 1
	case b.IsZero():
		return -1
	}
	return a.Compare(b)
}

// SelectWorker returns the group that key names: a group's Key, or a worker
// name (or name@host) that only one group carries. It reports false with
// the groups key could mean when it names none or several.
func SelectWorker(groups []WorkerGroup, key string) (WorkerGroup, []WorkerGroup, bool) {
	for _, g := range groups {
		if g.Key == key {
			return g, nil, true
		}
	}
	var match []WorkerGroup
	for _, g := range groups {
		if g.Name == key || (g.Host != "" && g.Name+"@"+g.Host == key) ||
			strings.HasPrefix(g.Key, key+"#") {
			match = append(match, g)
		}
	}
	if len(match) == 1 {
		return match[0], nil, true
	}
	return WorkerGroup{}, match, false
}

// Workers groups the files of the set by the worker that wrote them, with
// [GroupWorkers]. A set of one file is one group.
func (s *Set) Workers() []WorkerGroup {
	files := make([]WorkerFile, len(s.files))
	for i, f := range s.files {
		f.learnAll(&s.dec)
		fi := f.info()
		files[i] = WorkerFile{Path: f.path, ID: f.worker(&s.dec), First: fi.First, Last: fi.Last}
	}
	return GroupWorkers(files)
}

// identityScan bounds how much of a file is read to learn who wrote it when
// its header does not say: the first records, up to this many bytes.
const identityScan = 1 << 20

// worker returns who wrote the file: from its file header when the writer
// put the worker there, otherwise from its first records (the worker.start
// event, or the worker name of its first keyframe).
func (f *recFile) worker(dec *decoderPool) WorkerID {
	f.mu.Lock()
	if f.idKnown {
		defer f.mu.Unlock()
		return f.id
	}
	f.mu.Unlock()
	id := f.id // from the header, if any
	if id.Name == "" || id.Host == "" {
		id = f.workerFromRecords(dec, id)
	}
	f.mu.Lock()
	f.id, f.idKnown = id, true
	f.mu.Unlock()
	return id
}

// workerFromRecords reads the file's first records for a worker.start event
// (name, host, pid) or, failing that, a keyframe's worker name.
func (f *recFile) workerFromRecords(dec *decoderPool, id WorkerID) WorkerID {
	c := newCursor(f, 0, dec)
	defer c.abandon()
	seen := int64(0)
	for c.cur >= 0 || c.load() {
		line, _, n, _, ok := c.nextLine()
		if !ok {
			c.finish()
			continue
		}
		if seen += n + 1; seen > identityScan {
			break
		}
		switch {
		case bytes.Contains(line, []byte(`"`+events.KindWorkerStart+`"`)):
			r := gjson.ParseBytes(line)
			if r.Get("msg").Str != events.KindWorkerStart {
				continue
			}
			return WorkerID{Name: r.Get("worker").Str, Host: r.Get("host").Str, PID: int(r.Get("pid").Int())}
		case id.Name == "" && isKeyframe(line):
			id.Name = gjson.GetBytes(line, "worker.name").Str
		}
	}
	return id
}

// WorkersError is the error of a reader asked to read, as one stream, files
// that several workers wrote, without being told which worker to read.
type WorkersError struct {
	Groups []WorkerGroup // what the inputs hold
	Worker string        // the worker asked for, when it named none or several
	Match  []WorkerGroup // the groups Worker could mean, when several
}

// Error lists the workers on one line, so that the user can choose.
func (e *WorkersError) Error() string {
	list := func(gs []WorkerGroup) string {
		parts := make([]string, len(gs))
		for i, g := range gs {
			parts[i] = g.Describe()
		}
		return strings.Join(parts, "; ")
	}
	switch {
	case e.Worker == "":
		return fmt.Sprintf("the inputs hold the recordings of %d workers, which are never stitched together; choose one with --worker: %s",
			len(e.Groups), list(e.Groups))
	case len(e.Match) > 1:
		return fmt.Sprintf("--worker %s names %d workers; choose one by its full name: %s", e.Worker, len(e.Match), list(e.Match))
	}
	return fmt.Sprintf("--worker %s: no such worker in the inputs, which hold: %s", e.Worker, list(e.Groups))
}

// chooseWorker returns the group of s that worker names, or the only one.
func chooseWorker(s *Set, worker string) (WorkerGroup, error) {
	groups := s.Workers()
	if worker == "" {
		if len(groups) == 1 {
			return groups[0], nil
		}
		return WorkerGroup{}, &WorkersError{Groups: groups}
	}
	g, match, ok := SelectWorker(groups, worker)
	if !ok {
		return WorkerGroup{}, &WorkersError{Groups: groups, Worker: worker, Match: match}
	}
	return g, nil
}

// OpenWorker is [Open] for inputs that may hold several workers' files: it
// opens the files of the worker that worker names ([SelectWorker]), or of
// the only worker when worker is empty. Inputs of several workers with an
// empty worker are a [*WorkersError] listing them.
func OpenWorker(worker string, paths ...string) (*Set, error) {
	s, err := Open(paths...)
	if err != nil {
		return nil, err
	}
	g, all, err := narrow(s, worker)
	switch {
	case err != nil:
		return nil, err
	case all:
		return s, nil
	}
	return Open(g.Paths()...)
}

// narrow applies the worker rule to an opened set: all reports that s holds
// only the chosen worker's files (s is then the caller's); otherwise s is
// closed, and the caller reopens g's files, or returns err.
func narrow(s *Set, worker string) (g WorkerGroup, all bool, err error) {
	if len(s.files) < 2 && worker == "" {
		return WorkerGroup{}, true, nil
	}
	g, err = chooseWorker(s, worker)
	if err == nil && len(g.Files) == len(s.files) {
		return g, true, nil
	}
	s.Close()
	return g, false, err
}
