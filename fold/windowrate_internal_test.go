package fold

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/openrtc-go/introspect/events"
)

// The fold's per-window rate gives exactly what events.CPUWindow.SessionCPU
// gives, to the nanosecond, measured or not, scaled or not.
func TestWindowRateIsSessionCPU(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 20000 {
		w := events.CPUWindow{
			Duration: time.Duration(rng.Int64N(int64(10*time.Second))) + 1,
			Period:   10 * time.Millisecond,
			Total:    rng.Int64N(2000),
		}
		if i%3 != 0 {
			w.CPUTime = time.Duration(rng.Int64N(int64(20 * time.Second)))
		}
		if i%2 == 0 {
			w.Span = w.Duration + time.Duration(rng.Int64N(int64(5*time.Second)))
		}
		n := rng.Int64N(w.Total + 1)
		if got, want := rateOf(w).nanos(n), int64(w.SessionCPU(n)); got != want {
			t.Fatalf("window %+v, %d samples: %d ns, SessionCPU %d", w, n, got, want)
		}
	}
}
