package introspect

import (
	"bytes"
	"mime/multipart"
	"runtime/pprof"
	"testing"
)

// multipartOf builds an upload as pyroscope-go sends one: a "profile" part
// and a JSON part.
func multipartOf(tb testing.TB, profile []byte) ([]byte, string) {
	tb.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("profile", "profile.pprof")
	fw.Write(profile)
	fw, _ = mw.CreateFormFile("sample_type_config", "sample_type_config.json")
	fw.Write([]byte(`{"samples":{"units":"samples"}}`))
	mw.Close()
	return body.Bytes(), mw.Boundary()
}

func cpuProfileBytes(tb testing.TB) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := pprof.StartCPUProfile(&buf); err != nil {
		tb.Skip("profiler busy:", err)
	}
	pprof.StopCPUProfile()
	return buf.Bytes()
}

func TestCPUProfilesIn(t *testing.T) {
	body, boundary := multipartOf(t, cpuProfileBytes(t))
	ws := cpuProfilesIn(body, boundary, "pyroscope-go")
	if len(ws) != 1 || ws[0].Owner != "pyroscope-go" {
		t.Fatalf("windows %+v, want one from pyroscope-go", ws)
	}
	var heap bytes.Buffer
	pprof.Lookup("heap").WriteTo(&heap, 0)
	body, boundary = multipartOf(t, heap.Bytes())
	if ws := cpuProfilesIn(body, boundary, "x"); len(ws) != 0 {
		t.Errorf("a heap profile read as CPU: %+v", ws)
	}
}

// An upload body is another library's bytes: whatever it holds, reading it
// neither panics nor yields a window that is not a CPU profile's.
func FuzzCPUProfilesIn(f *testing.F) {
	body, boundary := multipartOf(f, cpuProfileBytes(f))
	f.Add(body, boundary)
	f.Add(body[:len(body)/2], boundary)
	f.Add([]byte("--x\r\nContent-Disposition: form-data; name=\"profile\"\r\n\r\nnot a profile\r\n--x--\r\n"), "x")
	f.Add([]byte{}, "")
	f.Fuzz(func(t *testing.T, body []byte, boundary string) {
		for _, w := range cpuProfilesIn(body, boundary, "p") {
			if w.Owner != "p" || w.Total < w.Unlabelled {
				t.Fatalf("bad window %+v", w)
			}
		}
	})
}
