package introspect

import (
	"bytes"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/openrtc-go/introspect/sampler"
)

// maxUploadPart bounds what is read of one part of an upload to look for a
// CPU profile; a CPU profile of a minute is a few hundred kilobytes.
const maxUploadPart = 64 << 20

// ProfileUploads returns an http.RoundTripper that passes every request on
// to next (http.DefaultTransport when nil) unchanged, and reads the CPU
// profiles a push-mode profiler uploads through it, to attribute CPU to
// sessions from them while that profiler owns the process's CPU profiler
// (see Options.CPUOwner). Give it to the profiler's HTTP client:
//
//	pyroscope.Start(pyroscope.Config{
//		ApplicationName: "voice-worker",
//		ServerAddress:   "http://pyroscope:4040",
//		HTTPClient:      &http.Client{Transport: introspect.ProfileUploads(nil)},
//	})
//
//	profiler.Start(profiler.WithHTTPClient( // dd-trace-go
//		&http.Client{Transport: introspect.ProfileUploads(nil)}))
//
// The profiles go to the process's running Introspector (the latest
// started and not closed), whenever it starts: the profiler may be started
// before or after introspection. Any multipart upload is read: each part
// that parses as a CPU profile (pyroscope-go's "profile", Datadog's
// "cpu.pprof") becomes a CPU window, shared per session by the samples'
// session labels, its total the process's CPU time over the profile's time;
// other parts and requests pass untouched. Reading never fails an upload:
// a part that does not parse is ignored.
func ProfileUploads(next http.RoundTripper) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	return &uploadTap{next: next}
}

// running is the process's running Introspector, for ProfileUploads.
var running atomic.Pointer[Introspector]

type uploadTap struct {
	next http.RoundTripper
}

func (t *uploadTap) RoundTrip(r *http.Request) (*http.Response, error) {
	in := running.Load()
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if in == nil || in.sampler == nil || r.Method != http.MethodPost || r.Body == nil || err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return t.next.RoundTrip(r)
	}
	body, err := io.ReadAll(r.Body)
	r.Body.Close()
	if err != nil {
		return nil, err
	}
	// A RoundTripper must not change the request: the profiler gets a
	// clone with the same bytes.
	out := r.Clone(r.Context())
	out.Body = io.NopCloser(bytes.NewReader(body))
	out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	out.ContentLength = int64(len(body))
	in.readUpload(uploaderOf(r), body, params["boundary"])
	return t.next.RoundTrip(out)
}

// uploaderOf names the profiler an upload comes from by where it goes:
// pyroscope's /ingest, Datadog's agent or intake.
func uploaderOf(r *http.Request) string {
	switch p := r.URL.Path; {
	case strings.HasSuffix(p, "/ingest"):
		return "pyroscope-go"
	case strings.Contains(p, "/profiling/") || strings.Contains(p, "/api/v2/profile"):
		return "dd-trace-go profiler"
	}
	return "the profiler uploading to " + r.URL.Host
}

// readUpload turns each CPU profile in a multipart body into a window for
// the next sample.
func (in *Introspector) readUpload(owner string, body []byte, boundary string) {
	if in.opts.CPUOwner != "" {
		owner = in.opts.CPUOwner
	}
	for _, w := range cpuProfilesIn(body, boundary, owner) {
		in.sampler.foreign(w)
	}
}

// cpuProfilesIn returns a window for each part of a multipart body that
// parses as a CPU profile, in order; other parts, and whatever follows a
// damaged part, are ignored.
func cpuProfilesIn(body []byte, boundary, owner string) []sampler.CPUWindow {
	var ws []sampler.CPUWindow
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	for {
		part, err := mr.NextPart()
		if err != nil {
			return ws
		}
		data, err := io.ReadAll(io.LimitReader(part, maxUploadPart))
		if err != nil {
			return ws
		}
		w, _, err := sampler.ParseCPUProfile(data, owner, sampler.DefaultTopFrames)
		if err != nil {
			continue
		}
		ws = append(ws, w)
	}
}

// cpuClock keeps the process's CPU time at each sample tick for the last
// ten minutes, so that a profile another profiler took over any recent span
// can be given the process's CPU time over that span.
type cpuClock struct {
	mu    sync.Mutex
	at    []time.Time
	cpu   []time.Duration
	first int // index of the oldest reading in the ring
}

const cpuClockLen = 600

func (c *cpuClock) add(t time.Time) {
	cpu, ok := sampler.ProcessCPU()
	if !ok {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.at) < cpuClockLen {
		c.at, c.cpu = append(c.at, t), append(c.cpu, cpu)
		return
	}
	c.at[c.first], c.cpu[c.first] = t, cpu
	c.first = (c.first + 1) % cpuClockLen
}

// between returns the process's CPU time from a to b, interpolated between
// the readings around each end, and whether the readings cover [a, b].
func (c *cpuClock) between(a, b time.Time) (time.Duration, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ca, ok1 := c.atLocked(a)
	cb, ok2 := c.atLocked(b)
	if !ok1 || !ok2 || cb < ca {
		return 0, false
	}
	return cb - ca, true
}

func (c *cpuClock) atLocked(t time.Time) (time.Duration, bool) {
	n := len(c.at)
	idx := func(i int) int { return (c.first + i) % n }
	var prev int = -1
	for i := range n {
		j := idx(i)
		if !c.at[j].Before(t) {
			if prev < 0 {
				return 0, false // before the oldest reading
			}
			span := c.at[j].Sub(c.at[prev])
			if span <= 0 {
				return c.cpu[j], true
			}
			f := float64(t.Sub(c.at[prev])) / float64(span)
			return c.cpu[prev] + time.Duration(f*float64(c.cpu[j]-c.cpu[prev])), true
		}
		prev = j
	}
	if prev >= 0 && t.Sub(c.at[prev]) < 2*time.Second {
		return c.cpu[prev], true // just after the latest reading
	}
	return 0, false
}

// foreign queues a window read from another profiler's profile for the next
// sample, with the process's CPU time over its time and a span from the end
// of the previous such window, so that a profiler that profiles part of
// each period (Datadog's CPU profile of each minute) is scaled to the
// whole.
func (sl *sampleLoop) foreign(w sampler.CPUWindow) {
	end := w.Start.Add(w.Duration)
	sl.clock.add(time.Now()) // the profile ends about now, after the last tick
	if cpu, ok := sl.clock.between(w.Start, end); ok {
		w.CPUTime = cpu
	}
	// The stall watchdog judges holds by the CPU windows covering them;
	// another profiler's profiles are the only ones while it owns the
	// profiler (they come late, at its upload, and count whole).
	sl.history.add(w)
	sl.mu.Lock()
	defer sl.mu.Unlock()
	w.Span = w.Duration
	if !sl.foreignEnd.IsZero() {
		if gap := end.Sub(sl.foreignEnd); gap > w.Duration && gap < 5*time.Minute {
			w.Span = gap
		}
	}
	sl.foreignEnd = end
	sl.foreignAt = time.Now()
	sl.foreignSpan = w.Span
	sl.pending = append(sl.pending, w)
}

// quietAside reports whether a tick's unavailable windows should be left
// out of its sample: while another profiler's profiles arrive (the latest
// within two of its spans), the CPU column shows the latest of them rather
// than flipping to "owned by" between two uploads. Callers hold sl.mu.
func (sl *sampleLoop) quietAside(now time.Time) bool {
	return !sl.foreignAt.IsZero() && now.Sub(sl.foreignAt) < 2*sl.foreignSpan+time.Second
}
