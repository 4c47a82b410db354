package fold_test

import (
	"strings"
	"testing"
	"time"

	"github.com/openrtc-go/introspect/events"
	"github.com/openrtc-go/introspect/fold"
)

// A holder that waited for a CPU the hogs were eating is not a culprit: the
// summary's blocking findings leave it out and the CPU finding names the hog;
// a holder that blocked is still blamed. A report written late is dated by
// its start.
func TestSummaryBlamesTheHogNotTheStarvedHolder(t *testing.T) {
	at := func(d time.Duration) time.Time { return genStart.Add(d) }
	ms := time.Millisecond
	lines := [][]byte{
		jsonLine(t, at(0), events.WorkerStart{Worker: "w", PID: 7, Host: "h"}),
		jsonLine(t, at(0), events.SessionStart{SessionID: "hog", Agent: "x"}),
		jsonLine(t, at(0), events.SessionStart{SessionID: "victim", Agent: "x"}),
		jsonLine(t, at(0), events.SessionStart{SessionID: "sleeper", Agent: "x"}),
		jsonLine(t, at(3*time.Second), events.SlowSession{StallID: 1, SessionID: "victim", Source: "mixer", Blocked: 400 * ms,
			Confidence: 1, Frame: "mix.go:9 main.mix", FrameFrom: events.FrameHolder, Start: at(time.Second),
			Cause: events.CauseWaitingForCPU, HoldCPUSeen: true, StarvedBy: map[string]float64{"hog": 91}}),
		jsonLine(t, at(4*time.Second), events.SlowSession{StallID: 2, SessionID: "sleeper", Source: "mixer", Blocked: 120 * ms,
			Confidence: 1, Frame: "mix.go:20 main.load", FrameFrom: events.FrameHolder, Cause: events.CauseBlocked, Wait: "IO wait"}),
	}
	r := fold.NewReport()
	for _, l := range lines {
		_ = r.Line(l)
	}
	s := r.Summary()
	var blocking, hot []fold.Finding
	for _, f := range s.Findings {
		switch f.Section {
		case fold.SectionBlocking:
			blocking = append(blocking, f)
		case fold.SectionCPUHot:
			hot = append(hot, f)
		}
	}
	if len(blocking) != 1 || blocking[0].SessionID != "sleeper" {
		t.Errorf("blocking findings %+v, want only the sleeper", blocking)
	}
	if len(hot) != 1 || hot[0].SessionID != "hog" || !strings.Contains(hot[0].Title, "hog") || !strings.Contains(hot[0].Title, "not their holders' fault") {
		t.Errorf("cpu findings %+v, want the hog blamed for the starved hold", hot)
	}
	stalls := r.Stalls()
	if len(stalls) != 2 || !stalls[0].At.Equal(at(time.Second+400*ms)) || !stalls[0].Start().Equal(at(time.Second)) || !stalls[0].Victim() {
		t.Errorf("stalls %+v, want the victim's dated by its start and ending 1.4s in", stalls)
	}
}
