package tui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/openrtc-go/introspect/fold"
	"github.com/openrtc-go/introspect/live"
)

// The screen on OpenRTC's worker: the snapshot a real OpenRTC worker served
// (live/testdata), read by the live package, shows its rows and host vitals
// and no Go vitals it does not have, nor a zero time.
func TestScreenOpenRTCWorker(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "..", "live", "testdata", "openrtc-snapshot.json"))
	if err != nil {
		t.Fatal(err)
	}
	r := live.NewReader("")
	fetch := func() (fold.View, error) {
		s, err := r.Decode(b, live.Peer{PID: 42}, time.Now())
		return s.View, err
	}
	p, err := NewPoller(fetch)
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, p, Options{Title: "live top.sock (OpenRTC (Python) worker)"})
	screen := h.screen()
	for _, want := range []string{"AJ_912265b1f5", "AJ_10c386bbc4", "acme", "openrtc-py", "started 8", "99.9", "vCPU"} {
		if !strings.Contains(screen, want) {
			t.Errorf("screen lacks %q:\n%s", want, screen)
		}
	}
	for _, bad := range []string{"0001-01-01", "heap", "sched p99", "gor 0"} {
		if strings.Contains(screen, bad) {
			t.Errorf("screen shows %q:\n%s", bad, screen)
		}
	}
}

// A recording of OpenRTC's worker (openrtc-replay record) has its kind but
// no host vitals: the header says so rather than failing.
func TestScreenOpenRTCRecording(t *testing.T) {
	v := fold.View{Time: time.Now(), Worker: fold.Header{Name: "openrtc-py", Kind: fold.KindOpenRTC, ActiveSessions: 1},
		Sessions: []fold.Row{{SessionID: "AJ_1", AgentName: "dental", Status: fold.StatusActive, Start: time.Now()}}}
	p, err := NewPoller(func() (fold.View, error) { return v, nil })
	if err != nil {
		t.Fatal(err)
	}
	screen := newHarness(t, p, Options{}).screen()
	if !strings.Contains(screen, "AJ_1") || !strings.Contains(screen, "host vitals: not recorded") {
		t.Errorf("screen:\n%s", screen)
	}
}
