package bucket

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"

	"github.com/openrtc-go/introspect/recorder"
)

// Defaults of [UploadOptions].
const (
	DefaultBacklogBytes   = 1 << 30
	DefaultMinBackoff     = time.Second
	DefaultMaxBackoff     = 2 * time.Minute
	DefaultAttemptTimeout = 5 * time.Minute
	DefaultCloseTimeout   = 10 * time.Second
)

// UploadOptions configure an [Uploader]. Only URL is required.
type UploadOptions struct {
	// URL is the bucket and prefix to upload to, such as
	// s3://recordings/prod?region=eu-west-1; see [Open].
	URL string

	// BacklogBytes bounds what waits on local disk for upload. While the
	// bucket is unreachable, closed files accumulate; past this size the
	// oldest waiting files are deleted and reported as lost (a WARN record,
	// UploadStats.Lost, and a note <file name>.lost.json uploaded where the
	// file would have been), so a long outage cannot fill the disk. The file being recorded is not counted.
	// Zero means DefaultBacklogBytes; negative means no bound.
	BacklogBytes int64

	// MinBackoff and MaxBackoff bound the wait between failed attempts,
	// which doubles from MinBackoff up to MaxBackoff, with jitter.
	MinBackoff, MaxBackoff time.Duration

	// AttemptTimeout bounds one upload. Zero means DefaultAttemptTimeout.
	AttemptTimeout time.Duration

	// CloseTimeout is how long Close waits for the last files to upload.
	// What is left stays on disk and is uploaded by the worker's next start.
	CloseTimeout time.Duration

	// Logger receives a WARN record for each streak of failed attempts and
	// for each file given up. Nil means slog.Default().
	Logger *slog.Logger
}

// UploadStats count what an [Uploader] has done.
type UploadStats struct {
	Uploaded      int64    // files uploaded (or found already uploaded)
	UploadedBytes int64    // their bytes
	Pending       int      // recording files waiting, the one in flight included
	PendingBytes  int64    // their bytes
	Failures      int64    // failed attempts
	Lost          []string // files deleted unuploaded to keep the backlog bounded
	NotesPending  int      // notes of lost files (<file>.lost.json) not yet in the bucket
	LastError     string   // the latest failed attempt's error, "" after a success
}

// An Uploader uploads each closed file of a worker's rotated recording to a
// bucket, under <prefix>/<worker>@<host>/<file name>. Wire it in with
// introspect.Options.Upload, which calls Start, FileClosed, Keep and Close;
// the recorder hands it each file it closes and spares the files it has not
// uploaded from the retention caps.
//
// It never blocks the worker: FileClosed only queues, and uploads run on
// the Uploader's own goroutine, one file at a time, oldest first.
type Uploader struct {
	opts UploadOptions
	loc  *Location
	log  *slog.Logger

	mu       sync.Mutex
	dir      string
	worker   string
	folder   string    // <worker>@<host>
	pending  []waiting // oldest first
	stats    UploadStats
	draining bool

	wake    chan struct{}
	drained chan struct{} // signalled when pending empties while draining
	cancel  context.CancelFunc
	done    chan struct{}
}

type waiting struct {
	path string
	size int64
}

// NewUploader opens the bucket of opts.URL. Nothing is uploaded before
// Start.
func NewUploader(ctx context.Context, opts UploadOptions) (*Uploader, error) {
	if opts.URL == "" {
		return nil, errors.New("bucket: upload: no URL")
	}
	raw := opts.URL
	if u, err := url.Parse(raw); err == nil && u.Scheme == "file" && !u.Query().Has("create_dir") {
		q := u.Query()
		q.Set("create_dir", "true") // a local "bucket" is made on first use, as a real one exists already
		u.RawQuery = q.Encode()
		raw = u.String()
	}
	loc, err := Open(ctx, raw)
	if err != nil {
		return nil, err
	}
	loc.URL = opts.URL
	if opts.BacklogBytes == 0 {
		opts.BacklogBytes = DefaultBacklogBytes
	}
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = DefaultMinBackoff
	}
	if opts.MaxBackoff < opts.MinBackoff {
		opts.MaxBackoff = max(DefaultMaxBackoff, opts.MinBackoff)
	}
	if opts.AttemptTimeout <= 0 {
		opts.AttemptTimeout = DefaultAttemptTimeout
	}
	if opts.CloseTimeout <= 0 {
		opts.CloseTimeout = DefaultCloseTimeout
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Uploader{opts: opts, loc: loc, log: log,
		wake: make(chan struct{}, 1), drained: make(chan struct{}, 1), done: make(chan struct{})}, nil
}

// Start begins uploading the recording files of worker in dir, into the
// folder <worker.Name>@<worker.Host> ([Folder]; an empty Host means this
// machine's name): the key recorder.GroupWorkers gives the worker, as the
// pods of one deployment share a worker name and must not share a folder.
// Files of that worker already in dir when it starts, left by an earlier
// run (the last one unclosed if that run was killed), are queued first:
// they are uploaded unless the bucket already holds them whole. Call it
// before the recorder opens its first file.
func (u *Uploader) Start(dir string, worker recorder.WorkerID) error {
	ents, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("bucket: upload: %w", err)
	}
	host := worker.Host
	if host == "" {
		host, _ = os.Hostname()
	}
	u.mu.Lock()
	u.dir, u.worker, u.folder = dir, worker.Name, Folder(worker.Name, host)
	for _, e := range ents { // by name: oldest first
		_, rec := recorder.ParseRecordingName(worker.Name, e.Name())
		if (rec || isLostNote(worker.Name, e.Name())) && e.Type().IsRegular() {
			u.queueLocked(filepath.Join(dir, e.Name()))
		}
	}
	u.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	u.cancel = cancel
	go u.run(ctx)
	u.poke()
	return nil
}

// FileClosed queues a closed recording file for upload. It returns at once.
func (u *Uploader) FileClosed(path string) {
	u.mu.Lock()
	u.queueLocked(path)
	u.mu.Unlock()
	u.poke()
}

// Keep reports whether path waits for upload, so that retention must leave
// it alone.
func (u *Uploader) Keep(path string) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	return slices.ContainsFunc(u.pending, func(w waiting) bool { return w.path == path })
}

// Stats returns what the Uploader has done so far.
func (u *Uploader) Stats() UploadStats {
	u.mu.Lock()
	defer u.mu.Unlock()
	s := u.stats
	s.Lost = slices.Clone(s.Lost)
	s.Pending, s.PendingBytes = 0, 0
	for _, w := range u.pending {
		if strings.HasSuffix(w.path, lostSuffix) {
			s.NotesPending++
			continue
		}
		s.Pending++
		s.PendingBytes += w.size
	}
	return s
}

// Close waits up to CloseTimeout for the files queued to be uploaded, then
// stops. It returns an error naming how many files are left; they stay on
// disk for the next start of the same worker.
func (u *Uploader) Close() error {
	if u.cancel == nil {
		return u.loc.Close()
	}
	u.mu.Lock()
	u.draining = true
	left := len(u.pending)
	u.mu.Unlock()
	if left > 0 {
		u.poke()
		select {
		case <-u.drained:
		case <-time.After(u.opts.CloseTimeout):
		}
	}
	u.cancel()
	<-u.done
	err := u.loc.Close()
	if n := u.Stats().Pending + u.Stats().NotesPending; n > 0 {
		err = errors.Join(fmt.Errorf("bucket: %d file(s) not uploaded to %s; they stay in %s for the next start", n, u.opts.URL, u.dir), err)
	}
	return err
}

func (u *Uploader) queueLocked(path string) {
	if slices.ContainsFunc(u.pending, func(w waiting) bool { return w.path == path }) {
		return
	}
	var size int64
	if st, err := os.Stat(path); err == nil {
		size = st.Size()
	}
	u.pending = append(u.pending, waiting{path, size})
}

func (u *Uploader) poke() {
	select {
	case u.wake <- struct{}{}:
	default:
	}
}

// run uploads the oldest waiting file until none is left, backing off
// after a failure.
func (u *Uploader) run(ctx context.Context) {
	defer close(u.done)
	backoff := time.Duration(0)
	failing := 0
	for {
		var retry <-chan time.Time
		var timer *time.Timer
		if backoff > 0 {
			timer = time.NewTimer(backoff)
			retry = timer.C
		}
		select {
		case <-ctx.Done():
			return
		case <-u.wake:
		case <-retry:
		}
		if timer != nil {
			timer.Stop()
		}
		for ctx.Err() == nil {
			u.trimBacklog()
			next, ok := u.next()
			if !ok {
				break
			}
			err := u.upload(ctx, next)
			if errors.Is(err, errGone) {
				continue
			}
			if err == nil {
				u.done1(next, "")
				backoff, failing = 0, 0
				continue
			}
			if ctx.Err() != nil {
				return
			}
			failing++
			u.mu.Lock()
			u.stats.Failures++
			u.stats.LastError = err.Error()
			draining := u.draining
			u.mu.Unlock()
			if failing == 1 || failing%10 == 0 {
				u.log.Warn("recording upload failed; retrying", "file", filepath.Base(next.path), "bucket", u.opts.URL, "attempts", failing, "error", err)
			}
			backoff = u.backoff(failing)
			if draining {
				backoff = min(backoff, u.opts.MinBackoff)
			}
			break
		}
		u.mu.Lock()
		if u.draining && len(u.pending) == 0 {
			select {
			case u.drained <- struct{}{}:
			default:
			}
		}
		u.mu.Unlock()
	}
}

func (u *Uploader) backoff(failures int) time.Duration {
	d := u.opts.MinBackoff << min(failures-1, 20)
	if d <= 0 || d > u.opts.MaxBackoff {
		d = u.opts.MaxBackoff
	}
	return d/2 + rand.N(d/2+1) // jitter, so a fleet back from an outage does not retry in step
}

func (u *Uploader) next() (waiting, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.pending) == 0 {
		return waiting{}, false
	}
	return u.pending[0], true
}

// done1 removes w from the queue, as uploaded or, with lost set, given up.
func (u *Uploader) done1(w waiting, lost string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.pending = slices.DeleteFunc(u.pending, func(p waiting) bool { return p.path == w.path })
	if lost != "" {
		u.stats.Lost = append(u.stats.Lost, lost)
		return
	}
	if strings.HasSuffix(w.path, lostSuffix) {
		_ = os.Remove(w.path) // the bucket has it now
		return
	}
	u.stats.Uploaded++
	u.stats.UploadedBytes += w.size
	u.stats.LastError = ""
}

// trimBacklog deletes the oldest waiting files while the backlog is over
// its bound, keeping the newest, and reports each as lost.
func (u *Uploader) trimBacklog() {
	if u.opts.BacklogBytes < 0 {
		return
	}
	for {
		u.mu.Lock()
		var total int64
		for _, w := range u.pending {
			total += w.size
		}
		i := slices.IndexFunc(u.pending, func(w waiting) bool { return !strings.HasSuffix(w.path, lostSuffix) })
		recs := 0
		for _, w := range u.pending {
			if !strings.HasSuffix(w.path, lostSuffix) {
				recs++
			}
		}
		if total <= u.opts.BacklogBytes || recs < 2 {
			u.mu.Unlock()
			return
		}
		w := u.pending[i]
		u.mu.Unlock()
		err := os.Remove(w.path)
		u.done1(w, filepath.Base(w.path))
		u.log.Warn("recording not uploaded: deleted to bound the local backlog", "file", filepath.Base(w.path), "bytes", w.size,
			"backlog_bytes", total, "bound", u.opts.BacklogBytes, "bucket", u.opts.URL, "remove_error", err)
		u.noteLost(w, total)
	}
}

// lostSuffix ends the name of a note that says a recording file was given
// up: <file name>.lost.json, uploaded beside where the file would have
// been, so that the bucket itself says what is missing and why.
const lostSuffix = ".lost.json"

func isLostNote(worker, name string) bool {
	rec, ok := strings.CutSuffix(name, lostSuffix)
	if !ok {
		return false
	}
	_, ok = recorder.ParseRecordingName(worker, rec)
	return ok
}

// noteLost writes the note of a file given up and queues it for upload;
// the local note is removed once uploaded.
func (u *Uploader) noteLost(w waiting, backlog int64) {
	note := fmt.Sprintf(`{"file":%q,"bytes":%d,"reason":"deleted unuploaded to bound the local backlog","backlog_bytes":%d,"bound_bytes":%d,"time":%q}`+"\n",
		filepath.Base(w.path), w.size, backlog, u.opts.BacklogBytes, time.Now().UTC().Format(time.RFC3339Nano))
	path := w.path + lostSuffix
	if err := os.WriteFile(path, []byte(note), 0o644); err != nil {
		return // the WARN record says it
	}
	u.mu.Lock()
	u.queueLocked(path)
	u.mu.Unlock()
}

var errGone = errors.New("file gone")

// upload copies one file to the bucket, unless the bucket already holds it
// whole (uploaded before a restart).
func (u *Uploader) upload(ctx context.Context, w waiting) error {
	ctx, cancel := context.WithTimeout(ctx, u.opts.AttemptTimeout)
	defer cancel()
	f, err := os.Open(w.path)
	if errors.Is(err, fs.ErrNotExist) {
		u.done1(w, filepath.Base(w.path)) // deleted under us: nothing to upload
		u.log.Warn("recording not uploaded: the file is gone", "file", w.path)
		return errGone
	}
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	u.mu.Lock()
	folder := u.folder
	u.mu.Unlock()
	key := u.loc.Key(folder, filepath.Base(w.path))
	if a, err := u.loc.Bucket.Attributes(ctx, key); err == nil {
		if a.Size == st.Size() {
			return nil // uploaded before a restart
		}
		// Another process's file of the same name: never overwrite it.
		key = u.loc.Key(folder, strings.TrimSuffix(filepath.Base(w.path), ".zst")+fmt.Sprintf("-pid%d.zst", os.Getpid()))
	} else if gcerrors.Code(err) != gcerrors.NotFound {
		return err
	}
	ct := "application/zstd"
	if strings.HasSuffix(w.path, lostSuffix) {
		ct = "application/json"
	}
	return u.loc.Bucket.Upload(ctx, key, f, &blob.WriterOptions{ContentType: ct})
}

// Folder returns the folder of a worker's files under the prefix:
// "<worker>@<host>", the key recorder.GroupWorkers gives the worker, or the
// worker alone when the host is unknown.
func Folder(worker, host string) string {
	if host == "" {
		return worker
	}
	return worker + "@" + host
}
