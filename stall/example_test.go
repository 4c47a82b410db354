package stall_test

import (
	"context"
	"fmt"
	"runtime/pprof"
	"time"

	"github.com/openrtc-go/introspect/stall"
)

// A session holds a shared mixer for longer than the threshold. The watchdog
// reports it while it lasts (Ongoing) and once more with the total when it
// ends; this example prints the final report only.
func ExampleLoop_Enter() {
	w := stall.New(stall.Options{Report: func(s stall.Stall) {
		if !s.Ongoing {
			fmt.Printf("%s held %s for at least 100ms: %v\n", s.Session, s.Source, s.Blocked >= 100*time.Millisecond)
		}
	}})
	mixer := w.Loop("mixer")

	ctx := pprof.WithLabels(context.Background(), pprof.Labels("session", "job-c1d550", "agent", "voice"))
	pprof.Do(ctx, pprof.Labels(), func(ctx context.Context) {
		leave := mixer.Enter(ctx)
		defer leave()
		time.Sleep(100 * time.Millisecond) // a synchronous call on a shared loop
	})

	w.Close() // makes the final reports of stalls that have ended
	// Output: job-c1d550 held mixer for at least 100ms: true
}

// A Mutex blames the session that holds it, not those waiting for it.
func ExampleMutex() {
	w := stall.New(stall.Options{Threshold: 20 * time.Millisecond, Report: func(s stall.Stall) {
		if !s.Ongoing {
			fmt.Println(s.Session, "held", s.Source)
		}
	}})
	state := w.Mutex("room-state")

	pprof.Do(context.Background(), pprof.Labels("session", "job-1"), func(ctx context.Context) {
		state.LockCtx(ctx)
		defer state.Unlock()
		time.Sleep(50 * time.Millisecond)
	})

	w.Close()
	// Output: job-1 held room-state
}

// Attribute names the session that dominated the CPU while the scheduler
// lagged, or nobody.
func ExampleAttribute() {
	session, confidence := stall.Attribute(map[string]int64{"job-hot": 36, "job-2": 4}, 48)
	fmt.Printf("%q %.2f\n", session, confidence)
	session, confidence = stall.Attribute(map[string]int64{"job-1": 20, "job-2": 18}, 40)
	fmt.Printf("%q %.2f\n", session, confidence)
	// Output:
	// "job-hot" 0.75
	// "" 0.00
}

// Once per window the caller takes the lags the probe measured, the CPU
// samples per session taken meanwhile and each session's usual rate, and
// turns each lag into a stall. Here a codec's loop held both Ps for 320ms:
// 64 samples beside its usual one in 5 s, while the hogs kept their pace.
func ExampleSchedStall() {
	lag := stall.SchedLag{ID: 7, Start: time.Now(), Worst: 290 * time.Millisecond}
	lag.End = lag.Start.Add(320 * time.Millisecond)
	during := stall.CPUSeen{
		BySession: map[string]int64{"codec-3": 65, "hog-1": 120, "hog-2": 96},
		Total:     290, Period: 10 * time.Millisecond, Windows: 5 * time.Second,
	}
	usual := stall.CPUUsual{
		PerSecond: map[string]float64{"codec-3": 0.2, "hog-1": 25, "hog-2": 20}, Over: time.Minute,
		After: map[string]float64{"hog-1": 24, "hog-2": 21}, // the window after: the codec is idle again
	}
	s := stall.SchedStall(lag, during, usual, 2)
	fmt.Println(s.Session, s.Blocked, s.Confidence)
	// Output: codec-3 320ms 1
}
