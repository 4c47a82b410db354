package fold_test

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/openrtc-go/introspect/events"
	"github.com/openrtc-go/introspect/fold"
	"github.com/openrtc-go/introspect/recorder"
)

// The saturation recording: what a worker written from the README records
// when seven sessions block a shared loop one after another, then a hog eats
// the CPU and the ordinary calls' holds of the mixer grow long only because
// they waited for a CPU. Its moments, from genStart:
//
//   - stall-1 … stall-7 each hold the mixer (stall-k from k s) for 300 ms,
//     parked: an ongoing report caught "blocked" at 60 ms, the final at the end;
//   - hog-1 eats the CPU from 20 s to 40 s (the CPU windows are of 5 s, as
//     the worker's default);
//   - call-1 … call-5 hold the mixer from 30 s for 70 ms: an ongoing report
//     without a cause at 60 ms (no profile caught them), their hold ends at
//     30.07 s, and their final reports come at 34 s, when the CPU window
//     that covers them is in: waiting-for-cpu, starved by hog-1; call-5's
//     final report gives no cause at all;
//   - stall-8 holds the roster from 31 s for 1 s, its ongoing reports each
//     time its length doubled (no cause: it runs);
//   - the scheduler lags five times during the hog phase: once put on
//     hog-1, four times on no session.
var saturation struct {
	culprits []string // stall-1 … stall-8
	victims  []string // call-1 … call-5
	unknown  string   // the victim whose final report gave no cause
}

func init() {
	for k := 1; k <= 8; k++ {
		saturation.culprits = append(saturation.culprits, fmt.Sprintf("stall-%d", k))
	}
	for k := 1; k <= 5; k++ {
		saturation.victims = append(saturation.victims, fmt.Sprintf("call-%d", k))
	}
	saturation.unknown = "call-5"
}

// writeSaturation writes the saturation recording through the real
// recorder and returns its path.
func writeSaturation(tb testing.TB, dir string) string {
	tb.Helper()
	path := filepath.Join(dir, "saturation.zst")
	em := &emitter{now: genStart}
	rec, err := recorder.Create(path, &recorder.Options{Keyframer: fold.New(), Clock: func() time.Time { return em.now }})
	if err != nil {
		tb.Fatal(err)
	}
	em.rec = rec
	at := func(d time.Duration) time.Time { return genStart.Add(d) }
	ms := time.Millisecond
	sec := time.Second
	type timed struct {
		t time.Time
		e events.Event
	}
	var evs []timed
	add := func(t time.Time, e events.Event) { evs = append(evs, timed{t, e}) }
	add(at(0), events.WorkerStart{Worker: "sat", PID: 7, Host: "box", GoVersion: "go1.26.8",
		Config: events.Config{SampleInterval: sec, CPUWindow: 5 * sec, SlowThreshold: 50 * ms,
			SlowWindow: 5 * sec, KeyframeInterval: 10 * time.Minute}})
	var all []string
	all = append(all, saturation.culprits...)
	all = append(all, saturation.victims...)
	all = append(all, "hog-1", "idle-1", "idle-2", "idle-3")
	for _, id := range all {
		add(at(ms), events.SessionStart{SessionID: id, Agent: "voice", Tenant: "acme"})
	}
	id := uint64(0)
	for k := 1; k <= 7; k++ {
		id++
		start := at(time.Duration(k) * sec)
		st := events.SlowSession{StallID: id, SessionID: fmt.Sprintf("stall-%d", k), Agent: "voice", Source: "mixer",
			Confidence: 1, Frame: fmt.Sprintf("worker/main.go:%d main.stall%d", 100+k, k), FrameFrom: events.FrameHolder,
			Stack: []string{fmt.Sprintf("worker/main.go:%d main.stall%d", 100+k, k)}, Start: start,
			Blocked: 60 * ms, Ongoing: true, Cause: events.CauseBlocked, Wait: "sleep"}
		add(start.Add(60*ms), st)
		st.Blocked, st.Ongoing = 300*ms, false
		add(start.Add(300*ms), st)
	}
	// stall-8 runs on the roster for a second: reported at 50, 100, 200,
	// 400 and 800 ms, then finally, running.
	id++
	s8 := events.SlowSession{StallID: id, SessionID: "stall-8", Agent: "voice", Source: "roster", Confidence: 1,
		Frame: "worker/main.go:180 main.spin", FrameFrom: events.FrameHolder, Stack: []string{"worker/main.go:180 main.spin"},
		Start: at(31 * sec), Ongoing: true}
	for _, d := range []time.Duration{50, 100, 200, 400, 800} {
		s8.Blocked = d * ms
		add(at(31*sec+d*ms), s8)
	}
	s8.Blocked, s8.Ongoing, s8.Cause, s8.HoldCPU, s8.HoldCPUSeen = sec, false, events.CauseRunning, 900*ms, true
	add(at(35*sec), s8)
	for _, v := range saturation.victims {
		id++
		st := events.SlowSession{StallID: id, SessionID: v, Agent: "voice", Source: "mixer", Confidence: 1,
			Start: at(30 * sec), Blocked: 60 * ms, Ongoing: true}
		add(at(30*sec+60*ms), st)
		st.Blocked, st.Ongoing = 70*ms, false
		st.Frame, st.FrameFrom, st.Stack = "worker/main.go:192 main.ordinary", events.FrameLeave, []string{"worker/main.go:192 main.ordinary"}
		st.HoldCPUSeen = true
		if v != saturation.unknown {
			st.Cause, st.StarvedBy = events.CauseWaitingForCPU, map[string]float64{"hog-1": 88}
		}
		add(at(34*sec), st)
	}
	for k := range 5 {
		id++
		st := events.SlowSession{StallID: id, Source: events.SourceScheduler, Start: at(time.Duration(21+3*k) * sec), Blocked: 80 * ms}
		if k == 0 {
			st.SessionID, st.Agent, st.Confidence = "hog-1", "voice", 0.9
		}
		add(at(time.Duration(22+3*k)*sec), st)
	}
	// A sample a second, a CPU window every five.
	for s := 1; s <= 45; s++ {
		smp := events.Sample{RSSBytes: 64 << 20, Sessions: len(all), Goroutines: 40, Runnable: -1, Running: -1, Waiting: -1,
			HeapBytes: 32 << 20}
		if s%5 == 0 {
			w := events.CPUWindow{Duration: 5 * sec, Period: 10 * ms, Sessions: map[string]int64{}}
			for _, id := range all {
				w.Sessions[id] = 2
			}
			if s > 20 && s <= 40 {
				w.Sessions["hog-1"] = 450
			}
			for _, n := range w.Sessions {
				w.Total += n
			}
			w.Unlabelled = 10
			w.Total += w.Unlabelled
			smp.CPU = w
		}
		add(at(time.Duration(s)*sec), smp)
	}
	slices.SortStableFunc(evs, func(a, b timed) int { return a.t.Compare(b.t) })
	for _, e := range evs {
		em.emit(e.t, e.e)
	}
	em.emit(at(46*sec), events.WorkerStop{Reason: "done"})
	if err := rec.Close(); err != nil {
		tb.Fatal(err)
	}
	if em.err != nil {
		tb.Fatal(em.err)
	}
	return path
}

// TestVictimsRankBelowCulprits: at any moment, a holder whose stalls only
// waited for a CPU, or whose stalls' cause is still to come or unknown,
// ranks below every session that caused a stall and below the CPU hog; and
// the header's "ongoing" counts only holds that may still be held, the
// ended ones whose final report is still to come apart.
func TestVictimsRankBelowCulprits(t *testing.T) {
	set, err := recorder.Open(writeSaturation(t, t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name             string
		at               time.Duration
		ongoing, pending int
		victimsPending   bool // the victims' stalls await their final report
		first            []string
	}{
		{name: "before the victims", at: 29 * time.Second},
		{name: "victims holding", at: 30*time.Second + 65*time.Millisecond, ongoing: 5},
		{name: "victims' holds ended, causes to come; stall-8 holding", at: 31*time.Second + 500*time.Millisecond,
			ongoing: 1, pending: 5, victimsPending: true},
		{name: "stall-8 ended too, its cause to come", at: 33 * time.Second, pending: 6, victimsPending: true},
		{name: "victims judged", at: 34*time.Second + 500*time.Millisecond, pending: 1},
		{name: "all judged", at: 36 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := fold.StateAt(set, genStart.Add(tc.at))
			if err != nil {
				t.Fatal(err)
			}
			v := s.View(genStart.Add(tc.at))
			if h := v.Worker; h.OngoingStalls != tc.ongoing || h.PendingStalls != tc.pending {
				t.Errorf("header: %d ongoing, %d pending; want %d, %d", h.OngoingStalls, h.PendingStalls, tc.ongoing, tc.pending)
			}
			rows := v.Sessions
			fold.SortRows(rows, fold.SortAttention)
			place := map[string]int{}
			for i, r := range rows {
				place[r.SessionID] = i
			}
			lastCulprit := -1
			for _, r := range rows {
				if r.Caused() > 0 || r.SessionID == "hog-1" && tc.at >= 25*time.Second {
					lastCulprit = max(lastCulprit, place[r.SessionID])
				}
			}
			for _, id := range saturation.victims {
				r := rows[place[id]]
				if r.Caused() > 0 && tc.at > 31*time.Second {
					t.Errorf("%s: %d stalls caused (%+v)", id, r.Caused(), r)
				}
				if place[id] < lastCulprit && tc.at > 31*time.Second {
					t.Errorf("victim %s at row %d, above a culprit at row %d", id, place[id], lastCulprit)
				}
				if got := r.PendingStalls > 0; got != tc.victimsPending && tc.at > 30*time.Second {
					t.Errorf("%s: %d pending, want pending %v", id, r.PendingStalls, tc.victimsPending)
				}
			}
			if tc.at >= 35*time.Second {
				if r := rows[place[saturation.unknown]]; r.UnknownStalls != 1 {
					t.Errorf("%s: %d unknown stalls, want 1", saturation.unknown, r.UnknownStalls)
				}
			}
			// A hold still going on counts against its holder: only
			// once it ends do the victims leave the findings.
			for _, f := range fold.ViewFindings(v) {
				if slices.Contains(saturation.victims, f.SessionID) && tc.at > 31*time.Second {
					t.Errorf("a finding on a victim: %s", f.Title)
				}
			}
		})
	}
}

// TestSummaryOnSaturation: the summary of the saturation recording names
// every culprit (the first three a finding each, the rest in one finding),
// keeps the victims and the undecided out of the blocking findings, says
// how many scheduler stalls were put on whom, and orders the places of
// stalls with the holders' own first, the victims' marked.
func TestSummaryOnSaturation(t *testing.T) {
	set, err := recorder.Open(writeSaturation(t, t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	r, err := fold.ReadReport(set.Scan(), nil)
	if err != nil {
		t.Fatal(err)
	}
	s := r.Summary()
	var text []string
	blocking := map[string]bool{}
	for _, f := range s.Findings {
		text = append(text, f.Title)
		if f.Section == fold.SectionBlocking && !strings.Contains(f.Title, "no cause known") {
			for _, id := range append(append([]string{}, saturation.culprits...), saturation.victims...) {
				if strings.Contains(f.Title, id+" ") {
					blocking[id] = true
				}
			}
		}
	}
	all := strings.Join(text, "\n")
	for _, tc := range []struct {
		what string
		ok   bool
	}{
		{"every culprit in a blocking finding", len(blocking) == len(saturation.culprits) && !blocking["call-1"]},
		{"the rest in one finding", strings.Contains(all, "5 more holders also blocked shared loops or sections: ")},
		{"the scheduler's stalls by whom", strings.Contains(all, "the scheduler lagged 5 times, worst 80ms; 1 put on hog-1, 4 on no session")},
		{"the victims blamed on the hog", strings.Contains(all, "4 holds of shared loops by 4 sessions waited for a CPU") && strings.Contains(all, "the CPU went to hog-1")},
		{"the undecided counted apart", strings.Contains(all, "1 hold of shared loops by 1 session ended with no cause known")},
		{"the places capped visibly", len(s.StallGroups) == fold.SummaryTop && s.MoreStallGroups == 5 && s.MoreStalls == 4+5},
		{"the victims' place last, marked", func() bool {
			g := fold.GroupStalls(r.Stalls())
			last := g[len(g)-1]
			return last.Count == 5 && last.Victims == 4 && last.Undecided == 1 && last.CausedMs == 0 &&
				slices.Equal(last.StarvedBy, []string{"hog-1"}) && g[0].Sessions[0] == "stall-8"
		}()},
	} {
		if !tc.ok {
			t.Errorf("%s: no; findings:\n%s\n%d groups, %d more of %d stalls", tc.what, all, len(s.StallGroups), s.MoreStallGroups, s.MoreStalls)
		}
	}
}
