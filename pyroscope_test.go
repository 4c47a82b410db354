package introspect_test

import (
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/pprof/profile"
	"github.com/grafana/pyroscope-go"

	"github.com/openrtc-go/introspect"
)

// ingest is a loopback stand-in for a Pyroscope server: it accepts
// pyroscope-go's uploads (POST /ingest, a multipart form whose "profile"
// part is a pprof profile) and keeps the CPU profiles.
type ingest struct {
	mu   sync.Mutex
	cpu  []*profile.Profile
	errs []string
}

func (g *ingest) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/ingest") {
		http.NotFound(w, r)
		return
	}
	_, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		g.fail("content type: " + err.Error())
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	mr := multipart.NewReader(r.Body, params["boundary"])
	for {
		part, err := mr.NextPart()
		if err != nil {
			break
		}
		if part.FormName() != "profile" {
			continue
		}
		data, _ := io.ReadAll(part)
		p, err := profile.ParseData(data)
		if err != nil {
			g.fail("profile: " + err.Error())
			continue
		}
		if p.PeriodType != nil && p.PeriodType.Type == "cpu" {
			g.mu.Lock()
			g.cpu = append(g.cpu, p)
			g.mu.Unlock()
		}
	}
	w.WriteHeader(http.StatusOK)
}

func (g *ingest) fail(s string) {
	g.mu.Lock()
	g.errs = append(g.errs, s)
	g.mu.Unlock()
}

// cpuProfiles returns how many CPU profiles arrived and how many of them
// had samples of the session.
func (g *ingest) cpuProfiles(session string) (n, withSession int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, p := range g.cpu {
		if labelValues(p, introspect.LabelSession)[session] > 0 {
			withSession++
		}
	}
	return len(g.cpu), withSession
}

// The real pyroscope-go beside introspection, in both start orders, its
// uploads going to a loopback server through introspection's upload tap:
// pyroscope keeps producing CPU profiles (introspection backs off rather
// than fighting for the profiler), and the CPU column is filled from those
// profiles and says whose they are, never blank without a word.
func TestBesidePyroscope(t *testing.T) {
	if testing.Short() {
		t.Skip("runs pyroscope-go for a few seconds")
	}
	for _, order := range []string{"pyroscope first", "introspection first"} {
		t.Run(order, func(t *testing.T) {
			g := &ingest{}
			srv := httptest.NewServer(g)
			defer srv.Close()

			var in *introspect.Introspector
			var prof *pyroscope.Profiler
			startPyroscope := func() {
				var err error
				prof, err = pyroscope.Start(pyroscope.Config{
					ApplicationName: "introspect.test",
					ServerAddress:   srv.URL,
					UploadRate:      time.Second,
					ProfileTypes:    []pyroscope.ProfileType{pyroscope.ProfileCPU},
					HTTPClient:      &http.Client{Transport: introspect.ProfileUploads(nil)},
				})
				if err != nil {
					t.Fatal(err)
				}
			}
			opts := introspect.Options{CPUWindow: 250 * time.Millisecond, SampleInterval: 250 * time.Millisecond}
			if order == "pyroscope first" {
				startPyroscope()
				time.Sleep(300 * time.Millisecond) // pyroscope holds the profiler
				in = startQuiet(t, opts)
			} else {
				in = startQuiet(t, opts)
				time.Sleep(600 * time.Millisecond) // introspection holds the profiler
				startPyroscope()
			}
			stop := make(chan struct{})
			var wg sync.WaitGroup
			burnSession(t, in, "job-pyro", stop, &wg)

			var sawOwner bool
			var cpuSeconds float64
			deadline := time.Now().Add(6 * time.Second)
			for time.Now().Before(deadline) {
				v := in.View()
				if v.Worker.CPUOwner == "pyroscope-go" {
					sawOwner = true
				}
				if v.Worker.CPUOwner == "" && v.Worker.CPUUnavailable != "" {
					t.Errorf("CPU column blank without an owner: %q", v.Worker.CPUUnavailable)
				}
				for _, r := range v.Sessions {
					if r.SessionID == "job-pyro" {
						cpuSeconds = r.CPUSeconds
					}
				}
				if n, _ := g.cpuProfiles("job-pyro"); n >= 4 && sawOwner && cpuSeconds > 0 {
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			close(stop)
			wg.Wait()
			prof.Stop()
			in.Close()

			n, labelled := g.cpuProfiles("job-pyro")
			t.Logf("%s: pyroscope uploaded %d CPU profiles (%d with the session's samples); owner seen %v; job-pyro cpu_seconds %.2f",
				order, n, labelled, sawOwner, cpuSeconds)
			if n < 3 {
				t.Errorf("pyroscope uploaded %d CPU profiles in 6s at a 1s rate: introspection kept it from profiling", n)
			}
			if labelled == 0 {
				t.Errorf("pyroscope's profiles have no samples of the session")
			}
			if !sawOwner {
				t.Errorf("the header never named pyroscope-go as the CPU profiler's owner")
			}
			if cpuSeconds <= 0 {
				t.Errorf("job-pyro has no CPU seconds: the column was not filled from pyroscope's profiles")
			}
			g.mu.Lock()
			defer g.mu.Unlock()
			if len(g.errs) > 0 {
				t.Errorf("uploads damaged by the tap: %v", g.errs)
			}
		})
	}
}
