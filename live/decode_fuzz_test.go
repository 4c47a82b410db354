package live

import (
	"math"
	"testing"
	"time"

	"github.com/openrtc-go/introspect/fold"
)

// FuzzDecode feeds the tolerant decoder, the Reader's CPU window and the
// Converter whatever a socket might send. Seeds: testdata/fuzz/FuzzDecode
// (OpenRTC's example, ours, an older ours, damaged and mistyped variants).
func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"worker":{"name":"w","uptime_s":"12.5","started":3},"sessions":[{"session_id":"a","cpu_pct":"7","duration_s":-1}]}`))
	fetched := time.Date(2026, 12, 6, 4, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, b []byte) {
		v, kind, err := Decode(b, fetched)
		if err != nil {
			return
		}
		if kind != KindOpenRTC && kind != KindIntrospect {
			t.Fatalf("kind %q", kind)
		}
		if v.Time.IsZero() || v.Sessions == nil {
			t.Fatalf("time %v, sessions %v", v.Time, v.Sessions)
		}
		if kind == KindOpenRTC {
			checkOpenRTCView(t, v, fetched)
		}
		// Twice through a Reader (the second decode windows the CPU),
		// then through the Converter.
		r, c := NewReader(""), &Converter{Period: time.Second}
		var last time.Time
		for i := range 2 {
			at := fetched.Add(time.Duration(i) * time.Second)
			s, err := r.Decode(b, Peer{PID: 1}, at)
			if err != nil {
				t.Fatalf("the Reader refused what Decode took: %v", err)
			}
			if kind == KindOpenRTC {
				checkOpenRTCView(t, s.View, at)
			}
			for _, e := range c.Snapshot(s, at) {
				if e.Time.Before(last) {
					t.Fatalf("event times went back: %v after %v", e.Time, last)
				}
				last = e.Time
			}
		}
		c.Stop(nil, fetched.Add(3*time.Second))
	})
}

func checkOpenRTCView(t *testing.T, v fold.View, fetched time.Time) {
	t.Helper()
	h := v.Worker
	if h.UptimeS < 0 || math.IsNaN(h.UptimeS) || h.CPUPct < 0 || h.CPUPct > 100 || h.ActiveSessions < 0 {
		t.Fatalf("header %+v", h)
	}
	for _, r := range v.Sessions {
		if r.SessionID == "" || r.DurationS < 0 || r.CPUPct < 0 || r.CPUPct > 100 || r.MemMB < 0 ||
			math.IsNaN(r.CPUSeconds) || r.Start.After(fetched) || r.Start.IsZero() {
			t.Fatalf("row %+v", r)
		}
	}
}
